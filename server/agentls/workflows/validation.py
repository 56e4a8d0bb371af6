"""Syntax errors a change introduced, and the feedback that asks the model to repair them."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Mapping
from itertools import accumulate

from agentls.agent.overlay import FileChange
from agentls.edits.lines import split_lines
from agentls.syntax.languages import detect_language
from agentls.syntax.validate import SyntaxIssue, introduced_errors, prepare


def prepare_bases(texts: Mapping[str, str]) -> None:
    """Parse the texts a session starts from (path -> text), so that ``introduced`` later reparses the
    session's changes to them incrementally instead of parsing each changed file whole.

    For the start of a session (the model's first turn takes far longer than these parses).
    """
    for path, text in texts.items():
        language = detect_language(path=path, text=text[:256])
        if language is not None:
            prepare(text, language)


def introduced(changes: Iterable[FileChange]) -> dict[str, list[SyntaxIssue]]:
    """Per changed file, the syntax errors present after the change that were not there before.

    Files in languages without a grammar, and deleted files, are not validated. A file whose ``before``
    was prepared (``prepare_bases``) is reparsed from its tree.
    """
    found: dict[str, list[SyntaxIssue]] = {}
    for change in changes:
        if change.after is None:
            continue
        language = detect_language(path=change.path, text=change.after[:256])
        if language is None:
            continue
        issues = introduced_errors(change.before or "", change.after, language)
        if issues:
            found[change.path] = issues
    return found


def location(lines: list[str], offset: int) -> tuple[int, int]:
    """1-based line and column of an offset in the text split into ``lines``, as people read them."""
    ends = list(accumulate(len(line) for line in lines))
    index = bisect_right(ends, offset)
    start = ends[index - 1] if index else 0
    return index + 1, offset - start + 1


def repair_prompt(found: dict[str, list[SyntaxIssue]], texts: dict[str, str]) -> str:
    lines = ["Your change introduced syntax errors. Fix them with the editor tool, changing nothing else:"]
    for path, issues in found.items():
        split = split_lines(texts[path])
        for issue in issues:
            line, column = location(split, issue.start)
            source = split[line - 1] if line <= len(split) else ""  # an error at the very end: no text there
            lines.append(f"- {path}:{line}:{column}: {issue.message}\n    {source.strip()}")
    return "\n".join(lines)
