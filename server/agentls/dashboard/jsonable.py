"""Store rows as JSON values (for the API and the live stream), with every secret redacted.

Everything the dashboard sends goes through ``plain``, so no text reaches the page unredacted, whatever
its source: an instruction stored before redaction covered it, a plan document, a symbol's signature."""

from __future__ import annotations

import dataclasses
from typing import Any

from agentls.secrets import redact


def plain(value: Any) -> Any:
    """Dataclasses, tuples and dicts as JSON values; strings redacted (``agentls.secrets``)."""
    if isinstance(value, str):
        return redact(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value
