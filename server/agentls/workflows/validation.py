"""Syntax errors a change introduced, and the feedback that asks the model to repair them."""

from __future__ import annotations

from collections.abc import Iterable

from agentls.agent.overlay import FileChange
from agentls.syntax.languages import detect_language
from agentls.syntax.validate import SyntaxIssue, introduced_errors


def introduced(changes: Iterable[FileChange]) -> dict[str, list[SyntaxIssue]]:
    """Per changed file, the syntax errors present after the change that were not there before.

    Files in languages without a grammar, and deleted files, are not validated.
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


def location(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of an offset, as people read them."""
    line_start = text.rfind("\n", 0, offset) + 1
    return text.count("\n", 0, offset) + 1, offset - line_start + 1


def repair_prompt(found: dict[str, list[SyntaxIssue]], texts: dict[str, str]) -> str:
    lines = ["Your change introduced syntax errors. Fix them with the editor tool, changing nothing else:"]
    for path, issues in found.items():
        text = texts[path]
        for issue in issues:
            line, column = location(text, issue.start)
            source = text.splitlines()[line - 1] if text.splitlines() else ""
            lines.append(f"- {path}:{line}:{column}: {issue.message}\n    {source.strip()}")
    return "\n".join(lines)
