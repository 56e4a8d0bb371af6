"""Syntax validation of whole texts: all errors, or only the errors an edit introduced."""

from __future__ import annotations

from agentls.syntax import bases
from agentls.syntax.align import Alignment, align
from agentls.syntax.issues import MAX_ISSUES, SyntaxIssue, scan
from agentls.syntax.parser import encode, get_parser

__all__ = ["SyntaxIssue", "errors", "introduced_errors", "prepare"]


def errors(text: str, language: str) -> list[SyntaxIssue] | None:
    """The syntax errors of a text: None when the language has no grammar (not validated), [] when valid."""
    parser = get_parser(language)
    if parser is None:
        return None
    data = encode(text)
    return scan(parser.parse(data), data, ascii=text.isascii(), limit=MAX_ISSUES)


def introduced_errors(before: str, after: str, language: str) -> list[SyntaxIssue] | None:
    """The errors of ``after`` that ``before`` did not have, with their ranges in ``after``.

    Errors are matched through a diff of the two texts, so an error that only moved with the text around it
    is not reported. An error of ``after`` counts as the same as one of ``before`` when either:
    - it starts where the old one's start maps to (the same error, perhaps reaching further or worded
      differently now that the text after it changed), or
    - it has the same message, overlaps where the old one maps to, and touches none of the changed text.
    Each error of ``before`` excuses at most one error of ``after``. None when the language has no grammar.

    When ``before`` was parsed already (``prepare``, or an earlier call that found errors), ``after`` is
    reparsed incrementally from its tree: a valid ``after`` (the usual case) then costs about the changed
    lines, not a whole parse. The errors themselves always come from a fresh parse, as they did, since
    tree-sitter's error recovery can shape them differently when it reparses incrementally.
    """
    if get_parser(language) is None:
        return None
    base = bases.recall(before, language)
    if base is not None and not base.reparse(after).root_node.has_error:
        return []  # valid: an incremental reparse of valid text gives the tree a fresh parse gives
    new = errors(after, language)
    if not new:
        return new
    base = base or bases.remember(before, language)  # kept: the repair rounds validate against it again
    old = base.errors() if base is not None else []
    if not old:
        return new
    alignment = align(before, after)
    moved = [_moved(issue, alignment) for issue in old]
    introduced: list[SyntaxIssue] = []
    for issue in new:
        touches_change = alignment.touches_change(issue.start, max(issue.end, issue.start + 1))
        match = next(
            (
                index
                for index, candidate in enumerate(moved)
                if candidate is not None and _same(issue, candidate, touches_change)
            ),
            None,
        )
        if match is None:
            introduced.append(issue)
        else:
            moved[match] = None
    return introduced


def prepare(text: str, language: str) -> bool:
    """Parse ``text`` now, so that ``introduced_errors(text, ...)`` reparses its later versions incrementally.

    For a session's base texts, at its start (off any latency-sensitive path: a fresh parse of a 5,000-line
    file is 15-30 ms). False when the language has no grammar.
    """
    return bases.remember(text, language) is not None


def _moved(issue: SyntaxIssue, alignment: Alignment) -> SyntaxIssue | None:
    """The issue's range carried over to the new text; None when its start was in changed text."""
    start = alignment.map(issue.start)
    if start is None:
        return None
    end = alignment.map(issue.end)
    return SyntaxIssue(start, end if end is not None and end >= start else start, issue.message)


def _same(new: SyntaxIssue, old: SyntaxIssue, touches_change: bool) -> bool:
    if new.start == old.start:
        return True
    overlaps = new.start < max(old.end, old.start + 1) and old.start < max(new.end, new.start + 1)
    return overlaps and new.message == old.message and not touches_change
