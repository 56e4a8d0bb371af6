"""The ``agentls`` command: ``serve`` (the language server) and ``doctor`` (what is set up).

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


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "serve":
        return serve(args)
    if args.command == "doctor":
        return doctor(args)
    parser.print_help(sys.stderr)
    return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
