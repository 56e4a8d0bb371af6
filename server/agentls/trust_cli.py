"""``agentls trust``: trust (or stop trusting) the workspace's ``agentls.toml`` as it is now.

Shows the settings that wait for trust, with their values, and asks on the terminal unless ``--yes``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_trust_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    # agentls.config (pydantic) is imported only when the command runs: `agentls serve` builds this parser too.
    trust = sub.add_parser("trust", help="let the workspace's agentls.toml change sensitive settings")
    trust.add_argument("--workspace", default=".", help="workspace directory (default: current)")
    trust.add_argument("--yes", "-y", action="store_true", help="trust it without asking")
    trust.add_argument("--forget", action="store_true", help="stop trusting it")


def _values(content: bytes, keys: tuple[str, ...]) -> list[tuple[str, str]]:
    """Each dotted key with its value as the file spells it (TOML-ish, one line)."""
    import json
    import tomllib

    data = tomllib.loads(content.decode("utf-8"))
    shown = []
    for key in keys:
        node: object = data
        for part in key.split("."):  # the file may spell it camelCase; fall back to the key alone
            node = node.get(part, node.get(_camel(part))) if isinstance(node, dict) else None
        shown.append((key, json.dumps(node, default=str)))
    return shown


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def run_trust(args: argparse.Namespace) -> int:
    from agentls import trust
    from agentls.config import WORKSPACE_CONFIG, load_settings

    config = Path(args.workspace).resolve() / WORKSPACE_CONFIG
    if args.forget:
        had = trust.forget(config)
        print(f"{config}: {'no longer trusted' if had else 'was not trusted'}", file=sys.stderr)
        return 0
    if not config.is_file():
        print(f"agentls: no {config}", file=sys.stderr)
        return 1
    loaded = load_settings(config.parent)
    pending = loaded.untrusted
    if pending is None:
        print(f"{config}: nothing to trust (already trusted, or no sensitive settings)", file=sys.stderr)
        return 0
    print(f"{config} sets, as it is now:", file=sys.stderr)
    for key, value in _values(pending.content, pending.keys):
        print(f"  {key} = {value}", file=sys.stderr)
    print("These can send your API key or code elsewhere, run commands, or expose files. "
          "Any change to the file asks again.", file=sys.stderr)
    if not confirmed("Trust this file?", args.yes):
        return 1
    trust.trust(config, pending.content)
    print(f"{config}: trusted", file=sys.stderr)
    return 0


def confirmed(prompt: str, yes: bool) -> bool:
    """``--yes``, or the user typed y on the terminal; a missing terminal says how to pass --yes."""
    if yes:
        return True
    if not sys.stdin.isatty():
        print("agentls: not a terminal; pass --yes to trust it", file=sys.stderr)
        return False
    print(f"{prompt} [y/N] ", end="", file=sys.stderr, flush=True)
    if sys.stdin.readline().strip().lower() in ("y", "yes"):
        return True
    print("not trusted", file=sys.stderr)
    return False
