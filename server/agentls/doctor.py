"""``agentls doctor``: each thing agentls needs, whether it is there, and what to do if not."""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from agentls import __version__
from agentls.config import ModelSettings, Settings, load_settings

Status = Literal["ok", "missing", "warning", "info"]


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    detail: str
    hint: str = ""

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def _version_of(command: list[str]) -> str | None:
    try:
        out = subprocess.run(command, capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return (out.stdout or out.stderr).strip().splitlines()[0] if out.returncode == 0 else None


def _grammars() -> Check:
    from agentls.syntax.languages import load_languages
    from agentls.syntax.parser import get_language

    specs = load_languages()
    missing = sorted(lang for lang in specs if get_language(lang) is None)
    published = sorted(lang for lang, spec in specs.items() if spec.publish_diagnostics)
    detail = f"{len(specs) - len(missing)}/{len(specs)} grammars load; diagnostics for {', '.join(published)}"
    if missing:
        return Check("grammars", "warning", f"{detail}; not loading: {', '.join(missing)}",
                     "reinstall agentls so its tree-sitter-* grammar wheels are present")
    return Check("grammars", "ok", detail)


def _model(model: ModelSettings) -> Check:
    """The configured model as the model table knows it: limits, prices, thinking, lifecycle."""
    from agentls.providers.models import spec_for

    endpoint = model.base_url or "api.anthropic.com"
    spec = spec_for(model.name)
    if spec is None:
        return Check("model", "info", f"{model.name} via {endpoint}: not in agentls's model table",
                     "its limits are asked of the Models API at the first session; prices default to Sonnet 5.5's")
    rates = spec.rates
    detail = (f"{model.name} via {endpoint}: {spec.context_window:,}-token context, {spec.max_output:,} output "
              f"tokens; ${rates.input:g} / ${rates.output:g} per million tokens in / out; thinking "
              f"{model.thinking} ({model.thinking_display}), effort {model.effort or 'default'}")
    if spec.lifecycle == "deprecated":
        return Check("model", "warning", detail + "; deprecated", "move to a current model (model.name)")
    if model.max_tokens > spec.max_output:
        return Check("model", "warning", detail, f"model.max_tokens ({model.max_tokens:,}) is over the model's "
                     f"limit ({spec.max_output:,}): sessions will be refused; lower it")
    return Check("model", "ok", detail)


def run_checks(workspace: Path) -> list[Check]:
    loaded = load_settings(workspace)
    settings = loaded.settings
    checks = [
        Check("agentls", "info", f"{__version__} on Python {sys.version.split()[0]} ({sys.executable})"),
        Check("workspace", "info", str(workspace)),
        Check("config", "warning" if loaded.warnings else "ok",
              "; ".join(layer.name for layer in loaded.layers) or "defaults only",
              "; ".join(loaded.warnings)),
    ]
    if settings.model.api_key is not None:
        checks.append(Check("api key", "ok", "set (not shown)"))
    else:
        checks.append(Check("api key", "missing", "no Anthropic API key",
                            "export ANTHROPIC_API_KEY=... or set model.api_key in the config"))
    checks.append(_model(settings.model))
    git = _version_of(["git", "--version"])
    checks.append(Check("git", "ok", git) if git else
                  Check("git", "missing", "git not found", "install git: checkpoints need it"))
    checks.append(_grammars())
    rg = shutil.which("rg")
    checks.append(Check("ripgrep", "ok", rg) if rg else
                  Check("ripgrep", "info", "not found; search uses the slower Python fallback",
                        "install ripgrep for faster search"))
    bwrap = shutil.which("bwrap")
    checks.append(Check("sandbox", "ok", f"bubblewrap at {bwrap}") if bwrap else
                  Check("sandbox", "warning", "bubblewrap not found: commands cannot run sandboxed",
                        "install bubblewrap (Debian/Ubuntu: apt-get install bubblewrap)"))
    checks.extend(_mcp_servers(workspace, settings))
    return checks


def _mcp_servers(workspace: Path, settings: Settings) -> list[Check]:
    """Each declared MCP server, started as a session would start it (bounded by its start-up timeout)."""
    from agentls.mcp.sources import discover, has_workspace_servers

    if not settings.mcp.servers and not has_workspace_servers(workspace):
        return []
    if not discover(workspace, settings.mcp.servers)[0]:
        return []
    import asyncio

    from agentls.mcp.hub import McpHub
    from agentls.paths import data_dir

    async def states() -> list[Any]:
        hub = McpHub(lambda: workspace, lambda: settings, data_dir() / "mcp-logs")
        try:
            return await hub.states()
        finally:
            await hub.aclose()

    checks = []
    for state in asyncio.run(states()):
        name, where = f"mcp {state.spec.name}", f"({state.spec.origin}) {state.spec.describe()}"
        if state.state == "running":
            checks.append(Check(name, "ok", f"{where}: {len(state.tools)} tools"))
        elif state.state == "disabled":
            checks.append(Check(name, "info", f"{where}: disabled"))
        elif state.state == "waiting for trust":
            checks.append(Check(name, "warning", f"{where}: waiting for your trust", state.detail))
        else:
            checks.append(Check(name, "missing", f"{where}: {state.detail or state.state}",
                                "see `agentls mcp list`; its stderr is in " + str(data_dir() / "mcp-logs")))
    return checks
