"""Workspace: every path the agent touches goes through here.

A path from the model is resolved against the workspace root with symlinks followed; anything that
lands outside the root is refused (``OutsideWorkspace``), and anything that matches the deny-list
(gitignore-style globs such as ``.env*`` or ``.git/``) is refused (``DeniedPath``), whether the
model named it directly or reached it through a symlink. ``PROTECTED`` paths (git's own files wherever
they are, credentials) are refused whatever the settings say, and agentls' own workspace config can be
read but never written. Reads refuse binary and oversized files
(``FileRefused``) and keep line endings exactly; writes are atomic and keep the file's mode.

``is_ignored`` and ``iter_files`` honour the workspace's ``.gitignore`` files (root and nested) and
``.git/info/exclude``, for search and listing. Walks never follow symlinks, never enter ``.git``
(nor a nested repository's), and come out in a fixed order: entries sorted by name at each level,
files and directories interleaved, depth first (ripgrep's ``--sort path`` order). ``path_key``
gives that order for any relative path.
"""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pathspec

from agentls.atomic import fsync_dir
from agentls.config import DEFAULT_DENY, PROTECTED
from agentls.errors import DeniedPath, FileRefused, InvalidRequest, OutsideWorkspace

#: Read but never written: the files that configure agentls itself (``agentls.trust``) and the workspace's
#: MCP servers (``agentls.mcp.trust``): the agent must not plant a setting or a server for the user to trust.
WRITE_PROTECTED = ("/agentls.toml", "/.mcp.json", "/.vscode/mcp.json")

#: Bytes inspected for a NUL when deciding whether a file is binary (as git and ripgrep do).
BINARY_SNIFF_BYTES = 8192
#: A read of part of a file (``view`` with ``view_range``, search) may load files this many times
#: larger than ``max_file_bytes``: the model sees only the part it asked for.
PARTIAL_READ_FACTOR = 16
#: Seconds an ignore file's cached rules are used before its mtime is checked again.
IGNORE_RECHECK_S = 1.0


def path_key(rel: str) -> tuple[str, ...]:
    """Sort key giving the walk order: component by component ("a/z" sorts before "a b")."""
    return tuple(rel.split("/"))


@dataclass(frozen=True)
class _IgnoreFile:
    stamp: tuple[int, int] | None
    spec: pathspec.GitIgnoreSpec | None
    checked: float


class Workspace:
    """The workspace root, its deny-list, its ignore rules and its size limit."""

    def __init__(
        self, root: Path, deny: Sequence[str] = DEFAULT_DENY, max_file_bytes: int = 1_000_000
    ) -> None:
        self.root = Path(os.path.realpath(root))
        self._root_str = str(self.root)
        self._given_root = Path(os.path.abspath(root))
        if not self.root.is_dir():
            raise InvalidRequest(f"workspace root {root} is not a directory")
        self.deny_patterns = (*PROTECTED, *deny)
        self._deny = pathspec.GitIgnoreSpec.from_lines(self.deny_patterns)
        self._write_protected = pathspec.GitIgnoreSpec.from_lines(WRITE_PROTECTED)
        self.max_file_bytes = max_file_bytes
        self._ignore_cache: dict[str, _IgnoreFile] = {}

    @property
    def max_partial_bytes(self) -> int:
        return self.max_file_bytes * PARTIAL_READ_FACTOR

    # -- paths --------------------------------------------------------------------------------

    def resolve(self, path: str | Path) -> Path:
        """The real absolute path for ``path`` (relative to the root, or absolute inside it).

        Raises ``OutsideWorkspace`` when it (or a symlink on the way) leads outside the root,
        ``DeniedPath`` when it matches the deny-list.
        """
        raw = os.fspath(path)
        if "\x00" in raw:
            raise InvalidRequest(f"invalid path {raw!r}: it contains a NUL character")
        candidate = Path(raw) if os.path.isabs(raw) else self.root / raw
        lexical = Path(os.path.normpath(candidate))
        if self._given_root != self.root and lexical.is_relative_to(self._given_root):
            # An absolute path under the root as the caller spelled it (through a symlink).
            lexical = self.root / lexical.relative_to(self._given_root)
            candidate = lexical
        real = Path(os.path.realpath(candidate))
        if not self._inside(real) or not self._inside(lexical):
            raise OutsideWorkspace(
                f"{raw} is outside the workspace ({self.root}); "
                "use a path inside the workspace, relative to its root (e.g. 'src/main.py')"
            )
        for resolved in (lexical, real):
            rel = self.relative(resolved)
            if self.is_denied(rel, is_dir=resolved.is_dir()):
                raise DeniedPath(
                    f"{raw} is on the deny-list (tools.deny: secrets and .git/ are never read or written)"
                )
        return real

    def resolve_for_write(self, path: str | Path) -> Path:
        """``resolve``, and also ``DeniedPath`` for the files only the user may write (agentls' config)."""
        real = self.resolve(path)
        if self._write_protected.match_file(self.relative(real)):
            raise DeniedPath(f"{path} configures agentls itself; only the user edits it")
        return real

    def _inside(self, path: Path) -> bool:
        return path == self.root or path.is_relative_to(self.root)

    def relative(self, path: Path) -> str:
        """``path`` (absolute, inside the root) relative to the root, posix style; "." for the root."""
        rel = Path(os.path.normpath(path)).relative_to(self.root).as_posix()
        return rel or "."

    def is_denied(self, rel: str, *, is_dir: bool = False) -> bool:
        """Whether the relative path matches the deny-list (a directory pattern covers its files)."""
        if rel in ("", "."):
            return False
        if self._deny.match_file(rel):
            return True
        return is_dir and self._deny.match_file(rel + "/")

    # -- reading and writing ------------------------------------------------------------------

    def read_text(self, path: str | Path, *, max_bytes: int | None = None) -> str:
        """The file's text, line endings kept exactly.

        Raises ``FileRefused`` for a binary file (a NUL in its first 8 KiB, or not UTF-8) or one
        larger than ``max_bytes`` (default: ``max_file_bytes``); ``FileNotFoundError`` and
        ``IsADirectoryError`` as ``open`` does.
        """
        real = self.resolve(path)
        return self._read(str(real), self.relative(real), max_bytes)

    def read_walked(self, rel: str, *, max_bytes: int | None = None) -> str:
        """``read_text`` for a path that ``iter_files`` just yielded (already checked: inside, not
        denied, no symlink on the way), without resolving it again; a symlink is not followed."""
        return self._read(os.path.join(self._root_str, rel), rel, max_bytes, os.O_NOFOLLOW)

    def _read(self, real: str, rel: str, max_bytes: int | None, flags: int = 0) -> str:
        limit = self.max_file_bytes if max_bytes is None else max_bytes
        fd = os.open(real, os.O_RDONLY | flags)
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            os.close(fd)
            raise IsADirectoryError(f"{rel} is a directory")
        with os.fdopen(fd, "rb") as handle:
            if info.st_size > limit:
                raise FileRefused(
                    f"{rel} is {info.st_size:,} bytes, over the {limit:,}-byte limit for reading a whole "
                    "file; view a part of it with view_range, or find what you need with search"
                )
            data = handle.read(limit + 1)
        if len(data) > limit:
            raise FileRefused(f"{rel} is over the {limit:,}-byte limit; view a part of it with view_range")
        return self._decode(data, rel)

    @staticmethod
    def _decode(data: bytes, rel: str) -> str:
        if b"\x00" in data[:BINARY_SNIFF_BYTES]:
            raise FileRefused(f"{rel} is a binary file; only text files can be read or edited")
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise FileRefused(
                f"{rel} is not UTF-8 text (undecodable byte at offset {exc.start}); "
                "it cannot be read or edited"
            ) from None

    def write_text(self, path: str | Path, text: str) -> None:
        """Write atomically: a temporary file in the same directory, fsync, ``os.replace``.

        Keeps the existing file's mode (a new file gets 0o666 less the umask), creates missing
        parent directories, and re-checks that the directory is still inside the workspace just
        before writing, so a symlink swapped in meanwhile is not followed out.
        """
        self.write_all([(path, None, text)])

    def write_all(self, changes: Sequence[tuple[str | Path, str | None, str | None]]) -> list[str]:
        """Write every ``(path, before, after)`` change or none (``after`` None deletes; ``before`` is what a
        failure restores); the relative paths written. Raises ``WriteFailed`` (one line: the file and the cause)
        after undoing what was done, and ``DeniedPath``/``OutsideWorkspace`` before writing anything."""
        from agentls.write_transaction import FileWrite, write_all

        writes = []
        for path, before, after in changes:
            real = self.resolve_for_write(path)
            rel = self.relative(real)
            if real.is_dir():
                raise IsADirectoryError(f"{rel} is a directory")
            writes.append(FileWrite(rel, before, after))
        write_all(self._root_str, writes)
        return [write.rel for write in writes]

    def delete(self, path: str | Path) -> None:
        """Remove a file (never a directory)."""
        real = self.resolve_for_write(path)
        if real.is_dir():
            raise IsADirectoryError(f"{self.relative(real)} is a directory")
        os.unlink(real)
        fsync_dir(real.parent)

    # -- ignore rules -------------------------------------------------------------------------

    def _ignore_spec(self, rel_file: str) -> pathspec.GitIgnoreSpec | None:
        """The parsed ignore file at ``rel_file`` (None if absent), re-read when it changes; a
        cached answer is trusted for ``IGNORE_RECHECK_S`` (a walk stats each file once)."""
        now = time.monotonic()
        cached = self._ignore_cache.get(rel_file)
        if cached is not None and now - cached.checked < IGNORE_RECHECK_S:
            return cached.spec
        path = os.path.join(self._root_str, rel_file)
        try:
            info = os.stat(path)
        except OSError:
            self._ignore_cache[rel_file] = _IgnoreFile(None, None, now)
            return None
        stamp = (info.st_mtime_ns, info.st_size)
        if cached is not None and cached.stamp == stamp:
            self._ignore_cache[rel_file] = _IgnoreFile(stamp, cached.spec, now)
            return cached.spec
        try:
            with open(path, encoding="utf-8", errors="replace") as handle:
                lines = handle.read().splitlines()
            spec: pathspec.GitIgnoreSpec | None = pathspec.GitIgnoreSpec.from_lines(lines)
        except (OSError, ValueError):
            spec = None
        self._ignore_cache[rel_file] = _IgnoreFile(stamp, spec, now)
        return spec

    def _ignored_here(self, rel: str, is_dir: bool, from_depth: int = 0) -> bool:
        """Whether the ignore rules match ``rel`` (a directory pattern also matches what is below it;
        parent directories are not checked one by one). Only ``.gitignore`` files at least
        ``from_depth`` levels deep count (0: all, and ``.git/info/exclude`` too)."""
        parts = rel.split("/")
        target = rel + "/" if is_dir else rel
        # The deepest .gitignore with a matching pattern decides; .git/info/exclude comes last.
        for depth in range(len(parts) - 1, from_depth - 1, -1):
            base = "/".join(parts[:depth])
            spec = self._ignore_spec(f"{base}/.gitignore" if base else ".gitignore")
            if spec is None:
                continue
            sub = target[len(base) + 1 :] if base else target
            result = spec.check_file(sub).include
            if result is not None:
                return result
        if from_depth > 0:
            return False
        exclude = self._ignore_spec(".git/info/exclude")
        if exclude is not None:
            return exclude.check_file(target).include is True
        return False

    def is_ignored(self, rel: str, *, is_dir: bool | None = None) -> bool:
        """Whether git would ignore ``rel`` (relative to the root): it or a parent directory matches."""
        rel = rel.strip("/")
        if rel in ("", "."):
            return False
        parts = rel.split("/")
        if ".git" in parts:
            return True
        for depth in range(1, len(parts)):
            if self._ignored_here("/".join(parts[:depth]), True):
                return True
        if is_dir is None:
            is_dir = (self.root / rel).is_dir()
        return self._ignored_here(rel, is_dir)

    def _rules_depth(self, base: str) -> int:
        """For a walk from ``base``: 0, or when ``base`` is itself ignored (asked for by name), the
        depth from which ``.gitignore`` files still apply: the ones inside ``base``."""
        if base in ("", "."):
            return 0
        return len(base.split("/")) if self.is_ignored(base, is_dir=True) else 0

    def shown_under(self, base: str, rel: str) -> bool:
        """Whether a walk from ``base`` (relative dir, "." for the root) would yield the file ``rel``:
        below ``base``, no ``.git`` component, not denied, neither the file nor a directory between
        ``base`` and it ignored."""
        prefix = "" if base in ("", ".") else base.rstrip("/") + "/"
        if not rel.startswith(prefix) or rel == prefix:
            return False
        below = rel[len(prefix) :].split("/")
        if ".git" in below or self.is_denied(rel):
            return False
        from_depth = self._rules_depth(base)
        for depth in range(1, len(below)):
            if self._ignored_here(prefix + "/".join(below[:depth]), True, from_depth):
                return False
        return not self._ignored_here(rel, False, from_depth)

    # -- walking ------------------------------------------------------------------------------

    def iter_files(
        self,
        glob: str | None = None,
        under: str | Path | None = None,
        *,
        max_depth: int | None = None,
        include_dirs: bool = False,
    ) -> Iterator[str]:
        """Relative paths of the visible files under ``under`` (default: the root), in walk order.

        ``glob`` is gitignore-style and relative to ``under``: ``*.py`` matches at any depth,
        ``src/*.py`` only directly in ``src``, ``**`` spans directories. Symlinks are skipped, so
        are ``.git`` entries and deny-listed or ignored paths. ``under`` may be an ignored directory
        or file the caller asked for by name: it is shown, with the ``.gitignore`` files inside it
        still applying. ``include_dirs`` also yields directories (with a trailing "/").
        """
        start = self.root if under is None else self.resolve(under)
        start_rel = self.relative(start)
        if not start.is_dir():
            if start.is_file() and (glob is None or _glob_spec(glob).match_file(start.name)):
                yield start_rel
            return
        walk = _Walk(
            matcher=None if glob is None else _glob_spec(glob),
            strip=0 if start_rel == "." else len(start_rel) + 1,
            max_depth=max_depth,
            include_dirs=include_dirs,
            from_depth=self._rules_depth(start_rel),
        )
        yield from self._walk(start, "" if start_rel == "." else start_rel + "/", walk, 1)

    def _walk(self, directory: Path, prefix: str, walk: _Walk, depth: int) -> Iterator[str]:
        try:
            with os.scandir(directory) as entries:
                listing = sorted(entries, key=lambda entry: entry.name)
        except OSError:
            return
        for entry in listing:
            if entry.name == ".git" or entry.is_symlink():
                continue
            rel = prefix + entry.name
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError:
                continue
            if self.is_denied(rel, is_dir=is_dir) or self._ignored_here(rel, is_dir, walk.from_depth):
                continue
            below = rel[walk.strip :]
            if is_dir:
                if walk.include_dirs and (walk.matcher is None or walk.matcher.match_file(below + "/")):
                    yield rel + "/"
                if walk.max_depth is None or depth < walk.max_depth:
                    yield from self._walk(Path(entry.path), rel + "/", walk, depth + 1)
            elif entry.is_file(follow_symlinks=False) and (
                walk.matcher is None or walk.matcher.match_file(below)
            ):
                yield rel


@dataclass(frozen=True)
class _Walk:
    matcher: pathspec.GitIgnoreSpec | None
    strip: int
    max_depth: int | None
    include_dirs: bool
    from_depth: int


@cache
def _glob_spec(glob: str) -> pathspec.GitIgnoreSpec:
    return pathspec.GitIgnoreSpec.from_lines([glob])


def glob_matches(glob: str | None, rel_to_base: str) -> bool:
    """Whether a path relative to the search base matches a gitignore-style glob (None: all)."""
    return glob is None or bool(_glob_spec(glob).match_file(rel_to_base))
