"""The shadow repository's object database: read with GitPython, write loose objects or one pack.

Reads go through GitPython's pure-Python object database (``git.db.GitDB``: loose objects and packs,
no ``git`` process). Writes are loose objects written here (zlib level 1, temporary file + rename),
or, for a whole-tree scan with many new files, one pack (``PackWriter``) that ``git index-pack``
indexes. A write of an object that already exists as a loose file touches its mtime instead, so a
concurrent ``git gc --prune=<grace>`` never deletes an object that a new checkpoint is about to
reference (git "freshens" objects the same way).

Trees are edited by path (``apply``): only the trees on the way to a changed path are read and
written, so a checkpoint of five files in a 50,000-file tree writes a handful of objects.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import struct
import threading
import zlib
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from agentls.errors import CheckpointError

if TYPE_CHECKING:
    from git.db import GitDB

MODE_TREE = 0o040000
MODE_FILE = 0o100644
MODE_EXEC = 0o100755
MODE_LINK = 0o120000
MODE_GITLINK = 0o160000
EMPTY_TREE = bytes.fromhex("4b825dc642cb6eb9a060e54bf8d69288fbee4904")
#: zlib level for objects we write: speed over size (``git gc`` recompresses when it repacks).
COMPRESSION = 1
_TREE_CACHE_SIZE = 4096
_PACK_TYPES = {b"commit": 1, b"tree": 2, b"blob": 3}


class Entry(NamedTuple):
    """A tree entry: git mode (``MODE_*``) and the object's 20-byte id."""

    mode: int
    sha: bytes


def object_id(kind: bytes, data: bytes) -> bytes:
    return hashlib.sha1(b"%s %d\x00" % (kind, len(data)) + data, usedforsecurity=False).digest()


def encode_name(name: str) -> bytes:
    return name.encode("utf-8", "surrogateescape")


def _sort_key(item: tuple[str, Entry]) -> bytes:
    # git orders tree entries by name, a directory compared as if its name ended with "/".
    name, entry = item
    return encode_name(name) + (b"/" if entry.mode == MODE_TREE else b"")


def serialize_tree(entries: Mapping[str, Entry]) -> bytes:
    parts = []
    for name, entry in sorted(entries.items(), key=_sort_key):
        parts.append(b"%o %s\x00%s" % (entry.mode, encode_name(name), entry.sha))
    return b"".join(parts)


def _load_gitdb(objects: Path) -> GitDB:
    try:
        from git.db import GitDB
    except ImportError as exc:  # GitPython refuses to import without a git executable
        raise CheckpointError(f"GitPython could not be loaded (is git installed?): {exc}".splitlines()[0]) from exc
    return GitDB(str(objects))


def parse_tree(data: bytes) -> dict[str, Entry]:
    """A tree object's entries by name (GitPython's parser validates every name: 10x slower)."""
    entries: dict[str, Entry] = {}
    position, end = 0, len(data)
    while position < end:
        space = data.index(b" ", position)
        nul = data.index(b"\x00", space)
        if nul + 21 > end:
            raise ValueError("truncated tree entry")
        name = data[space + 1 : nul].decode("utf-8", "surrogateescape")
        entries[name] = Entry(int(data[position:space], 8), data[nul + 1 : nul + 21])
        position = nul + 21
    return entries


class ObjectSink:
    """Where new objects go: ``ObjectStore`` (loose) or a ``PackWriter``."""

    def write(self, kind: bytes, data: bytes) -> bytes:  # pragma: no cover - interface
        raise NotImplementedError


class ObjectStore(ObjectSink):
    """Objects of one repository (``<git_dir>/objects``); safe to share between threads."""

    def __init__(self, objects: Path) -> None:
        self.objects = objects
        self._db: GitDB | None = None
        self._lock = threading.Lock()
        # gitdb is not thread-safe (its pack list is re-sorted in place while being read): one reader at a time.
        self._db_lock = threading.RLock()
        self._trees: OrderedDict[bytes, dict[str, Entry]] = OrderedDict()

    def _gitdb(self) -> GitDB:
        with self._db_lock:
            if self._db is None:
                self._db = _load_gitdb(self.objects)
            return self._db

    def refresh(self) -> None:
        """Look again for packs (after a scan wrote one, or ``git gc`` replaced them)."""
        with self._db_lock:
            self._gitdb().update_cache(force=True)

    # -- reading ------------------------------------------------------------------------------

    def read(self, sha: bytes) -> tuple[bytes, bytes]:
        """``(kind, data)`` of an object; ``CheckpointError`` when it is missing or unreadable."""
        try:
            return self._read(sha)
        except CheckpointError:
            raise
        except Exception:  # gitdb raises BadObject, OSError, ValueError, zlib.error...
            self.refresh()  # a pack may have appeared or been replaced (scan, gc) since we looked
        try:
            return self._read(sha)
        except CheckpointError:
            raise
        except Exception as exc:
            raise CheckpointError(
                f"object {sha.hex()} is missing or damaged in the shadow repository ({type(exc).__name__})"
            ) from exc

    def _read(self, sha: bytes) -> tuple[bytes, bytes]:
        with self._db_lock:
            stream = self._gitdb().stream(sha)
            return bytes(stream.type), bytes(stream.read())

    def has(self, sha: bytes) -> bool:
        if sha == EMPTY_TREE:
            return True
        with self._db_lock:
            db = self._gitdb()
            if db.has_object(sha):
                return True
            db.update_cache(force=True)
            return bool(db.has_object(sha))

    def tree(self, sha: bytes) -> dict[str, Entry]:
        """A tree's entries by name (cached: objects never change)."""
        if sha == EMPTY_TREE:
            return {}
        with self._lock:
            cached = self._trees.get(sha)
            if cached is not None:
                self._trees.move_to_end(sha)
                return cached
        kind, data = self.read(sha)
        if kind != b"tree":
            raise CheckpointError(f"object {sha.hex()} is a {kind.decode()}, not a tree")
        try:
            entries = parse_tree(data)
        except ValueError as exc:
            raise CheckpointError(f"tree {sha.hex()} is damaged: {exc}") from exc
        with self._lock:
            self._trees[sha] = entries
            if len(self._trees) > _TREE_CACHE_SIZE:
                self._trees.popitem(last=False)
        return entries

    def commit(self, sha: bytes) -> tuple[bytes, str]:
        """``(tree id, message)`` of a commit."""
        kind, data = self.read(sha)
        if kind != b"commit":
            raise CheckpointError(f"object {sha.hex()} is a {kind.decode()}, not a commit")
        header, _, message = data.partition(b"\n\n")
        first = header.split(b"\n", 1)[0]
        if not first.startswith(b"tree ") or len(first) != 45:
            raise CheckpointError(f"commit {sha.hex()} is damaged")
        return bytes.fromhex(first[5:].decode("ascii")), message.decode("utf-8", "replace")

    def lookup(self, tree: bytes, path: str) -> Entry | None:
        """The entry at ``path`` (posix, relative) in ``tree``, or None."""
        current = Entry(MODE_TREE, tree)
        for part in path.split("/"):
            if current.mode != MODE_TREE:
                return None
            found = self.tree(current.sha).get(part)
            if found is None:
                return None
            current = found
        return current

    def files(self, tree: bytes, prefix: str = "") -> Iterator[tuple[str, Entry]]:
        """Every non-tree entry below ``tree``, as ``(path, entry)``."""
        for name, entry in self.tree(tree).items():
            path = prefix + name
            if entry.mode == MODE_TREE:
                yield from self.files(entry.sha, path + "/")
            else:
                yield path, entry

    def diff(self, old: bytes, new: bytes, prefix: str = "") -> Iterator[tuple[str, Entry | None, Entry | None]]:
        """Files that differ between two trees: ``(path, old entry, new entry)``; equal subtrees are skipped."""
        if old == new:
            return
        before, after = self.tree(old), self.tree(new)
        for name in sorted(before.keys() | after.keys()):
            a, b = before.get(name), after.get(name)
            if a == b:
                continue
            path = prefix + name
            a_tree = a is not None and a.mode == MODE_TREE
            b_tree = b is not None and b.mode == MODE_TREE
            if a_tree or b_tree:
                yield from self.diff(a.sha if a_tree and a else EMPTY_TREE, b.sha if b_tree and b else EMPTY_TREE,
                                     path + "/")
            if (a is not None and not a_tree) or (b is not None and not b_tree):
                yield path, (a if not a_tree else None), (b if not b_tree else None)

    # -- writing ------------------------------------------------------------------------------

    def write(self, kind: bytes, data: bytes) -> bytes:
        """Store an object as a loose file (or freshen the existing one); returns its id."""
        raw = b"%s %d\x00" % (kind, len(data)) + data
        sha = hashlib.sha1(raw, usedforsecurity=False).digest()
        hexsha = sha.hex()
        directory = self.objects / hexsha[:2]
        path = directory / hexsha[2:]
        try:
            os.utime(path)
            return sha
        except FileNotFoundError:
            pass
        directory.mkdir(exist_ok=True)
        tmp = directory / f"tmp_obj_agentls_{secrets.token_hex(6)}"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o444)
            try:
                view = memoryview(zlib.compress(raw, COMPRESSION))
                while view:
                    view = view[os.write(fd, view):]
            finally:
                os.close(fd)
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return sha

    def write_tree(self, entries: Mapping[str, Entry], sink: ObjectSink | None = None) -> bytes:
        if not entries:
            return EMPTY_TREE
        return (sink or self).write(b"tree", serialize_tree(entries))

    def write_commit(self, tree: bytes, message: str, when: float) -> bytes:
        ident = f"agentls <agentls@localhost> {int(when)} +0000"
        body = f"tree {tree.hex()}\nauthor {ident}\ncommitter {ident}\n\n{message}"
        if not body.endswith("\n"):
            body += "\n"
        return self.write(b"commit", body.encode("utf-8"))

    def apply(self, tree: bytes, changes: Mapping[str, Entry | None], sink: ObjectSink | None = None) -> bytes:
        """``tree`` with files set (an ``Entry``) or removed (None) by path; only the trees on the way
        to a change are rewritten. Removing a file never removes a directory of the same name; a
        directory left empty disappears; setting ``a/b`` where ``a`` is a file replaces the file."""
        if not changes:
            return tree
        here: dict[str, Entry | None] = {}
        below: dict[str, dict[str, Entry | None]] = {}
        for path, entry in changes.items():
            head, sep, rest = path.partition("/")
            if sep:
                below.setdefault(head, {})[rest] = entry
            else:
                here[head] = entry
        original = self.tree(tree)
        entries = dict(original)
        for name, change in here.items():
            current = entries.get(name)
            if change is None:
                if current is not None and current.mode != MODE_TREE:
                    del entries[name]
            else:
                entries[name] = change
        for name, sub in below.items():
            current = entries.get(name)
            if current is not None and current.mode != MODE_TREE:
                if all(change is None for change in sub.values()):
                    continue  # removing files below a path that is a file: nothing to do
                current = None
            new = self.apply(current.sha if current else EMPTY_TREE, sub, sink)
            if new == EMPTY_TREE:
                entries.pop(name, None)
            else:
                entries[name] = Entry(MODE_TREE, new)
        if entries == original:
            return tree
        return self.write_tree(entries, sink)


class PackWriter(ObjectSink):
    """Many new objects in one pack file instead of thousands of loose files.

    ``finish`` has ``index`` (a callable running ``git index-pack`` on the file) build the index,
    then moves both into ``objects/pack`` under git's names. Objects are readable once ``finish``
    has returned.
    """

    def __init__(self, pack_dir: Path, known: Callable[[bytes], bool]) -> None:
        self.pack_dir = pack_dir
        self._known = known
        self._seen: set[bytes] = set()
        self.count = 0
        self.path = pack_dir / f"tmp_pack_agentls_{secrets.token_hex(6)}.pack"
        self._handle = open(self.path, "wb", buffering=1 << 20)  # noqa: SIM115 - closed in finish/abort
        self._handle.write(b"PACK" + struct.pack(">II", 2, 0))

    def write(self, kind: bytes, data: bytes) -> bytes:
        sha = object_id(kind, data)
        if sha in self._seen or self._known(sha):
            return sha
        self._seen.add(sha)
        size = len(data)
        byte = (_PACK_TYPES[kind] << 4) | (size & 0x0F)
        size >>= 4
        header = bytearray()
        while size:
            header.append(byte | 0x80)
            byte = size & 0x7F
            size >>= 7
        header.append(byte)
        self._handle.write(header)
        self._handle.write(zlib.compress(data, COMPRESSION))
        self.count += 1
        return sha

    def abort(self) -> None:
        self._handle.close()
        self.path.unlink(missing_ok=True)
        self.path.with_suffix(".idx").unlink(missing_ok=True)

    def finish(self, index: Callable[[Path], None]) -> None:
        """Write the header's count and the trailing checksum, index the pack, install it."""
        try:
            if self.count == 0:
                self.abort()
                return
            self._handle.seek(8)
            self._handle.write(struct.pack(">I", self.count))
            self._handle.close()
            digest = hashlib.sha1(usedforsecurity=False)
            with open(self.path, "rb") as handle:
                while chunk := handle.read(1 << 20):
                    digest.update(chunk)
            with open(self.path, "ab") as handle:
                handle.write(digest.digest())
            index(self.path)
            name = f"pack-{digest.hexdigest()}"
            # The .pack first, its .idx last: readers only look at packs that have an index.
            os.replace(self.path, self.pack_dir / f"{name}.pack")
            os.replace(self.path.with_suffix(".idx"), self.pack_dir / f"{name}.idx")
        except BaseException:
            self.abort()
            raise
