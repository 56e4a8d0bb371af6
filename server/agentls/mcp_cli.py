"""``agentls mcp``: the workspace's MCP servers (``list``), and trusting the ones its files declare
(``trust NAME``, ``forget NAME``).

``list`` starts every server that may start (as a session would) and shows where each was declared,
its state and its tools; a workspace server that waits for trust is shown, never started.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from agentls.trust_cli import confirmed


def add_mcp_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    mcp = sub.add_parser("mcp", help="the MCP servers whose tools the agent may use")
    actions = mcp.add_subparsers(dest="mcp_action")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--workspace", default=".", help="workspace directory (default: current)")
    listing = actions.add_parser("list", parents=[common], help="each server: where declared, state, tools")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    trust = actions.add_parser("trust", parents=[common], help="let a server a workspace file declares start")
    trust.add_argument("name", help="the server's name")
    trust.add_argument("--yes", "-y", action="store_true", help="trust it without asking")
    forget = actions.add_parser("forget", parents=[common], help="stop trusting a workspace server")
    forget.add_argument("name", help="the server's name")


def run_mcp(args: argparse.Namespace) -> int:
    if args.mcp_action is None:
        print("agentls mcp: say list, trust NAME or forget NAME (see --help)", file=sys.stderr)
        return 2
    workspace = Path(args.workspace).resolve()
    if not workspace.is_dir():
        print(f"agentls: workspace {workspace} is not a directory", file=sys.stderr)
        return 1
    if args.mcp_action == "list":
        return asyncio.run(_list(workspace, args.json))
    if args.mcp_action == "trust":
        return _trust(workspace, args.name, args.yes)
    if args.mcp_action == "forget":
        from agentls.mcp import trust

        had = trust.forget(workspace, args.name)
        print(f"MCP server '{args.name}': {'no longer trusted' if had else 'was not trusted'}", file=sys.stderr)
        return 0
    raise AssertionError(args.mcp_action)


def _trust(workspace: Path, name: str, yes: bool) -> int:
    from agentls.config import load_settings
    from agentls.mcp import sources, trust

    settings = load_settings(workspace).settings
    specs, _ = sources.discover(workspace, settings.mcp.servers)
    spec = next((s for s in specs if s.name == name), None)
    if spec is None:
        print(f"agentls: no MCP server '{name}' is declared for {workspace}", file=sys.stderr)
        return 1
    if not spec.from_workspace:
        print(f"MCP server '{name}' comes from your own settings: it is trusted already", file=sys.stderr)
        return 0
    print(f"MCP server '{name}', declared in {spec.origin}, runs:\n  {spec.describe()}", file=sys.stderr)
    if spec.env:
        print(f"  with environment variables {', '.join(key for key, _ in spec.env)}", file=sys.stderr)
    print("It runs with your permissions. Any change to its definition asks again.", file=sys.stderr)
    if not confirmed("Trust it?", yes):
        return 1
    trust.trust(workspace, spec)
    print(f"MCP server '{name}': trusted", file=sys.stderr)
    return 0


async def _list(workspace: Path, as_json: bool) -> int:
    from agentls.config import load_settings
    from agentls.mcp.hub import McpHub
    from agentls.paths import data_dir

    loaded = load_settings(workspace)
    hub = McpHub(lambda: workspace, lambda: loaded.settings, data_dir() / "mcp-logs")
    try:
        states = await hub.states()
    finally:
        await hub.aclose()
    if as_json:
        print(json.dumps([{"name": s.spec.name, "origin": s.spec.origin, "runs": s.spec.describe(),
                           "state": s.state, "detail": s.detail, "tools": list(s.tools)} for s in states], indent=2))
        return 0
    if not states:
        print(f"no MCP servers for {workspace} (declare them in your config's [mcp.servers.NAME], "
              ".mcp.json or .vscode/mcp.json)")
        return 0
    for state in states:
        print(f"{state.spec.name}  ({state.spec.origin})  {state.state}{f': {state.detail}' if state.detail else ''}")
        print(f"  runs: {state.spec.describe()}")
        if state.tools:
            print(f"  tools: {', '.join(state.tools)}")
    return 0
