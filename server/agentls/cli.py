"""The ``agentls`` command: ``serve``, ``run`` (headless agent), ``checkpoints``, ``context``, ``usage``, ``doctor``,
``dashboard``.

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

    sub.add_parser("acp", help="run as an Agent Client Protocol agent over stdio (Zed, JetBrains, CodeCompanion)")
    serve = sub.add_parser("serve", help="run the language server (stdio by default)")
    transport = serve.add_mutually_exclusive_group()
    transport.add_argument("--stdio", action="store_true", help="talk LSP over stdin/stdout (default)")
    transport.add_argument("--tcp", type=_host_port, metavar="HOST:PORT", help="listen on a TCP port")
    serve.add_argument("--log-file", help="also write the log to this file")
    serve.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])

    run = sub.add_parser("run", help="run the agent on a task without an editor")
    run.add_argument("task", help="what the agent should do")
    run.add_argument("--workspace", default=".", help="workspace directory (default: current)")
    run.add_argument("--yes", "-y", action="store_true",
                     help="apply the changes, and run the tools of trusted MCP servers, without asking")
    run.add_argument("--json", action="store_true", help="print a machine-readable result on stdout")
    run.add_argument("--model", help="model to use (overrides model.name)")
    run.add_argument("--remember", action="store_true",
                     help="save the memory notes the agent proposes to .agentls/memory.md without asking")

    _add_checkpoints(sub)

    from agentls.plan_cli import add_plan_parser

    add_plan_parser(sub)
    from agentls.context_cli import add_context_parser

    add_context_parser(sub)
    from agentls.trust_cli import add_trust_parser

    add_trust_parser(sub)
    from agentls.mcp_cli import add_mcp_parser

    add_mcp_parser(sub)
    from agentls.dashboard.main import add_dashboard_parser

    add_dashboard_parser(sub)

    usage = sub.add_parser("usage", help="tokens and cost of recent agent sessions")
    usage.add_argument("--workspace", default=".", help="workspace directory (default: current)")
    usage.add_argument("--all", action="store_true", help="sessions of every workspace")
    usage.add_argument("--limit", type=int, default=20, help="how many sessions (default 20)")
    usage.add_argument("--json", action="store_true", help="machine-readable output")

    doctor = sub.add_parser("doctor", help="show what is configured and what is missing")
    doctor.add_argument("--workspace", default=".", help="workspace directory (default: current)")
    doctor.add_argument("--json", action="store_true", help="machine-readable output")
    return parser


def _add_checkpoints(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--workspace", default=".", help="workspace directory (default: current)")
    common.add_argument("--json", action="store_true", help="machine-readable output")
    checkpoints = sub.add_parser("checkpoints", help="list, compare and restore the agent's checkpoints")
    actions = checkpoints.add_subparsers(dest="checkpoints_command", metavar="ACTION")
    listing = actions.add_parser("list", parents=[common], help="checkpoints of the workspace, newest first")
    listing.add_argument("--limit", type=int, default=50, help="how many (default 50)")
    diff = actions.add_parser("diff", parents=[common], help="what changed since a checkpoint (unified diff)")
    diff.add_argument("id", help="checkpoint id (or a unique prefix)")
    diff.add_argument("--against", metavar="ID", help="compare with this checkpoint instead of the files now")
    diff.add_argument("paths", nargs="*", metavar="PATH",
                      help="only these files or directories, relative to the workspace")
    restore = actions.add_parser("restore", parents=[common],
                                 help="put files back as they were at a checkpoint (undoable)")
    restore.add_argument("id", help="checkpoint id (or a unique prefix)")
    restore.add_argument("paths", nargs="*", metavar="PATH",
                         help="only these files or directories, relative to the workspace (default: all)")


def checkpoints(args: argparse.Namespace) -> int:
    import json
    import time
    from dataclasses import asdict
    from pathlib import Path

    from agentls.checkpoints import Checkpoints
    from agentls.errors import CheckpointError
    from agentls.paths import data_dir, store_path
    from agentls.store.db import Store

    if args.checkpoints_command is None:
        print("agentls checkpoints: say list, diff ID or restore ID (see --help)", file=sys.stderr)
        return 2
    workspace = Path(args.workspace).resolve()
    if not workspace.is_dir():
        print(f"agentls: workspace {workspace} is not a directory", file=sys.stderr)
        return 2
    store = Store(store_path())
    manager = Checkpoints(workspace, data_dir=data_dir(), store=store)
    try:
        if args.checkpoints_command == "list":
            found = manager.list(limit=args.limit)
            if args.json:
                from agentls.checkpoints.model import created_at, human_time

                print(json.dumps([{**asdict(c), "when": human_time(c.time), "createdAt": created_at(c.time)}
                                  for c in found], indent=2))
            elif not found:
                print(f"no checkpoints for {workspace}")
            else:
                for c in found:
                    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(c.time))
                    session = f"{c.session_id}#{c.step}" if c.session_id and c.step is not None else c.session_id or ""
                    print(f"{c.id}  {when}  {c.trigger:7}  {session:14}  {c.summary}")
        elif args.checkpoints_command == "diff":
            text = manager.diff(args.id, against=args.against, paths=args.paths or None)
            if args.json:
                print(json.dumps({"id": args.id, "against": args.against, "diff": text}, indent=2))
            else:
                sys.stdout.write(text)
        else:
            result = manager.restore(args.id, args.paths or None)
            undo = f"agentls checkpoints restore {result.safety_checkpoint}"
            if args.json:
                print(json.dumps({**asdict(result), "undo": undo}, indent=2))
            else:
                for label, paths in (("restored", result.restored), ("deleted", result.deleted),
                                     ("created", result.created), ("left alone", result.skipped)):
                    for path in paths:
                        print(f"{label:10}  {path}")
                changed = len(result.restored) + len(result.deleted) + len(result.created)
                print(f"{changed} file(s) changed; safety checkpoint {result.safety_checkpoint} "
                      f"(undo with: {undo})")
    except CheckpointError as exc:
        print(f"agentls: {exc}", file=sys.stderr)
        return 1
    finally:
        manager.close()
        store.close()
    return 0


def serve(args: argparse.Namespace) -> int:
    import logging

    from agentls import logs
    from agentls.lsp.app import create_server
    from agentls.lsp.log_messages import LogMessageHandler

    logs.setup(args.log_level, args.log_file)
    # Background threads (the SDK's import, index updates, graph loads) hold the GIL in slices of the
    # switch interval; 1 ms instead of 5 ms keeps the event loop's answers prompt meanwhile.
    sys.setswitchinterval(0.001)
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
    return run_headless(RunOptions(workspace, args.task, args.yes, args.json, args.model, remember=args.remember))


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
    args, extra = parser.parse_known_args(argv)
    if extra and args.command == "checkpoints" and hasattr(args, "paths") and not any(e.startswith("-") for e in extra):
        args.paths += extra  # paths after an option: `diff ID --against ID2 src/a.py`
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    if args.command == "acp":
        from agentls.acp.main import serve as serve_acp

        return serve_acp()
    if args.command == "serve":
        return serve(args)
    if args.command == "doctor":
        return doctor(args)
    if args.command == "run":
        return run(args)
    if args.command == "usage":
        return usage(args)
    if args.command == "checkpoints":
        return checkpoints(args)
    if args.command == "plan":
        from agentls.plan_cli import run_plan

        return run_plan(args)
    if args.command == "trust":
        from agentls.trust_cli import run_trust

        return run_trust(args)
    if args.command == "mcp":
        from agentls.mcp_cli import run_mcp

        return run_mcp(args)
    if args.command == "dashboard":
        from agentls.dashboard.main import run_dashboard

        return run_dashboard(args)
    if args.command == "context":
        from agentls.context_cli import run_context

        return run_context(args)
    parser.print_help(sys.stderr)
    return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
