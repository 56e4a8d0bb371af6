"""``run_command``: run an allowed command in the workspace, sandboxed with bubblewrap.

Refused unless ``tools.run_command.enabled``; the command line must match one of the ``allow``
fnmatch patterns. It runs without a shell (split like a POSIX shell line, then executed directly),
so ``;``, ``&&``, ``|``, redirections and ``$(...)`` are plain arguments and cannot chain a second,
unapproved command onto an allowed one.

The sandbox (``bwrap``): no network (``--unshare-net``), own PID/IPC/UTS namespaces, the system
directories (``/usr``, ``/bin``, ``/lib*``, ``/etc``, ``/opt``, ...) and the toolchains on PATH
read-only, a tmpfs ``/tmp`` (also ``HOME``), the workspace read-write except its ``.git``
directories (read-only: a command must not plant git hooks) and its deny-listed files (hidden),
``--die-with-parent``, cwd = the workspace, and an environment without secret-looking variables.
Whether bubblewrap works is probed once per process (a container may forbid namespaces); when it
does not, commands are refused unless ``allow_unsandboxed``.

The overlay: a command reads the disk, which does not have the agent's pending edits. While the
overlay holds uncommitted changes the command is refused, unless the context says the caller
commits edits to disk anyway (``ToolContext.commit_before_commands``, the headless CLI): then the
overlay is committed first.

Output (stdout and stderr interleaved) is capped at ``max_output_chars``, cut in the middle; the
exit code is in the result, and a non-zero exit is not a tool error (the model reads it). A timeout
or a cancel kills the whole process group.
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import os
import re
import shlex
import shutil
import signal
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from pydantic import Field

from agentls.agent.tools.base import BaseTool, ToolContext, ToolInput, ToolResult
from agentls.agent.workspace import Workspace
from agentls.config import CommandSettings
from agentls.errors import AgentlsError

SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc", "/opt")
#: Credentials that may sit inside a toolchain directory bound into the sandbox: hidden there.
HOME_SECRETS = (".cargo/credentials", ".cargo/credentials.toml")
_SECRET_ENV = re.compile(r"KEY|TOKEN|SECRET|PASSW|CREDENTIAL|AUTH|COOKIE|SESSION", re.IGNORECASE)
_PROBES: dict[str, str | None] = {}
#: Bytes of output kept from each end while streaming, per output character allowed.
_KEEP_FACTOR = 4


class RunCommandInput(ToolInput):
    command: str = Field(
        min_length=1,
        description="The command line, e.g. 'pytest -x tests/test_api.py'. It runs without a shell: "
        "no pipes, redirections, '&&' or 'cd'.",
    )
    timeout_s: float | None = Field(
        None, gt=0, description="Seconds before the command is killed (at most the configured limit)."
    )


def reset_sandbox_probe() -> None:
    """Forget the cached bubblewrap probe (tests; after installing bubblewrap)."""
    _PROBES.clear()


async def sandbox_problem(bwrap: str | None = None) -> str | None:
    """None when bubblewrap can build our sandbox here, else why not (probed once, cached)."""
    bwrap = bwrap or shutil.which("bwrap")
    if bwrap is None:
        return "bubblewrap (bwrap) is not installed"
    if bwrap in _PROBES:
        return _PROBES[bwrap]
    args = [bwrap, "--die-with-parent", "--unshare-net", "--unshare-pid", "--unshare-ipc",
            "--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp",
            "--", "/bin/sh", "-c", ":"]  # fmt: skip
    problem: str | None
    try:
        proc = await asyncio.create_subprocess_exec(
            *args, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        out, _ = await asyncio.wait_for(proc.communicate(), timeout=10)
        detail = out.decode("utf-8", "replace").strip()
        problem = None
        if proc.returncode != 0:
            problem = f"bubblewrap cannot create its sandbox here ({detail or proc.returncode})"
    except (OSError, TimeoutError) as exc:
        problem = f"bubblewrap could not be run ({exc or type(exc).__name__})"
    _PROBES[bwrap] = problem
    return problem


def command_allowed(command: str, settings: CommandSettings) -> bool:
    line = command.strip()
    return any(fnmatch.fnmatchcase(line, pattern) for pattern in settings.allow)


def clean_env(sandboxed: bool) -> dict[str, str]:
    """The environment for a command: no variable whose name looks like it holds a secret."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not _SECRET_ENV.search(name) and not name.startswith(("ANTHROPIC_", "AGENTLS_"))
    }
    if sandboxed:
        env["HOME"] = "/tmp"
        env["TMPDIR"] = "/tmp"
    return env


def _under_tmp(path: Path) -> Path:
    """What to bind for a toolchain path under /tmp: its virtualenv (``pyvenv.cfg``), else its directory."""
    for parent in (path, *path.parents):
        if parent == Path("/tmp"):
            break
        if (parent / "pyvenv.cfg").is_file():
            return parent
    return path if path.is_dir() else path.parent


def _toolchain_roots(argv0: str, env_path: str, workspace: Path) -> list[Path]:
    """Directories outside the system dirs that the command likely needs: toolchains on PATH, the
    executable's real location and its script interpreter's, each as its top directory (under
    HOME: ``~/.pyenv``, ``~/.cargo``)."""
    home = Path.home()
    candidates: list[str] = [entry for entry in env_path.split(os.pathsep) if entry]
    exe = shutil.which(argv0, path=env_path) if "/" not in argv0 else str(workspace / argv0)
    if exe:
        candidates += [exe, os.path.realpath(exe)]
        with contextlib.suppress(OSError), open(os.path.realpath(exe), "rb") as handle:
            first = handle.readline(256)
            if first.startswith(b"#!"):
                parts = first[2:].decode("utf-8", "replace").split()
                if parts:
                    interpreter = parts[0]
                    if interpreter.endswith("/env") and len(parts) > 1:
                        interpreter = shutil.which(parts[1], path=env_path) or interpreter
                    candidates += [interpreter, os.path.realpath(interpreter)]
    roots: list[Path] = []
    tmp = Path("/tmp")
    for literal in {Path(os.path.abspath(c)) for c in candidates}:
        # The sandbox mounts an empty /tmp, so a toolchain living there (a CI checkout's virtualenv)
        # needs its own bind: the virtualenv that holds it, else its own directory.
        if literal.is_relative_to(tmp) and literal.exists() and not literal.is_relative_to(workspace):
            root = _under_tmp(literal)
            if root != tmp and not any(root == r or root.is_relative_to(r) for r in roots):
                roots = [r for r in roots if not r.is_relative_to(root)] + [root]
    for candidate in candidates:
        real = Path(os.path.realpath(candidate))
        if not real.exists() or real.is_relative_to(workspace):
            continue
        if any(real.is_relative_to(d) for d in (*SYSTEM_DIRS, "/proc", "/dev", "/sys")):
            continue
        if real.is_relative_to(home) and real != home:
            root = home / real.relative_to(home).parts[0]
        elif len(real.parts) > 1 and real.parts[1] in ("home", "root"):
            root = Path(*real.parts[:4]) if len(real.parts) > 3 else real
        elif len(real.parts) > 1:
            root = Path("/", real.parts[1])
        else:
            continue
        if root in (Path("/"), home, Path("/tmp")) or root.is_relative_to("/tmp"):
            continue
        if not any(root == r or root.is_relative_to(r) for r in roots):
            roots = [r for r in roots if not r.is_relative_to(root)] + [root]
    return sorted(roots)


def _workspace_masks(workspace: Workspace, limit: int = 20_000) -> tuple[list[Path], list[Path], list[Path]]:
    """``.git`` directories (bound read-only), deny-listed files and directories (hidden)."""
    git_dirs: list[Path] = []
    files: list[Path] = []
    dirs: list[Path] = []
    seen = 0
    root = workspace.root
    for current, subdirs, names in os.walk(root):
        base = Path(current)
        rel_base = workspace.relative(base)
        prefix = "" if rel_base == "." else rel_base + "/"
        keep = []
        for name in sorted(subdirs):
            path = base / name
            rel = prefix + name
            if path.is_symlink():
                continue
            if name == ".git":
                git_dirs.append(path)
            elif workspace.is_denied(rel, is_dir=True):
                dirs.append(path)
            elif not workspace.is_ignored(rel, is_dir=True):
                keep.append(name)
        subdirs[:] = keep
        for name in names:
            rel = prefix + name
            path = base / name
            if name == ".git" and not path.is_symlink():
                git_dirs.append(path)  # a worktree's or submodule's gitfile
            elif workspace.is_denied(rel) and not path.is_symlink():
                files.append(path)
        seen += len(names) + len(subdirs)
        if seen > limit:
            break
    return git_dirs, files, dirs


def sandbox_argv(bwrap: str, workspace: Workspace, argv: list[str], env_path: str) -> list[str]:
    """The bubblewrap command line that runs ``argv`` in the sandbox (see the module docstring)."""
    args = [bwrap, "--die-with-parent", "--new-session", "--unshare-net", "--unshare-pid", "--unshare-ipc",
            "--unshare-uts", "--unshare-cgroup-try"]  # fmt: skip
    for directory in SYSTEM_DIRS:
        if os.path.islink(directory):
            args += ["--symlink", os.readlink(directory), directory]
        elif os.path.isdir(directory):
            args += ["--ro-bind", directory, directory]
    args += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"]
    root = workspace.root
    for toolchain in _toolchain_roots(argv[0], env_path, root):
        args += ["--ro-bind", str(toolchain), str(toolchain)]
        for secret in HOME_SECRETS:
            hidden = Path.home() / secret
            if hidden.is_file() and hidden.is_relative_to(toolchain):
                args += ["--ro-bind", "/dev/null", str(hidden)]
    args += ["--bind", str(root), str(root)]
    git_dirs, denied_files, denied_dirs = _workspace_masks(workspace)
    for git_dir in git_dirs:
        args += ["--ro-bind", str(git_dir), str(git_dir)]
    for path in denied_files:
        args += ["--ro-bind", "/dev/null", str(path)]
    for path in denied_dirs:
        args += ["--tmpfs", str(path)]
    args += ["--chdir", str(root), "--", *argv]
    return args


@dataclass
class _Output:
    limit: int
    head: bytearray
    tail: bytearray
    dropped: int = 0

    @classmethod
    def create(cls, max_chars: int) -> _Output:
        return cls(max_chars * _KEEP_FACTOR, bytearray(), bytearray())

    def feed(self, chunk: bytes) -> None:
        room = self.limit - len(self.head)
        if room > 0:
            self.head += chunk[:room]
            chunk = chunk[room:]
        if chunk:
            self.tail += chunk
            excess = len(self.tail) - self.limit
            if excess > 0:
                del self.tail[:excess]
                self.dropped += excess

    def text(self, max_chars: int) -> str:
        head = self.head.decode("utf-8", "replace")
        tail = self.tail.decode("utf-8", "replace")
        if not self.dropped:
            return middle_truncate(head + tail, max_chars)
        return middle_truncate(head + tail, max_chars, extra_cut=self.dropped)


def middle_truncate(text: str, max_chars: int, extra_cut: int = 0) -> str:
    """``text`` cut in the middle to at most about ``max_chars``, with a note of how much was cut."""
    if len(text) <= max_chars and not extra_cut:
        return text
    keep = max(max_chars - 120, 0)
    head, tail = text[: keep // 2], text[len(text) - (keep - keep // 2) :] if keep else ""
    cut = len(text) - len(head) - len(tail) + extra_cut
    about = "about " if extra_cut else ""
    return f"{head}\n\n[... {about}{cut:,} characters of output cut from the middle ...]\n\n{tail}"


class RunCommandTool(BaseTool[RunCommandInput]):
    name: ClassVar[str] = "run_command"
    description: ClassVar[str] = (
        "Run a command in the workspace (e.g. the tests) and get its output and exit code. Only commands "
        "allowed in the settings run; there is no shell (no pipes, redirections, '&&' or 'cd') and no "
        "network. Commands see the files on disk, not your pending edits."
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
                "run_command is disabled. To enable it, set in agentls.toml:\n"
                "[tools.run_command]\nenabled = true\n"
                'allow = ["pytest*"]  # fnmatch patterns of the allowed command lines',
                is_error=True,
            )
        command = params.command.strip()
        if not command_allowed(command, settings):
            allowed = ", ".join(repr(pattern) for pattern in settings.allow) or "none"
            return ToolResult(
                f"Command not allowed: {command!r}. Allowed patterns (fnmatch, whole command line): "
                f"{allowed}. To allow more, add patterns to `allow` under [tools.run_command] "
                "in agentls.toml.",
                is_error=True,
            )
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
        if problem is None:
            bwrap = shutil.which("bwrap")
            assert bwrap is not None
            full = sandbox_argv(bwrap, ctx.workspace, argv, env_path)
            env = clean_env(sandboxed=True)
        elif settings.allow_unsandboxed:
            full, env = argv, clean_env(sandboxed=False)
            note += f"(ran without a sandbox: {problem})\n"
        else:
            return ToolResult(
                f"run_command needs a sandbox and {problem}. Install bubblewrap (Debian/Ubuntu: apt install "
                "bubblewrap), or set allow_unsandboxed = true under [tools.run_command] in agentls.toml.",
                is_error=True,
            )
        timeout = min(params.timeout_s or settings.timeout_s, settings.timeout_s)
        ctx.record("command_run", tool=self.name, input={"command": command}, sandboxed=problem is None)
        result = await self._run(command, full, env, timeout, settings.max_output_chars, ctx, note)
        if ctx.checkpoint is not None:  # the command may have written anything: record what it left
            try:
                await asyncio.to_thread(ctx.checkpoint, None, "command")
            except AgentlsError as exc:
                result = ToolResult(f"{result.content}\n[warning: no checkpoint after the command: {exc}]",
                                    result.is_error)
        return result

    @staticmethod
    async def _run(
        command: str,
        argv: list[str],
        env: dict[str, str],
        limit_s: float,
        max_chars: int,
        ctx: ToolContext,
        note: str,
    ) -> ToolResult:
        try:
            proc = await asyncio.create_subprocess_exec(
                *argv, cwd=ctx.workspace.root, env=env, stdin=asyncio.subprocess.DEVNULL,
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
        output = _Output.create(max_chars)
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
                is_error=True,
            )
        if outcome == "cancelled":
            return ToolResult(f"{header}{text}\n[cancelled: the command was killed]", is_error=True)
        return ToolResult(f"{header}{text}\n[exit code {proc.returncode}]")


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
