"""Token counts for budgets: a calibrated estimate, not a tokenizer.

Anthropic's tokenizer is not published, and its count_tokens endpoint is a network round trip per
call: too slow for fitting a repo map by bisection, and unavailable offline. So budgets use an
estimate of UTF-8 bytes per token. It starts conservative (code averages about 3.5 bytes per token
with Claude's tokenizer; we assume 3.0, so a budget is rarely exceeded in reality) and is calibrated
from real usage: every model turn reports the request's input tokens, and the session feeds the
request's size and that count to ``observe``. Calibration only lowers the estimate's error, never
the guarantee that a fitted text's *estimated* count is within its budget.
"""

from __future__ import annotations

import math
import threading

DEFAULT_BYTES_PER_TOKEN = 3.0
#: Calibration moves the ratio at most into this range (guards against odd requests: images, say).
MIN_BYTES_PER_TOKEN = 2.0
MAX_BYTES_PER_TOKEN = 4.5
#: Weight of a new observation in the running average.
SMOOTHING = 0.2


class TokenCounter:
    def __init__(self, bytes_per_token: float = DEFAULT_BYTES_PER_TOKEN) -> None:
        self._ratio = bytes_per_token
        self._lock = threading.Lock()
        self.observations = 0

    @property
    def bytes_per_token(self) -> float:
        return self._ratio

    def count(self, text: str) -> int:
        if not text:
            return 0
        return math.ceil(len(text.encode("utf-8", "surrogatepass")) / self._ratio)

    def observe(self, request_bytes: int, input_tokens: int) -> None:
        """Calibrate from a real request: its serialised size and the input tokens the API billed."""
        if request_bytes <= 0 or input_tokens <= 0:
            return
        seen = min(MAX_BYTES_PER_TOKEN, max(MIN_BYTES_PER_TOKEN, request_bytes / input_tokens))
        with self._lock:
            self._ratio = seen if self.observations == 0 else (1 - SMOOTHING) * self._ratio + SMOOTHING * seen
            self.observations += 1

    def truncate(self, text: str, budget: int) -> str:
        """The longest prefix of whole lines of ``text`` whose count is within ``budget``."""
        if self.count(text) <= budget:
            return text
        lines = text.splitlines(keepends=True)
        lo, hi = 0, len(lines)
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if self.count("".join(lines[:mid])) <= budget:
                lo = mid
            else:
                hi = mid - 1
        return "".join(lines[:lo])


#: The process-wide counter (calibrated by every session in this process).
COUNTER = TokenCounter()
