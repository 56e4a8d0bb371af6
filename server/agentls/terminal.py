"""The CLIs' answer to the core's questions (``agentls.questions``): a prompt on the terminal.

The prompt goes to stderr (stdout carries the result, possibly JSON) and the answer is read from stdin
in a worker thread, so a session that runs meanwhile keeps streaming. One prompt at a time. Not a
terminal (a pipe, CI), end of input, or an unknown letter: the question's default.
"""

from __future__ import annotations

import asyncio
import sys
from typing import TextIO

from agentls.questions import Option, Question


class TerminalQuestions:
    def __init__(self, err: TextIO | None = None, stdin: TextIO | None = None) -> None:
        self._err = err or sys.stderr
        self._stdin = stdin or sys.stdin
        self._lock = asyncio.Lock()

    async def __call__(self, question: Question) -> str:
        if not self._stdin.isatty():
            return question.default
        async with self._lock:
            return await asyncio.to_thread(self.prompt, question)

    def prompt(self, question: Question) -> str:
        """Ask and wait for a line (blocking)."""
        keys = {option.shortcut: option.id for option in question.options}
        choices = ", ".join(label(option, option.id == question.default) for option in question.options)
        lines = [f"agentls: {question.text}"] + ([f"  {question.detail}"] if question.detail else [])
        self._err.write("\n".join(lines) + f"\n{choices}? ")
        self._err.flush()
        try:
            answer = self._stdin.readline()
        except (OSError, ValueError):
            return question.default
        return keys.get(answer.strip().lower()[:1], question.default)


def label(option: Option, default: bool) -> str:
    """``Retry`` -> ``[r]etry``; ``Roll back`` (key b) -> ``Roll [b]ack``; the default's letter in capitals."""
    key = option.shortcut
    letter = key.upper() if default else key
    at = option.label.lower().find(key)
    if at < 0:
        return f"[{letter}] {option.label}"
    return f"{option.label[:at]}[{letter}]{option.label[at + 1:]}"
