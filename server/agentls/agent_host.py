"""The agent host process: ``python -m agentls.agent_host READ_FD WRITE_FD`` (started by ``runtime.remote``).

It builds the same ``Runtime`` every front end builds, in-process, and runs the operations the server
asks for on it, one asyncio task per call, streaming their events back. It never writes to stdout
(the server's stdout is the editor's protocol); its log goes to stderr, into the server's log.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import sys
import threading
from collections.abc import Awaitable, Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from agentls.config import Settings
from agentls.questions import Question
from agentls.runtime import Runtime

log = logging.getLogger("agentls.agent_host")
#: The server's call an operation runs for (its questions are cancelled with it).
CALL: contextvars.ContextVar[int] = contextvars.ContextVar("CALL", default=0)

Emit = Callable[[Any], None]


async def _run_task(runtime: Runtime, emit: Emit, spec: Any) -> Any:
    from agentls.workflows.task_session import run_session

    return await run_session(runtime, spec, emit)


async def _draft_plan(runtime: Runtime, emit: Emit, instruction: str, files: list[str], buffers: dict[str, str],
                      session_id: str | None) -> Any:
    from agentls.workflows.plan_draft import draft_in_process

    return await draft_in_process(runtime, instruction, emit, files, buffers, session_id)


async def _checkpoints(runtime: Runtime, emit: Emit, method: str, args: tuple[Any, ...],
                       kwargs: dict[str, Any]) -> Any:
    """A method of the workspace's one checkpoint history (``runtime.remote.RemoteCheckpoints``)."""
    checkpoints = await runtime.checkpoints()
    return await asyncio.to_thread(getattr(checkpoints, method), *args, **kwargs)


#: What the server may ask the host to do.
OPERATIONS: dict[str, Callable[..., Awaitable[Any]]] = {
    "run_task": _run_task, "draft_plan": _draft_plan, "checkpoints": _checkpoints}


class Host:
    def __init__(self, to_server: Connection) -> None:
        self.to_server = to_server
        self._send_lock = threading.Lock()
        self.settings: Settings | None = None
        self.root: Path | None = None
        self.runtime: Runtime | None = None
        self.tasks: dict[int, asyncio.Task[None]] = {}
        #: Questions put to the server's front end, waiting for its answer.
        self.questions: dict[str, asyncio.Future[str]] = {}

    def send(self, message: tuple[Any, ...]) -> None:
        with self._send_lock:
            self.to_server.send(message)

    def apply_settings(self, settings: Settings, root: Path | None, frontend: str = "editor") -> None:
        from agentls import logs

        self.settings, self.root = settings, root
        logs.apply_settings(settings)
        if self.runtime is None:
            self.runtime = Runtime(lambda: self.root, lambda: self.settings or Settings())
            self.runtime.asker = self.ask_server
            self.runtime.record_events()
        self.runtime.frontend = frontend  # the server's (its editor's name), recorded with each session

    async def ask_server(self, question: Question) -> str:
        """A question from an operation: the server's front end answers it."""
        future = asyncio.get_running_loop().create_future()
        self.questions[question.id] = future
        try:
            self.send(("ask", CALL.get(), question))
            answer: str = await future
            return answer
        finally:
            self.questions.pop(question.id, None)

    async def run(self, call_id: int, name: str, args: tuple[Any, ...]) -> None:
        CALL.set(call_id)
        try:
            if self.runtime is None:
                raise RuntimeError("the agent host got a call before its settings")
            operation = OPERATIONS[name]
            result = await operation(self.runtime, lambda event: self.send(("event", call_id, event)), *args)
            self.send(("result", call_id, result))
        except asyncio.CancelledError:
            pass  # the server stopped waiting: nothing to answer
        except Exception as exc:
            from agentls.errors import AgentlsError

            if not isinstance(exc, AgentlsError):
                log.exception("agent host operation %s failed", name)
            self.send(("error", call_id, type(exc).__name__, str(exc) or type(exc).__name__))
        finally:
            self.tasks.pop(call_id, None)

    async def serve(self, from_server: Connection) -> None:
        loop = asyncio.get_running_loop()
        inbox: asyncio.Queue[tuple[Any, ...] | None] = asyncio.Queue()

        def read() -> None:
            while True:
                try:
                    message = from_server.recv()
                except (EOFError, OSError):
                    break
                loop.call_soon_threadsafe(inbox.put_nowait, message)
            loop.call_soon_threadsafe(inbox.put_nowait, None)

        threading.Thread(target=read, name="agentls-host-reader", daemon=True).start()
        while (message := await inbox.get()) is not None:
            kind = message[0]
            if kind == "settings":
                self.apply_settings(*message[1:4])
            elif kind == "call":
                call_id, name, args = message[1], message[2], message[3]
                self.tasks[call_id] = asyncio.create_task(self.run(call_id, name, args))
            elif kind == "cancel" and (task := self.tasks.get(message[1])) is not None:
                task.cancel()
            elif kind == "answer" and (future := self.questions.get(message[1])) is not None and not future.done():
                future.set_result(message[2])
        # The server is gone (or finished): stop what runs, close what was opened.
        tasks = list(self.tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self.runtime is not None:
            await self.runtime.aclose()


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    from agentls import logs

    from_server = Connection(int(args[0]), writable=False)
    to_server = Connection(int(args[1]), readable=False)
    logs.setup()
    asyncio.run(Host(to_server).serve(from_server))
    return 0


if __name__ == "__main__":
    sys.exit(main())
