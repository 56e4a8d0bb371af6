"""Syntax issues read from a tree-sitter tree: one per ERROR or MISSING node, in document order.

The scan descends only into subtrees whose ``has_error`` is set, so a valid tree costs nothing and a broken
one costs about the path to each error (plus the siblings at each level). An ERROR node is one issue: the
ERROR and MISSING nodes nested in it are not reported again.

Ranges, as an editor shows them best:
- ERROR: from its first token (not a comment) to the end of the node, cut at the end of the node's first
  line (a node left by an unclosed bracket can run to the end of the file; the squiggle belongs where the
  trouble starts).
- MISSING (zero width in the tree): one character, the one at its position when that is not blank (``def
  f(:`` marks ``:``), else the character before it (``foo(1, 2`` marks ``2``).

Messages:
- MISSING: "missing ')'" (or "missing identifier" for a named node);
- an ERROR cut off by the end of the file (more than one token, only blanks after it): "unclosed '('" on the
  innermost bracket it leaves open; else, when it spans more than two lines (a block left open, as a
  missing ``end``), "unexpected end of file";
- any other ERROR: "unexpected 'else'" after its first token (comments skipped) when that is short, else
  "syntax error".
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import tree_sitter

from agentls.syntax.offsets import bytes_to_chars, utf8_char_length

MAX_ISSUES = 100
_MAX_TOKEN = 24  # longer first tokens make a worse message than "syntax error"
_MAX_TOKENS = 20_000  # bound on the bracket count inside one ERROR node (an unclosed one can span the file)
_OPENERS = {"(": ")", "[": "]", "{": "}"}
_CLOSERS = frozenset(_OPENERS.values())
_BLANK = frozenset(b" \t\r\n\f\v")
_EOF_WINDOW = 4096
_EOF_MIN_LINES = 2  # an ERROR reaching the end of the file across more lines reads as "cut off"
_LARGE_ERROR_LINES = 50


@dataclass(frozen=True)
class SyntaxIssue:
    """A syntax error in a text, in code point offsets (``text[start:end]`` is what to underline)."""

    start: int
    end: int
    message: str


def scan(
    tree: tree_sitter.Tree, data: bytes | bytearray, *, ascii: bool, limit: int = MAX_ISSUES
) -> list[SyntaxIssue]:
    """The issues of a tree parsed from ``data``; ``ascii``: data is ASCII (byte == code point offsets)."""
    root = tree.root_node
    if not root.has_error:
        return []
    merged = _merge(_collect(root, data, limit))
    chars = bytes_to_chars(data, [offset for start, end, _ in merged for offset in (start, end)], ascii=ascii)
    return [SyntaxIssue(chars[start], chars[end], message) for start, end, message in merged]


def _collect(top: tree_sitter.Node, data: bytes | bytearray, limit: int) -> list[tuple[int, int, str]]:
    """Byte-range issues under ``top`` in document order, descending only where ``has_error`` is set."""
    found: list[tuple[int, int, str]] = []
    stack = [top]
    while stack and len(found) < limit:
        node = stack.pop()
        if node.is_missing:
            found.append(_missing(node, data))
        elif node.is_error:
            found.append(_error(node, data))
        else:
            stack.extend(child for child in reversed(node.children) if child.has_error)
    return found


def _merge(found: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Sorted, with overlapping issues (and repeats at one position) folded into the first."""
    merged: list[tuple[int, int, str]] = []
    for start, end, message in sorted(found, key=lambda issue: (issue[0], issue[1])):
        if merged and (start < merged[-1][1] or start == merged[-1][0]):
            first_start, first_end, first_message = merged[-1]
            merged[-1] = (first_start, max(first_end, end), first_message)
        else:
            merged.append((start, end, message))
    return merged


def _missing(node: tree_sitter.Node, data: bytes | bytearray) -> tuple[int, int, str]:
    name = node.type
    message = f"missing '{name}'" if not node.is_named else f"missing {name.strip('_').replace('_', ' ')}"
    start, end = _one_char(node.start_byte, data)
    return start, end, message


def _one_char(position: int, data: bytes | bytearray) -> tuple[int, int]:
    """A one-character range at a zero-width position: the character there, else the one before."""
    if position < len(data) and data[position] not in _BLANK:
        return position, position + utf8_char_length(data[position])
    if position > 0 and data[position - 1] not in b"\r\n":
        start = position - 1
        while start > 0 and (data[start] & 0xC0) == 0x80:  # back over UTF-8 continuation bytes
            start -= 1
        return start, position
    return position, position


def _error(node: tree_sitter.Node, data: bytes | bytearray) -> tuple[int, int, str]:
    start, end = node.start_byte, node.end_byte
    if end <= start:
        return (*_one_char(start, data), "syntax error")
    if _lines(node) > _LARGE_ERROR_LINES:
        # A large ERROR (up to the whole file, when the root itself is one) holds the statements tree-sitter
        # could not fit around the trouble, intact: the trouble is where its first broken child is.
        inner = next((child for child in node.children if child.has_error), None)
        if inner is not None and inner.start_point[0] > node.start_point[0]:
            found = _collect(inner, data, 1)
            if found:
                return found[0]
    first = _first_token(node)
    cut_off = (
        first is not None
        and (first.start_byte, first.end_byte) != (start, end)  # more than one token
        and first.type not in _CLOSERS
        and _at_eof(end, data)
    )
    if cut_off:  # by the end of the file: point at the bracket left open, if there is one
        opener = _unclosed_bracket(node)
        if opener is not None:
            return opener.start_byte, opener.end_byte, f"unclosed '{opener.type}'"
    if cut_off and _lines(node) > _EOF_MIN_LINES:
        message = "unexpected end of file"  # a block left open (a missing "end") rather than a stray token
    else:
        token = _text(first, data) if first is not None else None
        message = f"unexpected '{token}'" if token and len(token) <= _MAX_TOKEN else "syntax error"
    if first is not None:
        start = first.start_byte  # not at the comments the node swallowed before it
    newline = data.find(b"\n", start, end)
    if newline > start:
        end = newline - 1 if data[newline - 1] == 0x0D and newline - 1 > start else newline
    return start, end, message


def _leaves(node: tree_sitter.Node) -> Iterator[tree_sitter.Node]:
    """The leaves under ``node`` (itself, if it has no children), in document order."""
    cursor = node.walk()  # rooted at node: goto_parent/goto_next_sibling stop there
    while True:
        if cursor.goto_first_child():
            continue
        leaf = cursor.node
        if leaf is not None:
            yield leaf
        while not cursor.goto_next_sibling():
            if not cursor.goto_parent():
                return


def _first_token(node: tree_sitter.Node) -> tree_sitter.Node | None:
    """The first non-empty token under ``node`` that is not a comment."""
    for leaf in _leaves(node):
        comment = leaf.is_extra and leaf.is_named and not leaf.is_error  # (a skipped token is extra too)
        if leaf.end_byte > leaf.start_byte and not comment:
            return leaf
    return None


def _text(leaf: tree_sitter.Node, data: bytes | bytearray) -> str | None:
    """A token's text; None when it spans lines."""
    text = bytes(data[leaf.start_byte : leaf.end_byte]).decode("utf-8", "replace")
    return None if "\n" in text else text


def _lines(node: tree_sitter.Node) -> int:
    return node.end_point[0] - node.start_point[0] + 1


def _at_eof(end: int, data: bytes | bytearray) -> bool:
    """Whether only blanks follow ``end``."""
    rest = len(data) - end
    return rest <= 0 or (rest <= _EOF_WINDOW and bytes(data[end:]).isspace())


def _unclosed_bracket(node: tree_sitter.Node) -> tree_sitter.Node | None:
    """The innermost bracket token under ``node`` that nothing closes (a MISSING closer closes nothing).

    Subtrees without errors are skipped: a complete construct closes the brackets it opens.
    """
    open_brackets: list[tree_sitter.Node] = []
    stack = list(reversed(node.children)) or [node]
    seen = 0
    while stack:
        current = stack.pop()
        if current.child_count:
            if current.has_error:
                stack.extend(reversed(current.children))
            continue
        seen += 1
        if seen > _MAX_TOKENS:
            return None
        kind = current.type
        if current.is_missing:
            continue
        if kind in _OPENERS:
            open_brackets.append(current)
        elif kind in _CLOSERS and open_brackets and _OPENERS[open_brackets[-1].type] == kind:
            open_brackets.pop()
    return open_brackets[-1] if open_brackets else None
