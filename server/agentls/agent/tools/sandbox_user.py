"""Who a sandboxed command runs as when agentls runs as root: never root.

A user namespace alone does not drop root: bwrap's ``--unshare-user --uid 65534`` run by real root maps
the inside uid back to uid 0, so the command still *owns* every root-owned file and reads a root-only
(mode 0600) file in any directory bound into the sandbox; ``--cap-drop ALL`` leaves that owner access
too. So the command switches to a real unprivileged uid inside the sandbox (``setpriv``: every
capability dropped, bounding set emptied, no new privileges, so setuid programs cannot regain root):

- the workspace owner's uid and gid when the workspace root is not owned by root: the command can
  do what that user can, no more;
- else uid/gid ``SANDBOX_UID`` (nobody), with the workspace mounted *idmapped* (``sandbox_idmap``, a
  private mount namespace): on-disk uid 0 shows as ``SANDBOX_UID`` there, so the root-owned
  workspace stays writable (what the command creates is owned by root on disk) while root-owned files
  elsewhere are out of its reach. Files in the workspace owned by another uid keep their owner, so they
  are writable only if their mode allows it to others.

Each way is probed once per workspace (a command in the exact setup checks that it is the expected uid
and can write the workspace). When neither works (no ``setpriv``, a kernel or filesystem without
idmapped mounts, a container that forbids them), the command keeps uid 0 but bwrap drops every
capability (``--cap-drop ALL``): then it cannot pass permission checks (no ``CAP_DAC_OVERRIDE``), but
it still owns root's files, so a root-owned file of mode 0600 in a bound directory stays readable; the
limit the module docstring of ``command_sandbox`` states. When agentls does not run as root, bwrap's
own user namespace already runs the command as the user, without capabilities outside it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

#: The uid and gid a command run by root gets when the workspace belongs to root (nobody/nogroup).
SANDBOX_UID = 65534
_HELPER = str(Path(__file__).with_name("sandbox_idmap.py"))
_PROBED: dict[tuple[str, str, int, int], bool] = {}


@dataclass(frozen=True)
class RunAs:
    uid: int
    gid: int
    idmap: bool  # the workspace is mounted idmapped: root's files show as ``uid``'s
    setpriv: str

    def outer(self, root: Path) -> list[str]:
        """What runs before bwrap (as root, outside the sandbox)."""
        if not self.idmap:
            return []
        return [sys.executable, "-I", "-S", _HELPER, str(self.uid), str(root), "--"]

    def inner(self) -> list[str]:
        """What runs inside the sandbox before the command: the switch to the unprivileged uid."""
        return [self.setpriv, f"--reuid={self.uid}", f"--regid={self.gid}", "--clear-groups", "--inh-caps=-all",
                "--bounding-set=-all", "--no-new-privs", "--"]  # fmt: skip


def run_as(bwrap: str, root: Path, setup: list[str]) -> RunAs | None:
    """The unprivileged user for a command in ``root`` when agentls runs as root; None when it does not
    (nothing to drop) or when no way to drop works here (then bwrap drops the capabilities only).
    ``setup``: the sandbox's mounts for the probe (system directories, /tmp, the workspace)."""
    if os.geteuid() != 0:
        return None
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        return None
    info = os.stat(root)
    if info.st_uid != 0:
        candidate = RunAs(info.st_uid, info.st_gid, False, setpriv)
    else:
        candidate = RunAs(SANDBOX_UID, SANDBOX_UID, True, setpriv)
    key = (bwrap, str(root), info.st_uid, info.st_dev)
    if key not in _PROBED:
        _PROBED[key] = _works(bwrap, root, setup, candidate)
    return candidate if _PROBED[key] else None


def _works(bwrap: str, root: Path, setup: list[str], run: RunAs) -> bool:
    """Whether a command in this setup runs as ``run.uid`` and can write the workspace and /tmp."""
    check = 'test "$(id -u)" = "$1" && test -w "$2" && test -w /tmp'
    args = [*run.outer(root), bwrap, "--die-with-parent", "--unshare-pid", *setup, "--", *run.inner(),
            "/bin/sh", "-c", check, "probe", str(run.uid), str(root)]  # fmt: skip
    try:
        done = subprocess.run(args, stdin=subprocess.DEVNULL, capture_output=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0
