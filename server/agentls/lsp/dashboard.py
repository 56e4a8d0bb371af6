"""``agentls.dashboard``: one ``agentls dashboard`` child per language server, and a URL to open it.

The first call starts ``python -m agentls dashboard --no-open --port 0`` (an asyncio subprocess: the
event loop never waits on it) and reads the first line of its stdout, its URL, within
``START_TIMEOUT_S``; later calls use the same child while it runs, and start a new one when it has died.
Concurrent calls share one start. The child runs in the workspace's root (the dashboard reads the
settings there). Each call answers a URL with a fresh one-time sign-in code, not the access token: the
editor hands it to a browser, whose command line any local user can read (``dashboard/codes.py``); the
server passes the child the key that signs codes in its environment.

The child never outlives the server:
- ``shutdown`` (and the editor's process ending, which runs the same ``stop_work``) terminates it and
  waits for it (bounded; then it is killed);
- an ``exit`` without ``shutdown``, or any other normal end of the process, terminates it (``atexit``);
- on Linux the kernel sends it SIGTERM when the server dies, however it dies (``PR_SET_PDEATHSIG``,
  set between fork and exec). The death signal follows the thread that started the child: here the
  event loop's, which lives as long as the server.
It runs in a process group of its own (``start_new_session``) so that anything it starts goes with it.

Its stderr is drained into the log (debug level) and its last lines kept: a start that fails answers
"the dashboard did not start: <its last line>".
"""

from __future__ import annotations

import asyncio
import atexit
import collections
import contextlib
import functools
import logging
import os
import re
import secrets
import signal
import subprocess
import sys
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentls.dashboard.codes import KEY_ENV, mint
from agentls.errors import AgentlsError

if TYPE_CHECKING:
    from agentls.lsp.handlers.commands import Handler
    from agentls.lsp.server import AgentLanguageServer

log = logging.getLogger(__name__)

#: How long the child may take to print its URL.
START_TIMEOUT_S = 15.0
#: How long a terminated child may take to exit before it is killed.
STOP_TIMEOUT_S = 5.0
#: The longest first line taken for a URL.
MAX_LINE = 4096
#: The access token, kept out of the log and the error messages (its access log names first visits).
_TOKEN = re.compile(r"(token=)[^&\s\"']+")


class DashboardError(AgentlsError):
    """The dashboard could not be started."""


@functools.cache
def _death_signal() -> Callable[[], None] | None:
    """Linux: a ``preexec_fn`` asking the kernel to SIGTERM the child when its parent dies."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    parent = os.getpid()
    pr_set_pdeathsig = 1

    def die_with_parent() -> None:  # runs in the child, between fork and exec: nothing but syscalls
        prctl(pr_set_pdeathsig, int(signal.SIGTERM), 0, 0, 0)
        if os.getppid() != parent:  # the parent died before the death signal was armed
            os._exit(1)

    return die_with_parent


class Dashboard:
    """The dashboard child of one language server."""

    def __init__(self, command: list[str] | None = None, cwd: Callable[[], Path | None] = lambda: None) -> None:
        self.command = command or [sys.executable, "-m", "agentls", "dashboard", "--no-open", "--port", "0"]
        #: Where the child runs (the workspace: the dashboard reads its settings there), else ours.
        self.cwd = cwd
        self._process: asyncio.subprocess.Process | None = None
        self._url: str | None = None
        self._stderr: collections.deque[str] = collections.deque(maxlen=20)
        self._drains: set[asyncio.Task[None]] = set()
        self._lock: asyncio.Lock | None = None
        self._atexit_registered = False
        self._key = secrets.token_bytes(32)

    @property
    def pid(self) -> int | None:
        process = self._process
        return process.pid if process is not None and process.returncode is None else None

    async def open(self) -> dict[str, Any]:
        """``{"url", "pid"}`` of the running dashboard, started first if it is not running; the URL signs in
        once (a new code each call)."""
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            process = self._process
            if process is None or process.returncode is not None or self._url is None:
                if process is not None and process.returncode is None:  # a start cut short
                    await self._stop(process)
                elif process is not None and self._url is not None:
                    log.info("the dashboard (pid %d) has exited (status %s); starting another",
                             process.pid, process.returncode)
                await self._start()
            assert self._process is not None
            assert self._url is not None
            return {"url": f"{self._url.partition('?')[0]}?code={mint(self._key)}", "pid": self._process.pid}

    async def _start(self) -> None:
        self._process, self._url = None, None
        self._stderr.clear()
        cwd = self.cwd()
        if cwd is not None and not cwd.is_dir():
            cwd = None
        try:
            process = await asyncio.create_subprocess_exec(
                *self.command, cwd=cwd, env={**os.environ, KEY_ENV: self._key.hex()},
                stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE, start_new_session=True, preexec_fn=_death_signal(),
                limit=MAX_LINE)
        except (OSError, subprocess.SubprocessError) as exc:
            raise DashboardError(f"the dashboard did not start: {exc}") from exc
        self._process = process
        self._register_atexit()
        assert process.stdout is not None
        assert process.stderr is not None
        stderr = self._drain(process.stderr, self._stderr_line)
        try:
            line = await asyncio.wait_for(process.stdout.readline(), START_TIMEOUT_S)
        except asyncio.CancelledError:  # the request was cancelled: no child without a caller
            _signal_group(process.pid, signal.SIGTERM)
            raise
        except TimeoutError:
            await self._stop(process)
            raise DashboardError(f"the dashboard did not start: no URL within {START_TIMEOUT_S:.0f} s"
                                 f"{self._last_words()}") from None
        except (ValueError, asyncio.LimitOverrunError):  # a first line longer than MAX_LINE
            line = b""
        url = line.decode("utf-8", "replace").strip()
        if not url.startswith(("http://", "https://")):
            await self._stop(process)
            with contextlib.suppress(TimeoutError):  # its last words, once it has said them
                await asyncio.wait_for(asyncio.shield(stderr), 2)
            printed = _hide_token(url[:200])
            detail = self._stderr[-1] if self._stderr else (
                f"it printed {printed!r}" if url else f"it exited with status {process.returncode}")
            raise DashboardError(f"the dashboard did not start: {detail}")
        self._drain(process.stdout, lambda text: log.debug("dashboard stdout: %s", _hide_token(text)))
        self._url = url
        log.info("the dashboard (pid %d) serves %s", process.pid, url.partition("?")[0])

    def _stderr_line(self, text: str) -> None:
        text = _hide_token(text)
        if text:
            self._stderr.append(text)
            log.debug("dashboard: %s", text)

    def _last_words(self) -> str:
        return f" ({self._stderr[-1]})" if self._stderr else ""

    def _drain(self, stream: asyncio.StreamReader, sink: Callable[[str], None]) -> asyncio.Task[None]:
        async def drain() -> None:
            with contextlib.suppress(Exception):
                while True:
                    try:
                        line = await stream.readline()
                    except ValueError:  # a line over the limit: take what is there
                        line = await stream.read(MAX_LINE)
                    if not line:
                        return
                    sink(line.decode("utf-8", "replace").rstrip())

        task = asyncio.get_running_loop().create_task(drain())
        self._drains.add(task)
        task.add_done_callback(self._drains.discard)
        return task

    async def _stop(self, process: asyncio.subprocess.Process) -> None:
        if process.returncode is None:
            _signal_group(process.pid, signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), STOP_TIMEOUT_S)
            except TimeoutError:
                log.warning("the dashboard (pid %d) did not exit in time; killing it", process.pid)
                _signal_group(process.pid, signal.SIGKILL)
                await process.wait()

    async def aclose(self) -> None:
        """Terminate the child (``shutdown``), waiting for it (bounded)."""
        process, self._process, self._url = self._process, None, None
        if process is not None:
            await self._stop(process)

    def terminate(self) -> None:
        """Send the child SIGTERM without waiting (the process is exiting)."""
        process = self._process
        if process is not None and process.returncode is None:
            _signal_group(process.pid, signal.SIGTERM)

    def _register_atexit(self) -> None:
        if not self._atexit_registered:
            self._atexit_registered = True
            atexit.register(self.terminate)


def _hide_token(text: str) -> str:
    return _TOKEN.sub(r"\1…", text)


def _signal_group(pid: int, sig: signal.Signals) -> None:
    """Signal the child's process group (it leads one: ``start_new_session``), else the child."""
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        pass
    except OSError:
        with contextlib.suppress(OSError):
            os.kill(pid, sig)


_dashboards: weakref.WeakKeyDictionary[AgentLanguageServer, Dashboard] = weakref.WeakKeyDictionary()


def dashboard_of(server: AgentLanguageServer) -> Dashboard:
    """The server's one dashboard (created on first use)."""
    found = _dashboards.get(server)
    if found is None:
        found = _dashboards[server] = Dashboard(cwd=lambda: server.state.root)
    return found


async def stop(server: AgentLanguageServer) -> None:
    """What ``shutdown`` does here: terminate the server's dashboard, if it started one."""
    found = _dashboards.get(server)
    if found is not None:
        await found.aclose()


async def dashboard_command(ls: AgentLanguageServer, raw: dict[str, Any]) -> dict[str, Any]:
    return await dashboard_of(ls).open()


HANDLERS: dict[str, Handler] = {"agentls.dashboard": dashboard_command}
