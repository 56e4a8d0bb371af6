"""Forward warnings and errors from our loggers to the client as ``window/logMessage``."""

from __future__ import annotations

import logging
import threading

from lsprotocol import types
from pygls.lsp.server import LanguageServer

_LEVELS = {
    logging.ERROR: types.MessageType.Error,
    logging.WARNING: types.MessageType.Warning,
    logging.INFO: types.MessageType.Info,
}


class LogMessageHandler(logging.Handler):
    def __init__(self, server: LanguageServer, level: int = logging.WARNING) -> None:
        super().__init__(level)
        self._server = server
        self._busy = threading.local()

    def emit(self, record: logging.LogRecord) -> None:
        if getattr(self._busy, "active", False):
            return  # sending failed and logged about it: do not recurse
        self._busy.active = True
        try:
            kind = next((t for lvl, t in sorted(_LEVELS.items(), reverse=True) if record.levelno >= lvl),
                        types.MessageType.Log)
            # The message only: tracebacks stay in stderr / the log file.
            self._server.window_log_message(types.LogMessageParams(type=kind, message=record.getMessage()))
        except Exception:
            pass  # the connection may be gone; stderr still has the record
        finally:
            self._busy.active = False
