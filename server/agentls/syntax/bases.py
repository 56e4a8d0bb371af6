"""Base texts parsed once, so that later versions of them are parsed incrementally from the base's tree.

A session's change is validated against the text it started from (its base), once per repair round and per
file. The base's tree is copied, told where the bytes changed (``byte_diff``) and handed to ``parser.parse``
with the new text, which costs what tree-sitter needs to walk the old tree and re-read around the changes:
for 20 hunks spread over 5,000 lines of Django, 7-12 ms against 16-26 ms for a fresh parse
(``bench/proposals.py``). Where tree-sitter can reuse less (an edit next to a top-level class header in
code made of such classes makes it re-read what follows) the gain shrinks, down to none.

For valid text an incremental reparse gives the same tree as a fresh parse; for broken text tree-sitter's
error recovery can shape the ERROR nodes differently (seen after an unclosed quote), so callers that report
errors take them from a fresh parse (``validate.introduced_errors`` does).

The bases are kept per process in a small cache keyed by language and text (a str caches its hash, and the
same object compares by identity): ``remember`` parses and keeps a text, ``recall`` finds it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

import tree_sitter

from agentls.syntax.byte_diff import ByteEdit, byte_edits
from agentls.syntax.issues import MAX_ISSUES, SyntaxIssue, scan
from agentls.syntax.parser import encode, get_parser

__all__ = ["Base", "clear", "recall", "remember", "tree_edits"]

#: Bases kept per process, the least recently used dropped first (a 5,000-line file's tree is a few MB).
MAX_BASES = 8

Point = tuple[int, int]  # (row, byte column), as ``Tree.edit`` takes it


class Base:
    """A text and its tree from a fresh parse; ``reparse`` parses a later version of the text from it."""

    def __init__(self, text: str, language: str, data: bytes, tree: tree_sitter.Tree) -> None:
        self.text = text
        self.language = language
        self.data = data  # the UTF-8 bytes the tree was parsed from
        self.tree = tree
        self._errors: list[SyntaxIssue] | None = None

    def errors(self) -> list[SyntaxIssue]:
        """The base's syntax errors, as ``validate.errors`` reports them (scanned once)."""
        if self._errors is None:
            self._errors = scan(self.tree, self.data, ascii=self.text.isascii(), limit=MAX_ISSUES)
        return list(self._errors)

    def reparse(self, after: str) -> tree_sitter.Tree:
        """The tree of ``after``, parsed incrementally from a copy of the base's tree (which stays as it is)."""
        parser = get_parser(self.language)
        if parser is None:  # pragma: no cover - a base exists only for a language with a grammar
            raise ValueError(f"no tree-sitter grammar for language {self.language!r}")
        data = encode(after)
        tree = self.tree.copy()
        # From the bottom up: each edit's positions, taken in the base, still hold when it is applied.
        for edit, (start, old_end, new_end) in reversed(list(tree_edits(self.data, data))):
            tree.edit(edit.old_start, edit.old_end, edit.old_start + edit.new_end - edit.new_start,
                      start, old_end, new_end)
        return parser.parse(data, tree)


def tree_edits(old: bytes, new: bytes) -> list[tuple[ByteEdit, tuple[Point, Point, Point]]]:
    """The byte edits from ``old`` to ``new``, each with its start, old end and new end points (rows end in
    ``\\n`` only, as tree-sitter counts them); the newlines are counted once, from one edit to the next."""
    edits: list[tuple[ByteEdit, tuple[Point, Point, Point]]] = []
    row, offset = 0, 0
    for edit in byte_edits(old, new):
        row += old.count(b"\n", offset, edit.old_start)
        start = (row, edit.old_start - (old.rfind(b"\n", 0, edit.old_start) + 1))
        old_end = _advance(start, old, edit.old_start, edit.old_end)
        edits.append((edit, (start, old_end, _advance(start, new, edit.new_start, edit.new_end))))
        row, offset = old_end[0], edit.old_end
    return edits


def _advance(point: Point, data: bytes, start: int, end: int) -> Point:
    """The point reached from ``point`` (at byte ``start``) after the bytes ``data[start:end]``."""
    newlines = data.count(b"\n", start, end)
    if newlines == 0:
        return point[0], point[1] + end - start
    return point[0] + newlines, end - (data.rfind(b"\n", start, end) + 1)


_bases: OrderedDict[tuple[str, str], Base] = OrderedDict()
_lock = threading.Lock()


def recall(text: str, language: str) -> Base | None:
    """The base kept for this text, if ``remember`` parsed it (and it was not dropped since)."""
    with _lock:
        base = _bases.get((language, text))
        if base is not None:
            _bases.move_to_end((language, text))
        return base


def remember(text: str, language: str) -> Base | None:
    """The text parsed (once: a kept base is reused) and kept as a base; None when the language has no grammar."""
    base = recall(text, language)
    if base is not None:
        return base
    parser = get_parser(language)
    if parser is None:
        return None
    data = encode(text)
    base = Base(text, language, data, parser.parse(data))
    with _lock:
        _bases[(language, text)] = base
        while len(_bases) > MAX_BASES:
            _bases.popitem(last=False)
    return base


def clear() -> None:
    """Forget every base (for tests, and for benchmarks timing the path without one)."""
    with _lock:
        _bases.clear()
