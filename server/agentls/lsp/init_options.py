"""``initializationOptions``, typed: what a client may pass at ``initialize``, checked without pydantic
(``initialize`` is answered before pydantic loads). A wrong type or an unknown key is a warning shown
once, never a failed start."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class InitOptions:
    #: The client renders ``agentls/proposal`` inline diffs itself (the Neovim and VS Code clients do).
    inline_proposals: bool = False
    #: Settings from the editor (the ``agentls`` section, or the object itself).
    settings: dict[str, Any] = field(default_factory=dict)
    #: The client shows ``agentls/sessionStatus`` (a session's live status and its one end/failure line).
    session_status: bool = False

    @classmethod
    def parse(cls, raw: object) -> tuple[InitOptions, list[str]]:
        """The options, and a warning per value that was ignored."""
        if raw is None:
            return cls(), []
        if not isinstance(raw, Mapping):
            return cls(), [f"initializationOptions must be an object, got {type(raw).__name__}; ignored"]
        warnings = [f"initializationOptions.{key}: unknown option, ignored" for key in raw
                    if key not in ("inlineProposals", "sessionStatus", "settings")]
        flags: dict[str, bool] = {}
        for key in ("inlineProposals", "sessionStatus"):
            flags[key] = raw.get(key, False)
            if not isinstance(flags[key], bool):
                warnings.append(f"initializationOptions.{key} must be true or false, got {flags[key]!r}; "
                                "using false")
                flags[key] = False
        settings = raw.get("settings", {})
        if settings is None:
            settings = {}
        if not isinstance(settings, Mapping):
            warnings.append(f"initializationOptions.settings must be an object, got {type(settings).__name__}; "
                            "ignored")
            settings = {}
        inner = settings.get("agentls", settings)
        return cls(flags["inlineProposals"], dict(inner) if isinstance(inner, Mapping) else {},
                   flags["sessionStatus"]), warnings
