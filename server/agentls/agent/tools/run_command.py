"""``run_command``: run an allowed command in the workspace, sandboxed with bubblewrap.

Refused unless ``tools.run_command.enabled``; a command line that matches none of the ``allow``
fnmatch patterns runs only if the user approves it (``ToolContext.ask``: once, or for the rest of the
session); with nobody to ask it is refused. It runs without a shell (split like a POSIX shell line,
then executed directly), so ``;``, ``&&``, ``|``, redirections and ``$(...)`` are plain arguments and
cannot chain a second, unapproved command onto an allowed one.

The sandbox (``bwrap``, built in ``command_sandbox``): no network, the system directories and the
toolchains read-only, the workspace read-write except its ``.git`` directories and deny-listed files
(hidden wherever they are), never root inside, an environment without secret-looking variables.
Whether bubblewrap works is probed once per process (a container may forbid namespaces); when it does
not, commands are refused unless ``allow_unsandboxed``.

The overlay: a command reads the disk, which does not have the agent's pending edits. While the
overlay holds uncommitted changes the command is refused, unless the context says the caller
commits edits to disk anyway (``ToolContext.commit_before_commands``, the headless CLI): then the
overlay is committed first.

Output (stdout and stderr interleaved) is capped at ``max_output_chars``, cut in the middle
(``command_output``); the exit code is in the result, and a non-zero exit is not a tool error (the
model reads it). A timeout or a cancel kills the whole process group.
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import os
import shlex
import shutil
import signal
from typing import ClassVar

from pydantic import Field

from agentls.agent.tools.base import BaseTool, CommandRun, ToolContext, ToolInput, ToolResult
from agentls.agent.tools.command_output import CappedOutput, middle_truncate
from agentls.agent.tools.command_sandbox import (
    SandboxRefused,
    clean_env,
    limited,
    sandbox_command,
    sandbox_problem,
)
from agentls.config import CommandSettings
from agentls.errors import AgentlsError
from agentls.questions import Option, Question

COMMAND_OPTIONS = (Option("once", "Run once", "allow_once"),
                   Option("always", "Allow for this session", "allow_always"),
                   Option("reject", "Don't run", "reject_once"))

#: ``middle_truncate`` and ``sandbox_problem`` are imported from here by callers and tests.
__all__ = ["RunCommandInput", "RunCommandTool", "command_allowed", "middle_truncate", "sandbox_problem"]


class RunCommandInput(ToolInput):
    command: str = Field(
        min_length=1,
        description="The command line, e.g. 'pytest -x tests/test_api.py'. It runs without a shell: "
        "no pipes, redirections, '&&' or 'cd'.",
    )
    timeout_s: float | None = Field(
        None, gt=0, description="Seconds before the command is killed (at most the configured limit)."
    )


def command_allowed(command: str, settings: CommandSettings) -> bool:
    line = command.strip()
    return any(fnmatch.fnmatchcase(line, pattern) for pattern in settings.allow)


class RunCommandTool(BaseTool[RunCommandInput]):
    name: ClassVar[str] = "run_command"
    description: ClassVar[str] = (
        "Run a command in the workspace (e.g. the tests) and get its output and exit code. Commands the "
        "settings do not allow run only if the user approves them; there is no shell (no pipes, "
        "redirections, '&&' or 'cd') and no network. Commands see the files on disk, not your pending edits."
    )
    read_only: ClassVar[bool] = False
    input_model = RunCommandInput

    def __init__(self, allow: list[str] | None = None) -> None:
        self.allow = list(allow or [])

    def describe(self) -> str:
        if not self.allow:
            return self.description
        return f"{self.description} Allowed command lines (fnmatch patterns): {', '.join(self.allow)}."

    async def execute(self, params: RunCommandInput, ctx: ToolContext) -> ToolResult:
        settings = ctx.settings.run_command
        if ctx.read_only:
            return ToolResult("Refused: this session is read-only (plan mode) and commands may change files. "
                              "Put the command in the plan (a step's verify command) instead.", is_error=True)
        if not settings.enabled:
            return ToolResult(
                "run_command is disabled in the user's settings; only the user can enable it, in their own "
                "configuration. Do not try to change agentls settings: say which command you wanted to run "
                "and why, and the user can run it.",
                is_error=True,
            )
        command = params.command.strip()
        if not command_allowed(command, settings) and command not in ctx.approved_commands:
            refusal = await self._approve(command, ctx)
            if refusal is not None:
                return refusal
        try:
            argv = shlex.split(command)
        except ValueError as exc:
            return ToolResult(f"Cannot parse the command line: {exc}", is_error=True)
        if not argv:
            return ToolResult("Empty command.", is_error=True)

        note = ""
        if ctx.overlay.has_changes():
            pending = [change.path for change in ctx.overlay.changes()]
            if not ctx.commit_before_commands:
                return ToolResult(
                    "run_command cannot run now: your edits to " + ", ".join(pending) + " are pending the "
                    "user's review and are not on disk, so the command would not see them. Run commands "
                    "before editing, or finish and say which command the user should run.",
                    is_error=True,
                )
            if ctx.checkpoint is not None:
                try:
                    await asyncio.to_thread(ctx.checkpoint, pending, "edit")
                except AgentlsError as exc:
                    return ToolResult(f"run_command did not run: no checkpoint could be taken before writing "
                                      f"your edits ({exc}); nothing was written.", is_error=True)
            written = ctx.overlay.commit()
            note = f"(your edits to {', '.join(written)} were written to disk first)\n"

        problem = await sandbox_problem()
        env_path = os.environ.get("PATH", os.defpath)
        pass_fds: tuple[int, ...] = ()
        if problem is None:
            bwrap = shutil.which("bwrap")
            assert bwrap is not None
            # The masks list the workspace (and the first run may probe): off the loop.
            try:
                sandboxed = await asyncio.to_thread(sandbox_command, bwrap, ctx.workspace, argv, env_path)
            except SandboxRefused as exc:
                return ToolResult(f"run_command cannot run safely here: {exc}", is_error=True)
            full, env, pass_fds = limited(sandboxed.argv, settings), clean_env(sandboxed=True), (sandboxed.args_fd,)
        elif settings.allow_unsandboxed:
            full, env = limited(argv, settings), clean_env(sandboxed=False)
            note += f"(ran without a sandbox: {problem})\n"
        else:
            return ToolResult(
                f"run_command needs a sandbox and {problem}. Install bubblewrap (Debian/Ubuntu: apt install "
                "bubblewrap); only the user can allow commands without a sandbox, in their own configuration.",
                is_error=True,
            )
        timeout = min(params.timeout_s or settings.timeout_s, settings.timeout_s)
        ctx.record("command_run", tool=self.name, input={"command": command}, sandboxed=problem is None)
        try:
            result = await self._run(command, full, env, pass_fds, timeout, settings.max_output_chars, ctx, note)
        finally:
            for fd in pass_fds:
                os.close(fd)
        if ctx.checkpoint is not None:  # the command may have written anything: record what it left
            try:
                await asyncio.to_thread(ctx.checkpoint, None, "command")
            except AgentlsError as exc:
                result = ToolResult(f"{result.content}\n[warning: no checkpoint after the command: {exc}]",
                                    result.is_error)
        return result

    @staticmethod
    async def _approve(command: str, ctx: ToolContext) -> ToolResult | None:
        """A command the settings do not allow runs only if the user says so; None: it may run."""
        allowed = ", ".join(repr(pattern) for pattern in ctx.settings.run_command.allow) or "none"
        if ctx.ask is None:
            return ToolResult(
                f"Command not allowed: {command!r}. Allowed patterns (fnmatch, whole command line): "
                f"{allowed}. Only the user can allow more, in their own configuration; do not try to change "
                "agentls settings.",
                is_error=True,
            )
        answer = await ctx.ask(Question(
            "command", f"The agent wants to run: {command}", COMMAND_OPTIONS, default="reject",
            detail=f"Not matched by the allowed patterns ({allowed}). It runs in the sandbox, in the workspace.",
            subject={"command": command}))
        ctx.record("command_approval", tool="run_command", input={"command": command}, answer=answer)
        if answer == "always":
            ctx.approved_commands.add(command)
        if answer in ("once", "always"):
            return None
        return ToolResult(f"Not run: the user did not approve {command!r} (allowed patterns: {allowed}). Do not "
                          "ask again; continue without it, or say which command the user should run.", is_error=True)

    @staticmethod
    async def _run(
        command: str,
        argv: list[str],
        env: dict[str, str],
        pass_fds: tuple[int, ...],
        limit_s: float,
        max_chars: int,
        ctx: ToolContext,
        note: str,
    ) -> ToolResult:
        try:
            proc = await asyncio.create_subprocess_exec(
                *argv, cwd=ctx.workspace.root, env=env, pass_fds=pass_fds, stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        except FileNotFoundError:
            return ToolResult(
                f"Command not found: {argv[0]!r}. Commands run without a shell: give the program and its "
                "arguments only.",
                is_error=True,
            )
        except OSError as exc:
            return ToolResult(f"Could not start {argv[0]!r}: {exc.strerror or exc}", is_error=True)
        assert proc.stdout is not None
        output = CappedOutput.create(max_chars)
        stdout = proc.stdout

        async def pump() -> None:
            while chunk := await stdout.read(65536):
                output.feed(chunk)

        reader = asyncio.create_task(pump())
        waiter = asyncio.create_task(proc.wait())
        loop = asyncio.get_running_loop()
        deadline = loop.time() + limit_s
        outcome = "exited"
        try:
            while not waiter.done():
                remaining = deadline - loop.time()
                if remaining <= 0:
                    outcome = "timeout"
                    break
                if ctx.cancel.is_set():
                    outcome = "cancelled"
                    break
                await asyncio.wait({waiter}, timeout=min(remaining, 0.1))
        finally:
            if not waiter.done():
                _kill_group(proc.pid)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(waiter), 5)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(reader), 2)
            reader.cancel()
            waiter.cancel()
        text = output.text(max_chars).rstrip("\n") or "(no output)"
        header = f"{note}$ {command}\n"
        if outcome == "timeout":
            return ToolResult(
                f"{header}{text}\n[timed out after {limit_s:g}s: the command and its processes were killed]",
                is_error=True, ran=CommandRun("timeout", None, text),
            )
        if outcome == "cancelled":
            return ToolResult(f"{header}{text}\n[cancelled: the command was killed]", is_error=True,
                              ran=CommandRun("cancelled", None, text))
        return ToolResult(f"{header}{text}\n[exit code {proc.returncode}]",
                          ran=CommandRun("exited", proc.returncode, text))


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
