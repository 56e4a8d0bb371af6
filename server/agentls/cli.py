"""The ``agentls`` command: ``serve``, ``run`` (headless agent), ``usage`` and ``doctor``.

Heavy modules are imported inside each subcommand so ``agentls serve`` starts fast.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from agentls import __version__


def _host_port(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit():
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {value!r}")
    return host or "127.0.0.1", int(port)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="agentls", description="A coding agent inside a language server.")
    parser.add_argument("--version", action="version", version=f"agentls {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    serve = sub.add_parser("serve", help="run the language server (stdio by default)")
    transport = serve.add_mutually_exclusive_group()
    transport.add_argument("--stdio", action="store_true", help="talk LSP over stdin/stdout (default)")
    transport.add_argument("--tcp", type=_host_port, metavar="HOST:PORT", help="listen on a TCP port")
    serve.add_argument("--log-file", help="also write the log to this file")
    serve.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])

    run = sub.add_parser("run", help="run the agent on a task without an editor")
    run.add_argument("task", help="what the agent should do")
    run.add_argument("--workspace", default=".", help="workspace directory (default: current)")
    run.add_argument("--yes", "-y", action="store_true", help="apply the changes without asking")
    run.add_argument("--json", action="store_true", help="print a machine-readable result on stdout")
    run.add_argument("--model", help="model to use (overrides model.name)")

    usage = sub.add_parser("usage", help="tokens and cost of recent agent sessions")
    usage.add_argument("--workspace", default=".", help="workspace directory (default: current)")
    usage.add_argument("--all", action="store_true", help="sessions of every workspace")
    usage.add_argument("--limit", type=int, default=20, help="how many sessions (default 20)")
    usage.add_argument("--json", action="store_true", help="machine-readable output")

    doctor = sub.add_parser("doctor", help="show what is configured and what is missing")
    doctor.add_argument("--workspace", default=".", help="workspace directory (default: current)")
    doctor.add_argument("--json", action="store_true", help="machine-readable output")
    return parser


def serve(args: argparse.Namespace) -> int:
    import logging

    from agentls import logs
    from agentls.lsp.log_messages import LogMessageHandler
    from agentls.lsp.server import create_server

    logs.setup(args.log_level, args.log_file)
    server = create_server()
    logging.getLogger(logs.ROOT).addHandler(LogMessageHandler(server))
    if args.tcp:
        server.start_tcp(*args.tcp)
    else:
        server.start_io()
    return 0


def doctor(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    from agentls.doctor import run_checks

    checks = run_checks(Path(args.workspace).resolve())
    if args.json:
        print(json.dumps([c.as_dict() for c in checks], indent=2))
    else:
        width = max(len(c.name) for c in checks)
        for check in checks:
            print(f"{check.status.upper():7} {check.name:{width}}  {check.detail}")
            if check.hint and check.status != "ok":
                print(f"{'':7} {'':{width}}  -> {check.hint}")
    return 1 if any(c.status == "missing" for c in checks) else 0


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from agentls.headless import RunOptions
    from agentls.headless import run as run_headless

    workspace = Path(args.workspace).resolve()
    if not workspace.is_dir():
        print(f"agentls: workspace {workspace} is not a directory", file=sys.stderr)
        return 2
    return run_headless(RunOptions(workspace, args.task, args.yes, args.json, args.model))


def usage(args: argparse.Namespace) -> int:
    import json
    import time
    from dataclasses import asdict
    from pathlib import Path

    from agentls.paths import store_path
    from agentls.store.db import Store

    store = Store(store_path())
    workspace = None if args.all else str(Path(args.workspace).resolve())
    sessions = store.sessions(workspace, limit=args.limit)
    store.close()
    if args.json:
        print(json.dumps([asdict(s) for s in sessions], indent=2))
        return 0
    if not sessions:
        print("no agent sessions recorded" + ("" if args.all else f" for {workspace}"))
        return 0
    print(f"{'session':12}  {'started':16}  {'status':9}  {'turns':>5}  {'input':>9}  {'output':>8}  "
          f"{'cache w':>8}  {'cache r':>9}  {'cost':>8}  task")
    for s in sessions:
        started = time.strftime("%Y-%m-%d %H:%M", time.localtime(s.started))
        task = s.instruction if len(s.instruction) <= 40 else s.instruction[:39] + "…"
        print(f"{s.session_id:12}  {started:16}  {s.status:9}  {s.turns:>5}  {s.input_tokens:>9,}  "
              f"{s.output_tokens:>8,}  {s.cache_write_tokens:>8,}  {s.cache_read_tokens:>9,}  "
              f"${s.cost_usd:>7.4f}  {task}")
    total = sum(s.cost_usd for s in sessions)
    print(f"{len(sessions)} session(s), ${total:.4f} in total")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "serve":
        return serve(args)
    if args.command == "doctor":
        return doctor(args)
    if args.command == "run":
        return run(args)
    if args.command == "usage":
        return usage(args)
    parser.print_help(sys.stderr)
    return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
