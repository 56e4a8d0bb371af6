"""``agentls dashboard``: serve the War Room on a local port and print its URL (with the access token) first."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import logging
import os
import secrets
import socket
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agentls.dashboard.app import State

log = logging.getLogger("agentls.dashboard")

#: Tried first, so the address stays the same between runs; a free port when it is taken.
DEFAULT_PORT = 7245
LOOPBACK = ("127.0.0.1", "localhost", "::1")


def add_dashboard_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("dashboard", help="a live local web dashboard of every session, plan, change and cost")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1; anything else is reachable by others)")
    parser.add_argument("--port", type=int, default=None,
                        help=f"port (default {DEFAULT_PORT}, or a free one when that is taken; 0: any free port)")
    parser.add_argument("--no-open", action="store_true", help="do not open a browser")
    parser.add_argument("--log-level", default="warning", choices=["debug", "info", "warning", "error"])


def _listen(host: str, port: int | None) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    for candidate in ([DEFAULT_PORT, 0] if port is None else [port]):
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, candidate))
        except OSError as exc:
            sock.close()
            if exc.errno == errno.EADDRINUSE and candidate != 0 and port is None:
                continue
            raise
        sock.listen(128)
        sock.set_inheritable(True)
        return sock
    raise OSError("no free port")  # pragma: no cover: port 0 always binds


def _say_err(line: str) -> None:
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


def _url_host(host: str) -> str:
    if host in ("0.0.0.0", "::"):
        return socket.gethostname()
    return f"[{host}]" if ":" in host else host


def run_dashboard(args: argparse.Namespace) -> int:
    logging.basicConfig(stream=sys.stderr, level=args.log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
    host: str = args.host
    if host == "localhost":
        host = "127.0.0.1"
    try:
        sock = _listen(host, args.port)
    except OSError as exc:
        _say_err(f"agentls dashboard: cannot listen on {host}:{args.port}: {exc.strerror or exc}")
        return 1
    port = sock.getsockname()[1]
    loopback = host in LOOPBACK
    if not loopback:
        _say_err(f"agentls dashboard: WARNING: listening on {host}, not only this machine: anyone who can reach "
                 f"port {port} and has the URL's token sees your sessions and can restore checkpoints")

    from agentls.dashboard.codes import KEY_ENV, Codes
    from agentls.dashboard.security import allowed_hosts

    token, csrf = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    base = f"http://{_url_host(host)}:{port}/"
    url = f"{base}?token={token}"
    codes = Codes(_key(os.environ.pop(KEY_ENV, "")))  # popped: nothing this process starts inherits it
    state = _state(csrf)
    from agentls.dashboard.app import build_app

    app = build_app(state, token=token, hosts=allowed_hosts(host, port), any_ip=not loopback, codes=codes)
    sys.stdout.write(url + "\n")  # the first line on stdout: editors and scripts read it
    sys.stdout.flush()
    _say_err(f"agentls dashboard: serving {base} (Ctrl-C to stop)")
    if not args.no_open:  # a one-time code, not the token: a browser's command line is public (codes.py)
        threading.Thread(target=_open_browser, args=(f"{base}?code={codes.mint()}", base), daemon=True).start()
    try:
        asyncio.run(_serve(app, sock))
    except KeyboardInterrupt:
        pass
    finally:
        state.workspaces.close()
        state.store.close()
    return 0


def _state(csrf: str) -> State:
    from agentls.config import load_settings
    from agentls.dashboard.app import State
    from agentls.dashboard.workspaces import Workspaces
    from agentls.paths import data_dir, store_path
    from agentls.store.db import Store
    from agentls.store.overview import Overview
    from agentls.store.plans import PlanStore

    store = Store(store_path())
    overview = Overview(store)
    cwd = Path.cwd()
    return State(store=store, overview=overview, plans=PlanStore(store),
                 workspaces=Workspaces(store, data_dir(), overview.workspaces), csrf=csrf,
                 settings=lambda: load_settings(cwd).settings)


async def _serve(app: object, sock: socket.socket) -> None:
    import uvicorn

    config = uvicorn.Config(app, lifespan="off", access_log=False, log_level="warning",  # type: ignore[arg-type]
                            timeout_graceful_shutdown=2, server_header=False)
    server = uvicorn.Server(config)
    await server.serve(sockets=[sock])


def _key(given: str) -> bytes:
    """The code-signing key a parent passed (hex), else a new one."""
    try:
        key = bytes.fromhex(given)
    except ValueError:
        key = b""
    return key if len(key) >= 16 else secrets.token_bytes(32)


def _open_browser(url: str, base: str) -> None:
    import webbrowser

    with contextlib.suppress(Exception):
        if not webbrowser.open(url):
            log.warning("could not open a browser: open the URL printed above (%s?token=…) yourself", base)
