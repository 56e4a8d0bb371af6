"""Typed settings and their layering.

Layers, lowest first: defaults < user TOML (``~/.config/agentls/config.toml``, via platformdirs)
< workspace ``agentls.toml`` < environment (``AGENTLS_SECTION__KEY``, plus ``ANTHROPIC_API_KEY`` and
``ANTHROPIC_BASE_URL``) < editor settings (LSP ``initializationOptions.settings`` and
``workspace/didChangeConfiguration``).

Settings that can hurt the user (``SENSITIVE``: where the API key goes, what may run, the deny-list,
checkpoints, log paths) are taken from a workspace ``agentls.toml`` only once the user has trusted that
file's exact content (``agentls.trust``); until then they are dropped with one warning, and
``LoadedSettings.untrusted`` tells a front end what to ask about.

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
from typing import Any

from pydantic import ValidationError

from agentls.config.settings import REMOVED, Settings

ENV_PREFIX = "AGENTLS_"
#: ``AGENTLS_*`` variables that are not settings.
ENV_RESERVED = frozenset({"AGENTLS_CONFIG", "AGENTLS_DATA_DIR"})
WORKSPACE_CONFIG = "agentls.toml"


@dataclass(frozen=True)
class Layer:
    """One source of settings: a human-readable name and its raw (nested) values."""

    name: str
    values: Mapping[str, Any]


#: Settings a workspace config may set only once the user trusts it: each can send the API key or code
#: elsewhere, run commands, expose secrets, lose history, write files outside the workspace or spend money.
SENSITIVE: tuple[tuple[str, ...], ...] = (
    ("model", "base_url"), ("model", "api_key"), ("model", "provider"),
    ("tools", "deny"), ("tools", "run_command"), ("tools", "server"),
    ("checkpoints", "enabled"), ("checkpoints", "retention"),
    ("agent", "budget"), ("prices",), ("log_file",), ("debug",), ("mcp", "allow"),
)
#: Never taken from a workspace's ``agentls.toml`` as settings: its MCP servers are read by
#: ``agentls.mcp.sources`` with the workspace's other MCP files, and each waits for the user's trust.
WORKSPACE_OWN: tuple[tuple[str, ...], ...] = (("mcp", "servers"),)


@dataclass(frozen=True)
class UntrustedConfig:
    """A workspace config whose sensitive settings were left out until the user trusts it."""

    path: Path
    content: bytes
    #: The settings left out, dotted (``model.base_url``).
    keys: tuple[str, ...]

    @property
    def question(self) -> str:
        return (f"{self.path} sets {', '.join(self.keys)}, which can send your API key or code elsewhere "
                "or run commands. Trust this file?")


@dataclass
class LoadedSettings:
    settings: Settings
    warnings: list[str] = field(default_factory=list)
    layers: list[Layer] = field(default_factory=list)
    untrusted: UntrustedConfig | None = None


def user_config_path() -> Path:
    from platformdirs import user_config_dir  # lazy: keeps start-up light

    return Path(user_config_dir("agentls", appauthor=False)) / "config.toml"


def read_toml_layer(path: Path, name: str) -> tuple[Layer | None, str | None]:
    """Read a TOML file as a layer; a missing file is no layer, a broken one a warning."""
    layer, warning, _ = _read_toml(path, name)
    return layer, warning


def _read_toml(path: Path, name: str) -> tuple[Layer | None, str | None, bytes]:
    try:
        content = path.read_bytes()
        data = tomllib.loads(content.decode("utf-8"))
    except FileNotFoundError:
        return None, None, b""
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        return None, f"{name} ({path}) could not be read and is ignored: {exc}", b""
    return Layer(f"{name} ({path})", data), None, content


def _sensitive_keys(values: Mapping[str, Any]) -> list[tuple[str, ...]]:
    found = []
    for path in SENSITIVE:
        node: Any = values
        for part in path:
            node = node.get(part) if isinstance(node, Mapping) else None
        if node is not None:
            found.append(path)
    return found


def _untrusted_part(layer: Layer, path: Path, content: bytes) -> tuple[Layer, UntrustedConfig | None]:
    """The workspace layer without its sensitive keys, unless the user trusts this exact file."""
    values = _alias_free(layer.values)
    for key in WORKSPACE_OWN:
        values = _without(values, key)
    layer = Layer(layer.name, values)
    keys = _sensitive_keys(values)
    if not keys:
        return layer, None
    from agentls.trust import is_trusted

    if is_trusted(path, content):
        return layer, None
    for key in keys:
        values = _without(values, key)
    return Layer(layer.name, values), UntrustedConfig(path, content, tuple(".".join(key) for key in keys))


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


#: Maps whose keys are names, not settings (kept as written): MCP server names, their env and headers.
_VERBATIM_KEYS = (("mcp", "servers"), ("mcp", "servers", "*", "env"), ("mcp", "servers", "*", "headers"))


def _verbatim(path: tuple[str, ...]) -> bool:
    return any(len(path) == len(pattern) and all(p in ("*", part) for p, part in zip(pattern, path, strict=True))
               for pattern in _VERBATIM_KEYS)


def _alias_free(values: Mapping[str, Any], path: tuple[str, ...] = ()) -> dict[str, Any]:
    """Normalise camelCase keys to snake_case so layers merge key by key; a null (an editor's unset
    setting, VS Code's default for ours) is no value at all."""
    out: dict[str, Any] = {}
    verbatim = _verbatim(path)
    for key, value in values.items():
        if value is None:
            continue
        name = str(key) if verbatim else "".join("_" + c.lower() if c.isupper() else c for c in str(key))
        out[name] = _alias_free(value, (*path, name)) if isinstance(value, Mapping) else value
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
    settings = Settings.model_validate(accepted)
    if settings.model.api_key is not None:  # never written or shown, whatever its shape
        from agentls.secrets import register

        register(settings.model.api_key.get_secret_value())
    return LoadedSettings(settings, warnings, kept)


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
    untrusted: UntrustedConfig | None = None
    for path, name in candidates:
        layer, warning, content = _read_toml(path, name)
        if warning:
            warnings.append(warning)
        if layer and name == "workspace config":
            layer, untrusted = _untrusted_part(layer, path, content)
            if untrusted is not None:
                warnings.append(f"{layer.name}: {', '.join(untrusted.keys)} ignored until you trust this file "
                                "(they can send your API key or code elsewhere, or run commands): "
                                "`agentls trust` in the workspace, or answer the editor's question")
        if layer:
            layers.append(layer)
    if (env := env_layer(environ)) is not None:
        layers.append(env)
    if editor:
        layers.append(Layer("editor settings", editor))
    loaded = resolve(layers)
    loaded.warnings[:0] = warnings
    loaded.untrusted = untrusted
    return loaded
