"""A document's text and its tree-sitter tree, kept in step by incremental reparsing.

An edit must cost little more than tree-sitter's own incremental reparse, so nothing here walks the text in
Python, nor copies it:
- the UTF-8 bytes live in a ``bytearray`` edited in place (a memmove of the tail) and handed to the parser
  as they are; the ``str`` is decoded from them only when ``text`` is read, once per version;
- for ASCII text (the usual case) code point offsets are byte offsets; otherwise the prefix before the edit
  is encoded to find its byte offset (one C call);
- the row/column that ``Tree.edit`` needs is counted from the nearest token the old tree knows, not from
  the start of the file.
"""

from __future__ import annotations

import tree_sitter

from agentls.syntax.issues import MAX_ISSUES, SyntaxIssue, scan
from agentls.syntax.parser import ENCODING, ENCODING_ERRORS, encode, get_language


class SyntaxDocument:
    """A document's text and its tree-sitter tree, kept in step by incremental reparsing.

    Not thread-safe: one document is edited from one thread at a time. ``tree`` is the current tree; its
    nodes' ``text`` reads the document's current bytes, so take ranges, not text, from an older tree.
    """

    def __init__(self, text: str, language: str) -> None:
        """Parse ``text``; ValueError when ``language`` has no grammar (see ``parser.get_language``)."""
        grammar = get_language(language)
        if grammar is None:
            raise ValueError(f"no tree-sitter grammar for language {language!r}")
        self.language = language
        self._parser = tree_sitter.Parser(grammar)
        self._data = bytearray(encode(text))
        self._text: str | None = text
        self._ascii = text.isascii()
        self._tree = self._parser.parse(self._data)
        self._stale = False  # edited since the last parse: the tree is edited but not reparsed
        self._errors: list[SyntaxIssue] | None = None

    @property
    def text(self) -> str:
        if self._text is None:
            self._text = self._data.decode(ENCODING, ENCODING_ERRORS)
            self._ascii = self._text.isascii()
        return self._text

    @property
    def tree(self) -> tree_sitter.Tree:
        """The current tree: reparsed incrementally, once, after any number of edits."""
        if self._stale:
            self._tree = self._parser.parse(self._data, self._tree)
            self._stale = False
        return self._tree

    def edit(self, start: int, end: int, new_text: str) -> None:
        """Replace ``text[start:end]`` (code point offsets) with ``new_text``.

        The tree is edited at once (cheap) and reparsed when next needed, so a burst of keystrokes
        between two diagnostics runs costs one incremental reparse, not one per keystroke.
        """
        ascii = self._ascii or self.text.isascii()  # (text decodes once: deletions can make it ASCII again)
        length = len(self._data) if ascii else len(self.text)
        if not 0 <= start <= end <= length:
            raise IndexError(f"edit range {start}:{end} outside the document (length {length})")
        inserted = encode(new_text)
        if ascii:
            start_byte, old_end_byte = start, end
        else:
            text = self.text
            start_byte = len(text[:start].encode(ENCODING, ENCODING_ERRORS))
            old_end_byte = start_byte + len(text[start:end].encode(ENCODING, ENCODING_ERRORS))
        new_end_byte = start_byte + len(inserted)

        data = self._data
        start_point = self._point_at(start_byte)
        old_end_point = _advance(start_point, data, start_byte, old_end_byte)
        new_end_point = _advance(start_point, inserted, 0, len(inserted))

        data[start_byte:old_end_byte] = inserted
        self._text = None  # decoded again on demand: cheaper than keeping a str in step on every edit
        self._ascii = ascii and new_text.isascii()
        self._tree.edit(start_byte, old_end_byte, new_end_byte, start_point, old_end_point, new_end_point)
        self._stale = True
        self._errors = None

    def errors(self) -> list[SyntaxIssue]:
        """The syntax errors of the current text, as ``validate.errors`` reports them (once per edit)."""
        if self._errors is None:
            self._errors = scan(self.tree, self._data, ascii=self._ascii, limit=MAX_ISSUES)
        return list(self._errors)

    def _point_at(self, offset: int) -> tuple[int, int]:
        """The (row, byte column) of a byte offset, counted from the nearest token of the current tree."""
        data = self._data
        cursor = self._tree.walk()
        while cursor.goto_first_child_for_byte(offset) is not None:
            pass
        node = cursor.node
        if node is None:  # pragma: no cover - a cursor always stands on a node
            return _advance((0, 0), data, 0, offset)
        if node.start_byte <= offset:
            # Inside the node, or past the end of the last one (the end of the file).
            if offset <= node.end_byte:
                return _advance(tuple(node.start_point), data, node.start_byte, offset)
            return _advance(tuple(node.end_point), data, node.end_byte, offset)
        # In the blanks before the node: its row less the newlines in between; the column from the line start.
        row = node.start_point[0] - data.count(b"\n", offset, node.start_byte)
        return row, offset - (data.rfind(b"\n", 0, offset) + 1)


def _advance(point: tuple[int, ...], data: bytes | bytearray, start: int, end: int) -> tuple[int, int]:
    """The point reached from ``point`` (at byte ``start``) after the bytes ``data[start:end]``."""
    row, column = point[0], point[1]
    newlines = data.count(b"\n", start, end)
    if newlines == 0:
        return row, column + end - start
    return row + newlines, end - (data.rfind(b"\n", start, end) + 1)
