"""The symbol index's storage: one SQLite database per workspace, under agentls's data directory.

A separate file from the user-wide store (``agentls.db``): it is large (a row per definition and
reference), rebuilt freely, and written by the index builder process while the server reads it
(WAL lets both go on at once). Deleting it loses nothing but time.

A file's rows are keyed by its path and its stamp (size, mtime in ns) plus a content hash, checked
when the stamp moved but the size did not ("hash on doubt"). A stamp of -1 marks rows taken from an
unsaved editor buffer: the next scan re-reads the file from disk.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from agentls.paths import data_dir

SCHEMA_VERSION = 2
SCHEMA = [
    """CREATE TABLE files (
        id INTEGER PRIMARY KEY,
        path TEXT NOT NULL UNIQUE,
        language TEXT NOT NULL,
        size INTEGER NOT NULL,
        mtime_ns INTEGER NOT NULL,
        hash TEXT NOT NULL
    )""",
    # Definitions, one row each, with where they are and their first line.
    """CREATE TABLE defs (
        file_id INTEGER NOT NULL,
        name TEXT NOT NULL,
        kind TEXT NOT NULL,
        line INTEGER NOT NULL,
        start INTEGER NOT NULL,
        end INTEGER NOT NULL,
        sig TEXT NOT NULL
    )""",
    "CREATE INDEX defs_file ON defs(file_id)",
    "CREATE INDEX defs_name ON defs(name)",
    # References, one row per (file, name) with a count: the ranking needs no more, and it keeps
    # the index small (a file's own references are taken from its text when it is being edited).
    """CREATE TABLE refs (
        file_id INTEGER NOT NULL,
        name TEXT NOT NULL,
        count INTEGER NOT NULL
    )""",
    "CREATE INDEX refs_file ON refs(file_id)",
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
]

#: A definition as written: name, kind, line, start, end, sig (the line its name is on).
DefRow = tuple[str, str, int, int, int, str]
#: What one file contributes: its definitions, and its references as name -> count.
FileTags = tuple[list[DefRow], dict[str, int]]


@dataclass(frozen=True, slots=True)
class FileRow:
    id: int
    path: str
    language: str
    size: int
    mtime_ns: int
    hash: str


@dataclass(frozen=True, slots=True)
class Definition:
    path: str
    name: str
    kind: str
    line: int
    start: int
    end: int
    sig: str


def index_path(root: Path) -> Path:
    """Where the index of the workspace ``root`` lives."""
    key = hashlib.sha1(str(root).encode("utf-8", "surrogatepass")).hexdigest()[:16]
    return data_dir() / "index" / f"{root.name or 'root'}-{key}.sqlite"


def content_hash(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


class IndexDB:
    """Thread-safe access to one workspace's index (one connection, serialised by a lock)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(path, timeout=30, check_same_thread=False, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.execute("PRAGMA busy_timeout=30000")
        self._migrate()

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def _migrate(self) -> None:
        with self._lock:
            version = self._conn.execute("PRAGMA user_version").fetchone()[0]
            if version == SCHEMA_VERSION:
                return
            with self.transaction() as conn:
                if conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION:
                    return  # another process (the builder, the server) migrated it meanwhile
                # An index is a cache: an unknown version is dropped and rebuilt, never migrated.
                for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type='table'").fetchall():
                    conn.execute(f'DROP TABLE IF EXISTS "{name}"')
                for statement in SCHEMA:
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    # -- reads ----------------------------------------------------------------------------------

    def files(self) -> dict[str, FileRow]:
        with self._lock:
            rows = self._conn.execute("SELECT id, path, language, size, mtime_ns, hash FROM files").fetchall()
        return {row[1]: FileRow(*row) for row in rows}

    def file_count(self) -> int:
        with self._lock:
            return int(self._conn.execute("SELECT COUNT(*) FROM files").fetchone()[0])

    def generation(self) -> int:
        """A number that changes whenever any file's rows change (for caches built on the index)."""
        with self._lock:
            row = self._conn.execute("SELECT value FROM meta WHERE key='generation'").fetchone()
        return int(row[0]) if row else 0

    def graph_rows(self) -> tuple[int, dict[int, str], list[tuple[int, str]], list[tuple[int, str, int]]]:
        """Generation, paths by id, (file id, name) definitions and (file id, name, count) references,
        read in one transaction: a consistent snapshot even while files are being updated."""
        with self._lock:
            self._conn.execute("BEGIN")
            try:
                row = self._conn.execute("SELECT value FROM meta WHERE key='generation'").fetchone()
                paths = dict(self._conn.execute("SELECT id, path FROM files").fetchall())
                defs = self._conn.execute("SELECT DISTINCT file_id, name FROM defs").fetchall()
                refs = self._conn.execute("SELECT file_id, name, count FROM refs").fetchall()
            finally:
                self._conn.execute("COMMIT")
        return (int(row[0]) if row else 0), paths, defs, refs

    def definitions_of(self, names: Sequence[str]) -> list[Definition]:
        """Every definition of any of ``names``, in a fixed order (path, line)."""
        found: list[Definition] = []
        with self._lock:
            for offset in range(0, len(names), 500):
                chunk = list(names[offset:offset + 500])
                marks = ",".join("?" * len(chunk))
                found.extend(Definition(*row) for row in self._conn.execute(
                    f"SELECT f.path, d.name, d.kind, d.line, d.start, d.end, d.sig FROM defs d "
                    f"JOIN files f ON f.id = d.file_id WHERE d.name IN ({marks})", chunk))
        found.sort(key=lambda d: (d.path, d.line, d.name))
        return found

    def all_definitions(self) -> list[Definition]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT f.path, d.name, d.kind, d.line, d.start, d.end, d.sig FROM defs d "
                "JOIN files f ON f.id = d.file_id").fetchall()
        return [Definition(*row) for row in rows]

    def search_definitions(self, prefix: str, limit: int = 100) -> list[Definition]:
        """Definitions whose name starts with ``prefix``: exact case first (the name index), then any case."""
        select = ("SELECT f.path, d.name, d.kind, d.line, d.start, d.end, d.sig FROM defs d "
                  "JOIN files f ON f.id = d.file_id ")
        escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        with self._lock:
            rows = self._conn.execute(select + "WHERE d.name >= ? AND d.name < ? ORDER BY d.name LIMIT ?",
                                      (prefix, prefix + "\U0010ffff", limit)).fetchall()
            if len(rows) < limit:
                rows += self._conn.execute(select + "WHERE d.name LIKE ? ESCAPE '\\' AND NOT "
                                           "(d.name >= ? AND d.name < ?) LIMIT ?",
                                           (escaped + "%", prefix, prefix + "\U0010ffff",
                                            limit - len(rows))).fetchall()
        return [Definition(*row) for row in rows]

    def reference_counts(self, name: str, limit: int = 200) -> list[tuple[str, int]]:
        """The files that reference ``name``, most references first."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT f.path, r.count FROM refs r JOIN files f ON f.id = r.file_id WHERE r.name = ? "
                "ORDER BY r.count DESC, f.path LIMIT ?", (name, limit)).fetchall()
        return [(row[0], int(row[1])) for row in rows]

    def definitions_in(self, path: str) -> list[Definition]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT f.path, d.name, d.kind, d.line, d.start, d.end, d.sig FROM defs d "
                "JOIN files f ON f.id = d.file_id WHERE f.path = ? ORDER BY d.start", (path,))
            return [Definition(*row) for row in rows.fetchall()]

    def references_of(self, path: str) -> dict[str, int]:
        with self._lock:
            return dict(self._conn.execute(
                "SELECT r.name, r.count FROM refs r JOIN files f ON f.id = r.file_id WHERE f.path = ?",
                (path,)).fetchall())

    # -- writes ---------------------------------------------------------------------------------

    def replace_files(self, entries: Iterable[tuple[str, str, int, int, str, FileTags]],
                      removed: Iterable[str] = ()) -> int:
        """Replace the rows of each (path, language, size, mtime_ns, hash, tags); drop ``removed``.

        One transaction: a reader sees the index before or after, never half of a file.
        """
        count = 0
        with self.transaction() as conn:
            for path in removed:
                self._delete(conn, path)
                count += 1
            for path, language, size, mtime_ns, digest, (defs, refs) in entries:
                self._delete(conn, path)
                cursor = conn.execute(
                    "INSERT INTO files(path, language, size, mtime_ns, hash) VALUES (?, ?, ?, ?, ?)",
                    (path, language, size, mtime_ns, digest))
                file_id = cursor.lastrowid
                conn.executemany("INSERT INTO defs(file_id, name, kind, line, start, end, sig) "
                                 "VALUES (?, ?, ?, ?, ?, ?, ?)", [(file_id, *row) for row in defs])
                conn.executemany("INSERT INTO refs(file_id, name, count) VALUES (?, ?, ?)",
                                 [(file_id, name, count) for name, count in refs.items()])
                count += 1
            if count:
                conn.execute("INSERT INTO meta(key, value) VALUES ('generation', '1') ON CONFLICT(key) "
                             "DO UPDATE SET value = CAST(value AS INTEGER) + 1")
        return count

    def touch(self, stamps: Iterable[tuple[str, int, int]]) -> None:
        """Record new (path, size, mtime_ns) for files whose content did not change."""
        with self.transaction() as conn:
            conn.executemany("UPDATE files SET size = ?, mtime_ns = ? WHERE path = ?",
                             [(size, mtime, path) for path, size, mtime in stamps])

    @staticmethod
    def _delete(conn: sqlite3.Connection, path: str) -> None:
        row = conn.execute("SELECT id FROM files WHERE path = ?", (path,)).fetchone()
        if row is not None:
            conn.execute("DELETE FROM defs WHERE file_id = ?", (row[0],))
            conn.execute("DELETE FROM refs WHERE file_id = ?", (row[0],))
            conn.execute("DELETE FROM files WHERE id = ?", (row[0],))
