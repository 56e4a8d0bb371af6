"""Secret values that must never be written or shown: found, remembered, and redacted (a leaf module).

What counts: anything shaped like an Anthropic key (``sk-ant-…``), the configured API key whatever its shape
(a proxy's key, say), and the values of environment variables named like a secret (``*_API_KEY``,
``*_TOKEN``, ``*SECRET*``, ``*PASSWORD*``). ``redact`` is applied to everything agentls writes or shows: logs,
the audit log, the store, messages to the editor and the terminal.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Mapping

_SHAPED = re.compile(r"sk-ant-[A-Za-z0-9_\-]+")
_SECRET_NAME = re.compile(r"api[_-]?key|token|secret|passw(or)?d|credential", re.IGNORECASE)
#: Shorter values are left alone: replacing "1" or "true" everywhere would garble every message.
MIN_LENGTH = 8
MASK = "***"

_values: set[str] = set()
_ordered: tuple[str, ...] = ()
_lock = threading.Lock()
_environment_read = False


def register(value: str | None) -> None:
    """Remember ``value`` as a secret (ignored when short or empty)."""
    global _ordered
    if not value or len(value) < MIN_LENGTH or value in _values:
        return
    with _lock:
        _values.add(value)
        _ordered = tuple(sorted(_values, key=len, reverse=True))  # the longest first: no partial leftovers


def register_environment(environ: Mapping[str, str] | None = None) -> None:
    """Remember the values of the environment's secret-named variables."""
    global _environment_read
    _environment_read = True
    for name, value in (os.environ if environ is None else environ).items():
        if _SECRET_NAME.search(name):
            register(value)


def redact(text: str) -> str:
    """``text`` with every known secret replaced by ``***``."""
    if not _environment_read:
        register_environment()
    if "sk-ant-" in text:
        text = _SHAPED.sub("sk-ant-" + MASK, text)
    for value in _ordered:
        if value in text:
            text = text.replace(value, MASK)
    return text
