"""Logging: stderr (never stdout: over stdio, stdout is the protocol) and an optional log file.

The API key never reaches a log: ``SecretStr`` hides it in settings, and a filter masks anything
that looks like an Anthropic key in every record.
"""

from __future__ import annotations

import logging
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agentls.config import Settings

ROOT = "agentls"
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_file_handler: logging.Handler | None = None


class _MaskSecrets(logging.Filter):
    """No secret reaches a log line: the message and any traceback are redacted (``agentls.secrets``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        from agentls.secrets import redact

        message = record.getMessage()
        record.msg, record.args = redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


def setup(level: str = "info", log_file: str | None = None, stderr_level: str | None = None) -> None:
    """Configure the ``agentls`` logger (idempotent); ``stderr_level`` can be quieter than the file."""
    logger = logging.getLogger(ROOT)
    handler = next((h for h in logger.handlers if getattr(h, "_agentls", False)), None)
    if handler is None:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter(FORMAT))
        handler._agentls = True  # type: ignore[attr-defined]
        handler.addFilter(_MaskSecrets())
        logger.addHandler(handler)
        logger.propagate = False
    handler.setLevel((stderr_level or level).upper())
    logger.setLevel(level.upper())
    set_log_file(log_file)


def set_log_file(path: str | None) -> None:
    global _file_handler
    logger = logging.getLogger(ROOT)
    current = getattr(_file_handler, "baseFilename", None)
    if _file_handler is not None and (path is None or current != str(path)):
        logger.removeHandler(_file_handler)
        _file_handler.close()
        _file_handler = None
    if path and _file_handler is None:
        try:
            _file_handler = logging.FileHandler(path, encoding="utf-8")
        except OSError as exc:
            logger.warning("cannot open log file %s: %s", path, exc)
            return
        _file_handler.setFormatter(logging.Formatter(FORMAT))
        _file_handler.addFilter(_MaskSecrets())
        logger.addHandler(_file_handler)


def apply_settings(settings: Settings) -> None:
    logging.getLogger(ROOT).setLevel(settings.log_level.upper())
    set_log_file(settings.log_file)
