"""Running ``git`` against the shadow repository, isolated from the user's setup.

Every invocation gets a fresh environment built here, never the caller's: ``GIT_DIR``,
``GIT_WORK_TREE`` and ``GIT_INDEX_FILE`` name the shadow repository, no system or global config is
read (``GIT_CONFIG_NOSYSTEM``, ``GIT_CONFIG_GLOBAL=/dev/null``, ``HOME`` an empty directory), no
system attributes, hooks off, a fixed author. A user's ``GIT_DIR``, ``GIT_OBJECT_DIRECTORY``,
``GIT_CONFIG_PARAMETERS``... never reach git.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path

from agentls.errors import CheckpointError

log = logging.getLogger(__name__)

AUTHOR_NAME = "agentls"
AUTHOR_EMAIL = "agentls@localhost"
#: For commands given paths: take them literally, not as globs (not for check-ignore, which refuses it).
LITERAL = {"GIT_LITERAL_PATHSPECS": "1"}


class GitFailed(CheckpointError):
    """A git command exited with an error; ``stderr`` holds its full message (for the log)."""

    def __init__(self, message: str, stderr: str = "") -> None:
        super().__init__(message)
        self.stderr = stderr


def isolated_env(git_dir: Path, work_tree: Path, home: Path) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", os.defpath),
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "LANG": "C",
        "LC_ALL": "C",
        "TZ": "UTC",
        "GIT_DIR": str(git_dir),
        "GIT_WORK_TREE": str(work_tree),
        "GIT_INDEX_FILE": str(git_dir / "index"),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_ATTR_NOSYSTEM": "1",
        # Command-line config: read before anything else and trusted for safe.directory.
        "GIT_CONFIG_COUNT": "3",
        "GIT_CONFIG_KEY_0": "safe.directory",
        "GIT_CONFIG_VALUE_0": "*",
        "GIT_CONFIG_KEY_1": "core.hooksPath",
        "GIT_CONFIG_VALUE_1": os.devnull,
        "GIT_CONFIG_KEY_2": "commit.gpgSign",
        "GIT_CONFIG_VALUE_2": "false",
        "GIT_AUTHOR_NAME": AUTHOR_NAME,
        "GIT_AUTHOR_EMAIL": AUTHOR_EMAIL,
        "GIT_COMMITTER_NAME": AUTHOR_NAME,
        "GIT_COMMITTER_EMAIL": AUTHOR_EMAIL,
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_NO_REPLACE_OBJECTS": "1",
        "GIT_PAGER": "cat",
        "PAGER": "cat",
    }


class Git:
    """``git`` with the isolated environment; failures become ``CheckpointError``s."""

    def __init__(self, git_dir: Path, work_tree: Path, home: Path) -> None:
        self.env = isolated_env(git_dir, work_tree, home)
        self.work_tree = work_tree

    def executable(self) -> str:
        found = shutil.which("git", path=self.env["PATH"])
        if found is None:
            raise CheckpointError("git is not installed (or not on PATH); checkpoints need it, so nothing was written")
        return found

    def run(self, *args: str, input: bytes | None = None, env: Mapping[str, str] | None = None,
            timeout: float | None = None, ok: tuple[int, ...] = (0,)) -> bytes:
        """Run ``git ARGS`` in the work tree; stdout when the exit status is in ``ok``, else ``GitFailed``."""
        command = [self.executable(), *args]
        try:
            proc = subprocess.run(command, input=input, capture_output=True, cwd=self.work_tree,
                                  env={**self.env, **(env or {})}, timeout=timeout, check=False,
                                  stdin=None if input is not None else subprocess.DEVNULL)
        except subprocess.TimeoutExpired as exc:
            raise GitFailed(f"git {args[0]} took longer than {timeout:.0f} s") from exc
        except OSError as exc:
            raise CheckpointError(f"git {args[0]} could not be started: {exc.strerror or exc}") from exc
        if proc.returncode not in ok:
            stderr = proc.stderr.decode("utf-8", "replace").strip()
            lines = [line for line in stderr.splitlines() if line.strip() and not line.startswith("hint:")]
            detail = lines[-1] if lines else f"exit status {proc.returncode}"
            log.debug("git %s failed (%s): %s", " ".join(args), proc.returncode, stderr)
            raise GitFailed(f"git {args[0]} failed: {detail.removeprefix('fatal: ').removeprefix('error: ')}", stderr)
        return proc.stdout
