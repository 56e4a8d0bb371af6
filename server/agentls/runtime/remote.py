"""The agent host: a child process where sessions run, so that the front end's process stays light.

A session imports the model SDK (pydantic builds hundreds of models, holding the GIL for a tenth of a
second at a time), walks and searches trees, parses files, writes SQLite and runs git. In a thread of
the language server that work still competes for the GIL with the loop that answers the editor
(``bench/task_latency.py`` measured stalls of 100-300 ms); in a process of its own it cannot. The
server starts the host at once (its SDK import overlaps the editor's start-up) and talks to it over
two pipes with pickled messages:

    parent -> host   ("settings", Settings, root, frontend) · ("call", id, name, args) · ("cancel", id)
                     ("answer", question id, option id)
    host -> parent   ("event", id, event) · ("result", id, value) · ("error", id, kind, message)
                     ("ask", id, Question)

``settings`` also carries the server's ``Runtime.frontend`` (from the editor's name: ``vscode``,
``neovim``, ``editor``), which the host's runtime records with its sessions. ``call`` runs one of the
host's operations (``agentls.agent_host.OPERATIONS``) and streams its events to ``on_event`` on the
caller's loop; cancelling the caller cancels the operation in the host. A
question the operation asks (``Runtime.ask`` in the host) is answered by the server's front end. A host
that dies fails the calls under way with one clear error, and the next call starts a new one. The
host exits when the server's end of the pipe closes (the server quit or died).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import queue
import subprocess
import sys
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentls import errors

if TYPE_CHECKING:
    from agentls.config import Settings
    from agentls.questions import Asker, Question

log = logging.getLogger(__name__)

#: The host is background work: on a busy machine the editor's answers come first (the CPU the host loses
#: is a few milliseconds of a session that waits seconds for the model).
HOST_NICE = 5
HOST_DIED = "the agent host process stopped unexpectedly (details in the log); the next request starts a new one"


class HostClient:
    """The server's end of the agent host. Every method is called on the server's event loop."""

    def __init__(self, root: Callable[[], Path | None], settings: Callable[[], Settings], answer: Asker,
                 frontend: Callable[[], str] = lambda: "editor") -> None:
        self._root = root
        self._settings = settings
        self._frontend = frontend
        self._answer = answer
        #: Questions being put to the user, by the call that asked (cancelled with it).
        self._questions: dict[int, set[asyncio.Task[None]]] = {}
        self._process: subprocess.Popen[bytes] | None = None
        self._to_host: Connection | None = None
        self._outbox: queue.SimpleQueue[tuple[Any, ...] | None] = queue.SimpleQueue()
        self._ids = itertools.count(1)
        self._calls: dict[int, tuple[asyncio.Future[Any], Callable[[Any], None] | None]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None

    # -- the process ------------------------------------------------------------------------------------
    def start(self) -> None:
        """Start the host now (it imports the SDK while the editor is busy starting up)."""
        if self._process is not None and self._process.poll() is None:
            return
        self._loop = asyncio.get_running_loop()
        down_r, down_w = os.pipe()  # server -> host
        up_r, up_w = os.pipe()  # host -> server
        self._process = subprocess.Popen(
            [sys.executable, "-m", "agentls.agent_host", str(down_r), str(up_w)],
            pass_fds=(down_r, up_w), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, close_fds=True)
        os.close(down_r)
        os.close(up_w)
        with contextlib.suppress(OSError, AttributeError):  # not everywhere (Windows), not always allowed
            os.setpriority(os.PRIO_PROCESS, self._process.pid, HOST_NICE)
        self._to_host = Connection(down_w, readable=False)
        from_host = Connection(up_r, writable=False)
        process = self._process
        threading.Thread(target=self._write, args=(self._to_host,), name="agentls-host-writer", daemon=True).start()
        threading.Thread(target=self._read, args=(from_host, process), name="agentls-host-reader",
                         daemon=True).start()
        self.send_settings()
        log.info("agent host started (pid %d)", process.pid)

    def send_settings(self) -> None:
        """The current settings, workspace root and front-end label (after every change: the host has no other
        source)."""
        if self._process is not None:
            self._outbox.put(("settings", self._settings(), self._root(), self._frontend()))

    def _write(self, connection: Connection) -> None:
        """Pickle and write in a thread of its own: a large message never holds up the loop."""
        while (message := self._outbox.get()) is not None:
            try:
                connection.send(message)
            except (OSError, ValueError):
                log.warning("the agent host does not take messages any more", exc_info=True)
                return
        connection.close()

    def _read(self, connection: Connection, process: subprocess.Popen[bytes]) -> None:
        loop = self._loop
        assert loop is not None
        while True:
            try:
                message = connection.recv()
            except (EOFError, OSError):
                break
            except Exception:
                log.exception("a message from the agent host could not be read")
                continue
            loop.call_soon_threadsafe(self._dispatch, message)
        connection.close()
        code = process.wait()
        loop.call_soon_threadsafe(self._host_gone, process, code)

    # -- calls ------------------------------------------------------------------------------------------
    async def call(self, name: str, *args: Any, on_event: Callable[[Any], None] | None = None) -> Any:
        """Run ``name(*args)`` in the host; its events reach ``on_event``; cancelling this cancels it."""
        self.start()
        call_id = next(self._ids)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._calls[call_id] = (future, on_event)
        self._outbox.put(("call", call_id, name, args))
        try:
            return await future
        except asyncio.CancelledError:
            self._outbox.put(("cancel", call_id))
            raise
        finally:
            self._calls.pop(call_id, None)
            for task in self._questions.pop(call_id, ()):
                task.cancel()

    def _dispatch(self, message: tuple[Any, ...]) -> None:
        kind, call_id = message[0], message[1]
        call = self._calls.get(call_id)
        if call is None:
            return  # cancelled meanwhile
        future, on_event = call
        if kind == "ask":
            task = asyncio.get_running_loop().create_task(self._put(message[2]))
            asking = self._questions.setdefault(call_id, set())
            asking.add(task)
            task.add_done_callback(asking.discard)
        elif kind == "event":
            if on_event is not None:
                try:
                    on_event(message[2])
                except Exception:
                    log.exception("a front end failed to handle a session event")
        elif future.done():
            return
        elif kind == "result":
            future.set_result(message[2])
        elif kind == "error":
            future.set_exception(rebuild_error(message[2], message[3]))

    async def _put(self, question: Question) -> None:
        """Ask the front end, send the answer back to the host."""
        self._outbox.put(("answer", question.id, await self._answer(question)))

    def _host_gone(self, process: subprocess.Popen[bytes], code: int) -> None:
        if process is not self._process:
            return
        self._process = None
        if code != 0:
            log.error("the agent host exited with status %s", code)
        for future, _ in list(self._calls.values()):
            if not future.done():
                future.set_exception(errors.AgentlsError(HOST_DIED))

    async def aclose(self) -> None:
        """Ask the host to finish (it closes what it opened) and wait a little for it."""
        process = self._process
        if process is None:
            return
        self._outbox.put(None)  # the writer closes the pipe: the host sees EOF and exits
        try:
            await asyncio.wait_for(asyncio.to_thread(process.wait), 10)
        except TimeoutError:
            log.warning("the agent host did not exit in time; killing it")
            process.kill()


def rebuild_error(kind: str, message: str) -> BaseException:
    """The host's exception, as the caller can catch it: the same ``agentls.errors`` class if it has one."""
    cls = getattr(errors, kind, None)
    if isinstance(cls, type) and issubclass(cls, errors.AgentlsError):
        return cls(message)
    return errors.AgentlsError(message) if kind.endswith(("Error", "Failure")) else RuntimeError(message)


class RemoteCheckpoints:
    """The workspace's checkpoint history, which lives in the agent host (git runs there, and the
    whole-tree baseline scan), seen from the server: the methods of ``Checkpoints`` that the server
    uses, each a blocking call for a worker thread (``asyncio.to_thread``), as with the real object."""

    BLOCKING = frozenset({"checkpoint", "list", "diff", "plan_restore", "restore"})

    def __init__(self, host: HostClient, loop: asyncio.AbstractEventLoop) -> None:
        self._host, self._loop = host, loop

    def __getattr__(self, name: str) -> Callable[..., Any]:
        if name not in self.BLOCKING:
            raise AttributeError(name)

        def call(*args: Any, **kwargs: Any) -> Any:
            try:
                running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
            except RuntimeError:
                running = None
            if running is self._loop:  # waiting here for the loop's own answer would never end
                raise RuntimeError(f"checkpoints.{name} blocks: call it from a worker thread")
            work = self._host.call("checkpoints", name, args, kwargs)
            return asyncio.run_coroutine_threadsafe(work, self._loop).result()

        return call

    def start_baseline(self) -> None:
        """Start the whole-tree snapshot in the host (it runs in the background there)."""
        task = self._loop.create_task(self._host.call("checkpoints", "start_baseline", (), {}))
        task.add_done_callback(lambda done: done.cancelled() or done.exception())  # never "never retrieved"
