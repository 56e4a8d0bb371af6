"""The bubblewrap sandbox ``run_command`` runs a command in: whether ``bwrap`` works here, the ``bwrap``
command line, and the environment the command gets.

The sandbox: no network (``--unshare-net``), own PID/IPC/UTS namespaces, the system directories
(``/usr``, ``/bin``, ``/lib*``, ``/etc`` without its secrets, ``/opt``, ...) and the toolchains on PATH
read-only (never agentls' own data and config, nor the user's keys, even when a toolchain directory holds
them), a tmpfs ``/tmp`` (also ``HOME``), the workspace read-write except its ``.git`` directories
(read-only: a command must not plant git hooks) and its deny-listed files and directories, hidden wherever
they are, in ignored directories too (``sandbox_masks``; bwrap reads these mounts from a memfd, and a
folder of nothing but denied files is hidden whole; when they still exceed bwrap's 9,000 arguments the
command is refused, ``SandboxRefused``, rather than run with a secret showing), ``--die-with-parent``,
cwd = the workspace, an environment without secret-looking variables, and resource limits (``prlimit``:
memory, CPU time, processes, file size). Whether bubblewrap works is probed once per process (a
container may forbid namespaces).

Never root inside (``sandbox_user``): when agentls runs as root, the command runs as the workspace
owner's uid, or, for a root-owned workspace, as nobody with the workspace mounted idmapped so that it
stays writable; root-only files elsewhere in the sandbox are then unreadable. Where neither works (no
``setpriv``, no idmapped mounts), it keeps uid 0 with every capability dropped (``--cap-drop ALL``):
no permission check is bypassed, but root-owned files are still the command's own, so a root-owned
mode-0600 file in a bound directory (outside ``ETC_SECRETS``) stays readable in that case only.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from agentls.agent.tools.sandbox_masks import compact, workspace_masks
from agentls.agent.tools.sandbox_user import run_as
from agentls.agent.workspace import WRITE_PROTECTED, Workspace
from agentls.config import CommandSettings
from agentls.errors import AgentlsError

SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc", "/opt")
#: Credentials that may sit inside a toolchain directory bound into the sandbox: hidden there.
HOME_SECRETS = (".cargo/credentials", ".cargo/credentials.toml")
#: Directories under HOME never visible in the sandbox, even inside a bound toolchain directory.
HOME_PRIVATE = (".ssh", ".gnupg", ".aws", ".azure", ".kube", ".docker", ".config/gcloud", ".config/agentls",
                ".local/share/agentls", ".local/state/agentls", ".cache/agentls")
#: Files of /etc only root should read (bound whole, /etc would show them to a command run as root).
ETC_SECRETS = ("/etc/shadow", "/etc/gshadow", "/etc/shadow-", "/etc/gshadow-", "/etc/sudoers", "/etc/ssh",
               "/etc/ssl/private", "/etc/security/opasswd")
_SECRET_ENV = re.compile(r"KEY|TOKEN|SECRET|PASSW|CREDENTIAL|AUTH|COOKIE|SESSION", re.IGNORECASE)
_PROBES: dict[str, str | None] = {}
#: bubblewrap's limit on its arguments, those it reads with ``--args`` included (``MAX_ARGS``).
BWRAP_MAX_ARGS = 9000


class SandboxRefused(AgentlsError):
    """The sandbox cannot be built safely for this workspace: the command must not run."""


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


@dataclass(frozen=True)
class Sandboxed:
    """A command line for the sandbox; ``args_fd`` (a memfd with the workspace's masks, read by bwrap's
    ``--args``) must be passed to the process and closed by the caller once it has started."""

    argv: list[str]
    args_fd: int


def sandbox_command(bwrap: str, workspace: Workspace, argv: list[str], env_path: str) -> Sandboxed:
    """The bubblewrap command line that runs ``argv`` in the sandbox (see the module docstring).
    Blocking (it lists the workspace and may probe): call it off the event loop."""
    root = workspace.root
    system = _system_binds()
    toolchains = _toolchain_roots(argv[0], env_path, root)
    system_dirs = [Path(d) for d in SYSTEM_DIRS if os.path.isdir(d) and not os.path.islink(d)]
    probe_setup = [*system, "--proc", "/proc", "--dev", "/dev", "--perms", "1777", "--tmpfs", "/tmp", "--bind",
                   str(root), str(root), *_mount_parents([root], system_dirs)]  # fmt: skip
    user = run_as(bwrap, root, probe_setup)
    args = [bwrap, "--die-with-parent", "--new-session", "--unshare-net", "--unshare-pid", "--unshare-ipc",
            "--unshare-uts", "--unshare-cgroup-try"]  # fmt: skip
    if user is None and os.geteuid() == 0:
        args += ["--cap-drop", "ALL"]  # root could not be dropped here: at least no capabilities
    args += [*system, "--proc", "/proc", "--dev", "/dev"]
    args += ["--perms", "1777", "--tmpfs", "/tmp"] if user is not None else ["--tmpfs", "/tmp"]
    for secret in ETC_SECRETS:
        if os.path.isdir(secret) and not os.path.islink(secret):
            args += ["--tmpfs", secret]
        elif os.path.lexists(secret):
            args += ["--ro-bind", "/dev/null", secret]
    for toolchain in toolchains:
        args += ["--ro-bind", str(toolchain), str(toolchain)]
        for secret in HOME_SECRETS:
            hidden = Path.home() / secret
            if hidden.is_file() and hidden.is_relative_to(toolchain):
                args += ["--ro-bind", "/dev/null", str(hidden)]
        args += _private_under(toolchain)
    args += ["--bind", str(root), str(root)]
    if user is not None:
        args += _mount_parents([root, *toolchains], [*system_dirs, *toolchains])
    # The masks may be thousands of paths: bwrap reads them from a memfd (no argv size limit).
    masks = workspace_masks(workspace)
    if masks.count() * 3 > BWRAP_MAX_ARGS - len(args) - 100:
        masks = compact(masks, root)
    listed: list[str] = []
    for git_dir in masks.git_dirs:
        listed += ["--ro-bind", str(git_dir), str(git_dir)]
    for config in WRITE_PROTECTED:  # agentls' and the MCP servers' config: read-only (a new one still needs trust)
        path = root / config.lstrip("/")
        if path.is_file() and not path.is_symlink():
            listed += ["--ro-bind", str(path), str(path)]
    for path in masks.files:
        listed += ["--ro-bind", "/dev/null", str(path)]
    for path in masks.dirs:
        listed += ["--tmpfs", str(path)]
    for path in masks.emptied:
        listed += ["--tmpfs", str(path), "--remount-ro", str(path)]
    if len(args) + len(listed) + 100 > BWRAP_MAX_ARGS:
        raise SandboxRefused(
            f"the workspace holds {masks.count():,} deny-listed files and directories in too many places for "
            f"the sandbox to hide them all (bubblewrap takes at most {BWRAP_MAX_ARGS:,} arguments), so the "
            "command was not run. The user can move those files out of the workspace."
        )
    fd = os.memfd_create("agentls-sandbox-masks", os.MFD_CLOEXEC)
    data = memoryview(b"".join(os.fsencode(arg) + b"\0" for arg in listed))
    while data:
        data = data[os.write(fd, data):]
    os.lseek(fd, 0, os.SEEK_SET)
    args += ["--args", str(fd), "--chdir", str(root), "--"]
    if user is not None:
        return Sandboxed([*user.outer(root), *args, *user.inner(), *argv], fd)
    return Sandboxed([*args, *argv], fd)


def _mount_parents(targets: list[Path], bound: list[Path]) -> list[str]:
    """``--chmod 0755`` for the directories bwrap makes to hold the mount points of ``targets`` (it makes
    them 0700: a command run as another uid could not cross them), those not inside a ``bound`` one."""
    made: set[Path] = set()
    for target in targets:
        for parent in target.parents:
            if parent not in (Path("/"), Path("/tmp")) and not any(parent.is_relative_to(b) for b in bound):
                made.add(parent)
    return [arg for parent in sorted(made) for arg in ("--chmod", "0755", str(parent))]


def _system_binds() -> list[str]:
    binds: list[str] = []
    for directory in SYSTEM_DIRS:
        if os.path.islink(directory):
            binds += ["--symlink", os.readlink(directory), directory]
        elif os.path.isdir(directory):
            binds += ["--ro-bind", directory, directory]
    return binds


def _private_under(bound: Path) -> list[str]:
    """Mounts that hide agentls' own files and the user's keys inside a bound directory (``~/.local``
    when ``~/.local/bin`` is on PATH holds agentls' data: the audit log, every workspace's checkpoints)."""
    from agentls.paths import data_dir

    private = [Path.home() / name for name in HOME_PRIVATE] + [data_dir()]
    hidden: list[str] = []
    for path in private:
        if path.is_dir() and not path.is_symlink() and path.is_relative_to(bound):
            hidden += ["--tmpfs", str(path)]
    return hidden


def limited(argv: list[str], settings: CommandSettings) -> list[str]:
    """``argv`` under ``prlimit`` with the configured limits (as it is when prlimit is missing)."""
    prlimit = shutil.which("prlimit")
    if prlimit is None:
        return argv
    mib = 1024 * 1024
    return [prlimit, f"--data={settings.max_memory_mb * mib}", f"--cpu={settings.max_cpu_s}",
            f"--nproc={settings.max_processes}", f"--fsize={settings.max_file_mb * mib}", "--", *argv]
