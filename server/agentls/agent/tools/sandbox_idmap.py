"""Run as root before ``bwrap`` (stdlib only, executed as a script, never imported by the server): in a
private mount namespace, mount the workspace over itself *idmapped* so that its root-owned files
appear owned by the sandbox uid, then exec the rest of the command line (``bwrap ...``).

Usage: ``python -I -S sandbox_idmap.py UID WORKSPACE -- bwrap ...``; exit code 125 when the mount
cannot be made (``sandbox_user`` probes once that it can).

Why: a command run as root keeps root's access to every root-owned file in the directories bound into
the sandbox (a user namespace does not help: its uid maps back to root, the files' owner). The command
therefore runs as an unprivileged uid (``setpriv`` inside the sandbox), and this mount is what keeps
the root-owned workspace writable for it: on disk, what it creates is owned by root, as before. The
mount namespace is private to this process and ``bwrap`` (it vanishes with them); nothing is mounted
on the host.

The idmap: on-disk uid/gid 0 shows as UID, every other id as itself (UID itself is left unmapped).
Needs Linux >= 5.12 and a filesystem that supports idmapped mounts (ext4, xfs, btrfs, tmpfs >= 6.3, ...).
"""

from __future__ import annotations

import ctypes
import os
import sys

CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000
MS_REC = 0x4000
MS_PRIVATE = 1 << 18
SYS_OPEN_TREE, SYS_MOVE_MOUNT, SYS_MOUNT_SETATTR = 428, 429, 442  # x86_64 and aarch64 alike (new syscalls)
OPEN_TREE_CLONE, OPEN_TREE_CLOEXEC = 1, 0o2000000
AT_FDCWD, AT_EMPTY_PATH, AT_RECURSIVE = -100, 0x1000, 0x8000
MOVE_MOUNT_F_EMPTY_PATH = 0x4
MOUNT_ATTR_IDMAP = 0x00100000
MAX_ID = 4294967295  # ids 0 .. 2**32-2


class _MountAttr(ctypes.Structure):
    _fields_ = [("attr_set", ctypes.c_uint64), ("attr_clr", ctypes.c_uint64),
                ("propagation", ctypes.c_uint64), ("userns_fd", ctypes.c_uint64)]  # fmt: skip


_libc = ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> int:
    if result < 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")
    return result


def id_map(uid: int) -> str:
    """0 -> uid, 1 .. uid-1 and uid+1 .. as themselves (uid_map lines: inside outside count)."""
    return f"0 {uid} 1\n1 1 {uid - 1}\n{uid + 1} {uid + 1} {MAX_ID - uid - 1}\n"


def _userns_fd(uid: int) -> int:
    """A user namespace with ``id_map(uid)`` (made by a short-lived child), as an open fd."""
    ready_r, ready_w = os.pipe()
    done_r, done_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: enter a new user namespace, say so, wait for the parent to map it
        try:
            os.close(ready_r)
            os.close(done_w)
            _check(_libc.unshare(CLONE_NEWUSER), "unshare(CLONE_NEWUSER)")
            os.write(ready_w, b"1")
            os.read(done_r, 1)
        finally:
            os._exit(0)
    os.close(ready_w)
    os.close(done_r)
    try:
        if os.read(ready_r, 1) != b"1":
            raise OSError("could not create a user namespace")
        with open(f"/proc/{pid}/uid_map", "w") as handle:
            handle.write(id_map(uid))
        with open(f"/proc/{pid}/setgroups", "w") as handle:
            handle.write("deny")
        with open(f"/proc/{pid}/gid_map", "w") as handle:
            handle.write(id_map(uid))
        return os.open(f"/proc/{pid}/ns/user", os.O_RDONLY | os.O_CLOEXEC)
    finally:
        os.close(done_w)
        os.close(ready_r)
        os.waitpid(pid, 0)


def idmapped_clone(workspace: str, uid: int) -> int:
    """A detached, idmapped copy of the mount tree at ``workspace`` (an fd)."""
    userns = _userns_fd(uid)
    try:
        tree = _check(_libc.syscall(SYS_OPEN_TREE, AT_FDCWD, workspace.encode(),
                                    OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE), "open_tree")  # fmt: skip
        attr = _MountAttr(MOUNT_ATTR_IDMAP, 0, 0, userns)
        _check(_libc.syscall(SYS_MOUNT_SETATTR, tree, b"", AT_EMPTY_PATH | AT_RECURSIVE, ctypes.byref(attr),
                             ctypes.c_size_t(ctypes.sizeof(attr))), "mount_setattr(MOUNT_ATTR_IDMAP)")  # fmt: skip
        return tree
    finally:
        os.close(userns)


def main(args: list[str]) -> None:
    uid, workspace, rest = int(args[0]), args[1], args[3:]
    tree = idmapped_clone(workspace, uid)
    _check(_libc.unshare(CLONE_NEWNS), "unshare(CLONE_NEWNS)")
    _check(_libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None), "mount --make-rprivate /")
    _check(_libc.syscall(SYS_MOVE_MOUNT, tree, b"", AT_FDCWD, workspace.encode(), MOVE_MOUNT_F_EMPTY_PATH),
           "move_mount")  # fmt: skip
    os.close(tree)
    os.execvp(rest[0], rest)


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except OSError as exc:
        sys.stderr.write(f"agentls sandbox: cannot map the workspace for an unprivileged user ({exc})\n")
        sys.exit(125)
