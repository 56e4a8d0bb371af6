"""Typed settings and their layering.

Layers, lowest first: defaults < user TOML (``~/.config/agentls/config.toml``, via platformdirs)
< workspace ``agentls.toml`` < environment (``AGENTLS_SECTION__KEY``, plus ``ANTHROPIC_API_KEY`` and
``ANTHROPIC_BASE_URL``) < editor settings (LSP ``initializationOptions.settings`` and
``workspace/didChangeConfiguration``).

A bad value never stops the server: the offending key is dropped from its layer, the next layer
down (ultimately the default) wins, and a warning names the layer, the key and the reason. We
validate with pydantic; the tolerant per-key merge is ours because pydantic-settings validates the
merged result as a whole and cannot say which layer a bad value came from.
"""

from __future__ import annotations

import contextlib
import json
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError
from pydantic.alias_generators import to_camel

from agentls.choices import Effort, ThinkingDisplay, ThinkingMode

DEFAULT_MODEL = "claude-sonnet-5-5"
ENV_PREFIX = "AGENTLS_"
#: ``AGENTLS_*`` variables that are not settings.
ENV_RESERVED = frozenset({"AGENTLS_CONFIG", "AGENTLS_DATA_DIR"})
WORKSPACE_CONFIG = "agentls.toml"


class _Section(BaseModel):
    """Accepts snake_case (TOML, env) and camelCase (editor settings); rejects unknown keys."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", validate_default=True
    )


class RetrySettings(_Section):
    """Retries of a failed model turn (429, 529, 5xx, dropped connections) and the circuit breaker."""

    max_attempts: int = Field(4, ge=1, le=20)
    base_delay_s: float = Field(1.0, ge=0)
    max_delay_s: float = Field(30.0, ge=0)
    #: After this many consecutive failed turns, fail fast for ``breaker_reset_s``.
    breaker_threshold: int = Field(5, ge=1)
    breaker_reset_s: float = Field(30.0, ge=0)


class ModelSettings(_Section):
    provider: Literal["anthropic"] = "anthropic"
    name: str = Field(DEFAULT_MODEL, min_length=1)
    #: Output tokens per turn, thinking included; checked against the model's limit before a request.
    max_tokens: int = Field(32_000, ge=1, le=1_000_000)
    #: ``output_config.effort``; unset: the model's default (``high`` on most, ``medium`` on Opus 5.5).
    effort: Effort | None = None
    #: ``adaptive``: the model decides when and how much to think (on by default on current models);
    #: ``between_tools``: no up-front thinking, only short updates between tool calls (Sonnet 5.5);
    #: ``disabled``: no thinking, on the models that allow it.
    thinking: ThinkingMode = "adaptive"
    #: ``summarized``: thinking text comes back and shows as progress; ``omitted``: only signatures.
    thinking_display: ThinkingDisplay = "summarized"
    base_url: str | None = None
    api_key: SecretStr | None = None
    timeout_s: float = Field(600.0, gt=0)
    retry: RetrySettings = Field(default_factory=RetrySettings)


class Price(_Section):
    """US dollars per million tokens."""

    input: float = Field(ge=0)
    output: float = Field(ge=0)
    cache_write: float = Field(ge=0)
    cache_read: float = Field(ge=0)


#: Settings that no longer exist, with what to say once when a configuration still sets them.
REMOVED: dict[tuple[str, ...], str] = {
    ("model", "temperature"): "current Claude models reject sampling parameters (temperature, top_p, top_k); "
                              "the setting is ignored and requests are sent without it. Remove it; "
                              "model.effort and model.thinking control how the model works",
}


class BudgetSettings(_Section):
    """Per-session limits; the loop stops with a clear message when one is reached."""

    max_tokens: int | None = Field(None, ge=1)
    max_usd: float | None = Field(None, gt=0)


class DiagnosticsSettings(_Section):
    enabled: bool = True
    debounce_ms: int = Field(150, ge=0, le=10_000)
    #: Languages whose standalone syntax diagnostics are published. ``None``: those whose grammar
    #: raises no false alarms on real code (``publish_diagnostics`` in grammars/languages.toml).
    languages: list[str] | None = None


DEFAULT_DENY = (".env", ".env.*", "*.pem", "*.key", "id_rsa*", "id_ed25519*", "id_ecdsa*", ".git/", ".git/**",
                ".netrc", ".npmrc", ".pypirc")


class CommandSettings(_Section):
    """``run_command``: off unless enabled; each command must match an allowed pattern."""

    enabled: bool = False
    #: fnmatch patterns over the whole command line, e.g. ``"pytest*"``, ``"npm test"``.
    allow: list[str] = Field(default_factory=list)
    #: Run without bubblewrap when it is not installed (otherwise such runs are refused).
    allow_unsandboxed: bool = False
    timeout_s: float = Field(120.0, gt=0)
    max_output_chars: int = Field(30_000, ge=1_000)


class ToolsSettings(_Section):
    #: Paths never read or written (gitignore-style globs, relative to the workspace root).
    deny: list[str] = Field(default_factory=lambda: list(DEFAULT_DENY))
    max_file_bytes: int = Field(1_000_000, ge=1_000)
    run_command: CommandSettings = Field(default_factory=CommandSettings)
    #: The API's own tools, run by Anthropic (off unless listed): ``web_search`` ($10 per 1,000 searches),
    #: ``web_fetch``, ``code_execution`` (a sandboxed container; its files reach the workspace only as
    #: proposals).
    server: list[Literal["web_search", "web_fetch", "code_execution"]] = Field(default_factory=list)


class CheckpointSettings(_Section):
    """A shadow git history of every agent change (never the user's own repository)."""

    enabled: bool = True
    retention: int = Field(200, ge=1, le=100_000)
    #: Larger files are skipped (and listed) rather than stored.
    max_file_bytes: int = Field(5_000_000, ge=1_000)


class AgentSettings(_Section):
    max_turns: int = Field(40, ge=1, le=500)
    #: Rounds of "your change introduced these syntax errors" feedback before offering it anyway.
    repair_rounds: int = Field(2, ge=0, le=10)
    budget: BudgetSettings = Field(default_factory=BudgetSettings)
    #: The context window in tokens a session is compacted near; unset: the model's (1M on current models).
    context_window: int | None = Field(None, ge=4_096)
    #: Share of the context window at which older turns are summarised.
    compact_at: float = Field(0.8, gt=0.1, le=0.98)
    #: Tool results longer than this are cut in the middle, with a note saying so.
    max_tool_result_chars: int = Field(40_000, ge=1_000)


class ContextSettings(_Section):
    """What the context engine shows the model: the symbol index, the repo map, the parts of an edit."""

    enabled: bool = True
    #: Files larger than this are not indexed (generated or vendored code, data).
    max_file_bytes: int = Field(500_000, ge=1_000)
    #: Workspaces with more files than this are indexed only up to it (the rest is left out and logged).
    max_files: int = Field(200_000, ge=1)
    #: Token budgets of the parts of an edit's context.
    repo_map_tokens: int = Field(1_024, ge=0, le=32_000)
    definitions_tokens: int = Field(3_000, ge=0, le=64_000)
    scope_tokens: int = Field(1_500, ge=0, le=32_000)
    imports_tokens: int = Field(400, ge=0, le=8_000)
    #: Index worker processes (0: one per CPU).
    workers: int = Field(0, ge=0, le=64)


class DebugSettings(_Section):
    """For finding problems: off by default."""

    #: Log every stall of the language server's event loop over this many milliseconds, with the stack
    #: it was in (0: off).
    loop_stall_ms: int = Field(0, ge=0, le=60_000)


class Settings(_Section):
    model: ModelSettings = Field(default_factory=ModelSettings)
    agent: AgentSettings = Field(default_factory=AgentSettings)
    #: Price overrides by fnmatch pattern over the model name (first match wins); the built-in model
    #: table (providers/models.py) prices every known model.
    prices: dict[str, Price] = Field(default_factory=dict)
    diagnostics: DiagnosticsSettings = Field(default_factory=DiagnosticsSettings)
    tools: ToolsSettings = Field(default_factory=ToolsSettings)
    checkpoints: CheckpointSettings = Field(default_factory=CheckpointSettings)
    context: ContextSettings = Field(default_factory=ContextSettings)
    debug: DebugSettings = Field(default_factory=DebugSettings)
    review: Literal["inline", "confirm"] = "inline"
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    log_file: str | None = None


@dataclass(frozen=True)
class Layer:
    """One source of settings: a human-readable name and its raw (nested) values."""

    name: str
    values: Mapping[str, Any]


@dataclass
class LoadedSettings:
    settings: Settings
    warnings: list[str] = field(default_factory=list)
    layers: list[Layer] = field(default_factory=list)


def user_config_path() -> Path:
    from platformdirs import user_config_dir  # lazy: keeps start-up light

    return Path(user_config_dir("agentls", appauthor=False)) / "config.toml"


def read_toml_layer(path: Path, name: str) -> tuple[Layer | None, str | None]:
    """Read a TOML file as a layer; a missing file is no layer, a broken one a warning."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None, None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        return None, f"{name} ({path}) could not be read and is ignored: {exc}"
    return Layer(f"{name} ({path})", data), None


def env_layer(environ: Mapping[str, str]) -> Layer | None:
    """``AGENTLS_MODEL__NAME=x`` -> ``{"model": {"name": "x"}}``; JSON lists/objects are parsed."""
    values: dict[str, Any] = {}
    for standard, key in (("ANTHROPIC_API_KEY", "api_key"), ("ANTHROPIC_BASE_URL", "base_url")):
        if environ.get(standard):
            values.setdefault("model", {})[key] = environ[standard]
    for name, raw in environ.items():
        if not name.startswith(ENV_PREFIX) or name in ENV_RESERVED:
            continue
        path = [part.lower() for part in name[len(ENV_PREFIX) :].split("__") if part]
        if not path:
            continue
        value: Any = raw
        if raw[:1] in "[{":
            with contextlib.suppress(json.JSONDecodeError):
                value = json.loads(raw)
        node = values
        for part in path[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                break
            node = child
        else:
            node[path[-1]] = value
    return Layer("environment", values) if values else None


def _merge(base: dict[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in top.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _without(values: Mapping[str, Any], loc: tuple[str | int, ...]) -> dict[str, Any]:
    """A copy of ``values`` with the key at ``loc`` removed (or the deepest existing parent)."""
    copy = dict(values)
    key = loc[0]
    if len(loc) > 1 and isinstance(copy.get(str(key)), Mapping):
        copy[str(key)] = _without(copy[str(key)], loc[1:])
    else:
        copy.pop(str(key), None)
    return copy


def _alias_free(values: Mapping[str, Any]) -> dict[str, Any]:
    """Normalise camelCase keys to snake_case so layers merge key by key; a null (an editor's unset
    setting, VS Code's default for ours) is no value at all."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        if value is None:
            continue
        snake = "".join("_" + c.lower() if c.isupper() else c for c in str(key))
        out[snake] = _alias_free(value) if isinstance(value, Mapping) else value
    return out


def _describe(error: Mapping[str, Any]) -> str:
    key = ".".join(str(part) for part in error["loc"])
    if error["type"] == "extra_forbidden":
        return f"unknown setting '{key}' ignored"
    value = error.get("input")
    shown = "<hidden>" if "key" in key else repr(value)
    return f"'{key}' = {shown} is invalid ({error['msg']}) and is ignored"


def _drop_removed(values: dict[str, Any], layer: str, warnings: list[str]) -> dict[str, Any]:
    """``values`` without the settings that no longer exist, each named in one warning."""
    for path, reason in REMOVED.items():
        node: Any = values
        for part in path[:-1]:
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, dict) and path[-1] in node:
            warnings.append(f"{layer}: '{'.'.join(path)}' is no longer supported: {reason}")
            values = _without(values, path)
    return values


def resolve(layers: list[Layer]) -> LoadedSettings:
    """Merge layers lowest first, dropping each invalid key from the layer that set it."""
    warnings: list[str] = []
    accepted: dict[str, Any] = {}
    kept: list[Layer] = []
    for layer in layers:
        values = _drop_removed(_alias_free(layer.values), layer.name, warnings)
        for _ in range(50):  # each round drops at least one bad key
            try:
                Settings.model_validate(_merge(accepted, values))
                break
            except ValidationError as exc:
                for error in exc.errors():
                    warnings.append(f"{layer.name}: {_describe(error)}")
                    values = _without(values, tuple(error["loc"]))
        else:  # pragma: no cover - defensive: a layer that never validates is dropped whole
            warnings.append(f"{layer.name}: ignored, its values could not be validated")
            values = {}
        accepted = _merge(accepted, values)
        kept.append(Layer(layer.name, values))
    return LoadedSettings(Settings.model_validate(accepted), warnings, kept)


def load_settings(
    workspace: Path | None = None,
    editor: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    user_config: Path | None = None,
) -> LoadedSettings:
    """Load every layer for ``workspace`` and resolve them (see the module docstring)."""
    environ = os.environ if environ is None else environ
    warnings: list[str] = []
    layers: list[Layer] = []
    user_path = user_config or Path(environ.get("AGENTLS_CONFIG") or user_config_path())
    candidates = [(user_path, "user config")]
    if workspace is not None:
        candidates.append((workspace / WORKSPACE_CONFIG, "workspace config"))
    for path, name in candidates:
        layer, warning = read_toml_layer(path, name)
        if warning:
            warnings.append(warning)
        if layer:
            layers.append(layer)
    if (env := env_layer(environ)) is not None:
        layers.append(env)
    if editor:
        layers.append(Layer("editor settings", editor))
    loaded = resolve(layers)
    loaded.warnings[:0] = warnings
    return loaded
