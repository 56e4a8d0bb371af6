"""The project's exception types.

Each carries a one-line message meant for the user (``str(exc)``); details belong in the log.
The LSP layer turns them into JSON-RPC errors and ``window/showMessage``; the CLI prints them.
"""

from __future__ import annotations


class AgentlsError(Exception):
    """Base class: an expected failure with a message a person can act on."""


class InvalidRequest(AgentlsError):
    """A request's parameters are malformed (missing field, wrong type, unknown document)."""


class OutsideWorkspace(AgentlsError):
    """A path resolves outside the workspace root."""


class DeniedPath(AgentlsError):
    """A path matches the deny-list (secrets, .git/) and is never read or written."""


class FileRefused(AgentlsError):
    """A file cannot be loaded as text: binary, or over the size limit."""


class ProviderError(AgentlsError):
    """The model provider failed (after retries): rate limit, overload, network, auth, bad request."""


class BudgetExceeded(AgentlsError):
    """A session reached its token or dollar budget."""


class CheckpointError(AgentlsError):
    """A checkpoint could not be taken, listed, compared or restored; a guarded write must not happen."""
