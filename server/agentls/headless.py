"""``agentls run``: the agent without an editor. Progress to stderr, the result to stdout.

On a terminal the progress is a live ``rich`` display; otherwise plain lines. The session's edits
reach the disk only after the model ends its turn, and only with ``--yes`` or the user's "y".
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from agentls.agent.events import (
    AgentEvent,
    Notice,
    ServerToolFinished,
    ThinkingLine,
    ToolCalled,
    ToolFinished,
    TurnStarted,
    UsageUpdated,
)
from agentls.agent.overlay import FileChange
from agentls.config import load_settings
from agentls.edits.unified import unified_diff as unified
from agentls.errors import AgentlsError
from agentls.providers.base import Retrying, TextDelta, ThinkingDelta
from agentls.questions import Option, Question

if TYPE_CHECKING:
    from agentls.runtime import Runtime
    from agentls.workflows.task import TaskOutcome

EXIT_OK, EXIT_FAILED, EXIT_NOT_APPLIED, EXIT_CANCELLED = 0, 1, 3, 130
APPLY_OPTIONS = (Option("apply", "Apply", "allow_once", key="y"), Option("skip", "Don't apply", "reject_once", key="n"))


def _say(text: str, stream: TextIO | None = None, end: str = "\n") -> None:
    """One line to the user: results on stdout, everything else on stderr (this is the CLI, not the server)."""
    from agentls.secrets import redact

    out = stream or sys.stdout
    out.write(redact(text) + end)
    out.flush()


class PlainProgress:
    """One line per event, for logs and pipes."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self._thinking = ThinkingLine(width=200)

    def __call__(self, event: AgentEvent) -> None:
        if isinstance(event, TextDelta):
            return  # the final summary is printed once, at the end
        if isinstance(event, TurnStarted):
            self._thinking.reset()
            line = f"turn {event.turn}"
        elif isinstance(event, ThinkingDelta):
            thought = self._thinking.feed(event.text)
            if thought is None:
                return
            line = f"  thinking: {thought}"
        elif isinstance(event, ToolCalled):
            line = f"  -> {event.summary}"
        elif isinstance(event, ToolFinished | ServerToolFinished):
            line = f"  {'x' if event.is_error else 'ok'} {event.summary}"
        elif isinstance(event, Retrying):
            self._thinking.reset()  # the failed attempt's half sentence is void
            line = f"  retrying in {event.delay_s:.1f}s (attempt {event.attempt}): {event.reason}"
        elif isinstance(event, UsageUpdated):
            line = f"  tokens so far: {_tokens(event.total)} (${event.cost_usd:.4f})"
        elif isinstance(event, Notice):
            line = f"note: {event.text}"
        else:
            return
        _say(line, self.out)

    def close(self) -> None:
        pass


class RichProgress:
    """A live status line on a terminal (rich), with tool calls scrolling above it."""

    def __init__(self, out: TextIO) -> None:
        from rich.console import Console
        from rich.markup import escape
        from rich.status import Status

        self._escape = escape
        self.console = Console(file=out, highlight=False)
        self.status: Status = self.console.status("starting…")
        self.status.start()
        self.cost = 0.0
        self.tokens = "0"
        self.turn = 0
        self._thinking = ThinkingLine()

    def __call__(self, event: AgentEvent) -> None:
        if isinstance(event, TurnStarted):
            self.turn = event.turn
            self._thinking.reset()
            self.status.update(f"turn {event.turn} · thinking… · {self.tokens} tokens · ${self.cost:.4f}")
        elif isinstance(event, ThinkingDelta):
            if (thought := self._thinking.feed(event.text)) is not None:
                self.status.update(f"turn {self.turn} · [italic]{self._escape(thought)}[/italic]")
        elif isinstance(event, ToolCalled):
            self.status.update(f"{event.summary}…")
        elif isinstance(event, ToolFinished | ServerToolFinished):
            mark = "[red]✗[/red]" if event.is_error else "[green]✓[/green]"
            self.console.print(f"{mark} {self._escape(event.summary)}")
        elif isinstance(event, Retrying):
            self._thinking.reset()
            self.console.print(f"[yellow]retrying in {event.delay_s:.1f}s:[/yellow] {self._escape(event.reason)}")
        elif isinstance(event, UsageUpdated):
            self.cost, self.tokens = event.cost_usd, _tokens(event.total)
        elif isinstance(event, Notice):
            self.console.print(f"[yellow]note:[/yellow] {self._escape(event.text)}")

    def close(self) -> None:
        self.status.stop()


def _tokens(usage: Any) -> str:
    total = (usage.input_tokens + usage.output_tokens + usage.cache_creation_input_tokens
             + usage.cache_read_input_tokens)
    return f"{total:,}"


def unified_diff(change: FileChange) -> str:
    return unified(change.before, change.after, change.path).text


@dataclass
class RunOptions:
    workspace: Path
    task: str
    yes: bool = False
    json: bool = False
    model: str | None = None
    #: Accept the memory notes the agent proposes without asking.
    remember: bool = False


async def _run(runtime: Runtime, options: RunOptions, progress: Callable[[AgentEvent], None]) -> Any:
    from agentls.workflows.run import run_task
    from agentls.workflows.task import TaskSpec

    runtime.record_events()
    unsubscribe = runtime.events.subscribe(lambda item: progress(item.event))  # the status line follows the bus
    try:
        return await run_task(runtime, TaskSpec(instruction=options.task, kind="run"))
    finally:
        unsubscribe()
        await runtime.close_providers()  # on the loop that used them


async def _offer_notes(runtime: Runtime, notes: list[str], session_id: str, err: TextIO) -> list[str]:
    """Memory notes the agent proposed: saved with ``--remember`` or the user's "y", else only shown."""
    from agentls.agent.memory import NOTES_FILE
    from agentls.workflows.memory_notes import offer_notes

    outcome = await offer_notes(runtime, notes, session_id)
    for note in outcome.declined:
        _say(f"agentls: proposed note, not saved (pass --remember to keep such notes): {note}", err)
    if outcome.error:
        _say(f"agentls: {outcome.error}", err)
    if outcome.saved:
        _say(f"agentls: {len(outcome.saved)} note(s) added to {NOTES_FILE}", err)
    return outcome.saved


def run(options: RunOptions) -> int:
    from agentls import logs

    err = sys.stderr
    editor = {"model": {"name": options.model}} if options.model else None
    loaded = load_settings(options.workspace, editor)
    # Progress lines tell the user what happens: stderr shows only errors; log_file gets the rest.
    logs.setup(loaded.settings.log_level, loaded.settings.log_file, stderr_level="error")
    for warning in loaded.warnings:
        _say(f"agentls: warning: {warning}", err)
    from agentls.write_transaction import recover

    interrupted = recover(str(options.workspace.resolve()))
    if interrupted:
        _say(f"agentls: warning: {interrupted}", err)
    progress: PlainProgress | RichProgress = RichProgress(err) if err.isatty() else PlainProgress(err)
    from agentls.questions import answering
    from agentls.runtime import Runtime
    from agentls.terminal import TerminalQuestions

    runtime = Runtime(options.workspace, loaded.settings)
    runtime.frontend = "cli"
    # --yes approves applying the changes and the tools of trusted MCP servers; it never trusts a server.
    given = {"apply_changes": "apply", "mcp_tool": "allow_once"} if options.yes else {}
    if options.remember:
        given["memory_note"] = "remember"
    runtime.asker = answering(given, TerminalQuestions(err))
    try:
        return asyncio.run(_main(runtime, options, progress, err))
    except KeyboardInterrupt:
        progress.close()
        _say("agentls: cancelled; no files were changed", err)
        return EXIT_CANCELLED
    finally:
        runtime.close()


async def _main(runtime: Runtime, options: RunOptions, progress: PlainProgress | RichProgress, err: TextIO) -> int:
    try:
        outcome = await _run(runtime, options, progress)
    except AgentlsError as exc:
        progress.close()
        _say(f"agentls: {exc}", err)
        return EXIT_FAILED
    progress.close()
    return await _apply(runtime, options, outcome, err)


async def _apply(runtime: Runtime, options: RunOptions, outcome: TaskOutcome, err: TextIO) -> int:
    """After the session: show what it did, apply its changes (checkpoint first) if the user agrees."""
    result = outcome.result
    if result.server_tools:
        _say(f"agentls: the API's tools: {'; '.join(result.server_tools)}", err)
    for output in outcome.outputs:
        where = f"proposed as {output.path}" if output.path else output.note
        _say(f"agentls: code execution produced {output.name}: {where}", err)
    changes = outcome.overlay.changes()
    applied: list[str] = []
    error = result.error
    if result.ok and changes:
        for change in changes:
            _say(unified_diff(change), err, end="")
        question = Question("apply_changes", f"apply the changes to {len(changes)} file(s)?", APPLY_OPTIONS,
                            default="skip", session_id=outcome.session_id)
        if await runtime.ask(question) == "apply":
            try:
                from agentls.workflows.checkpointing import guard_write

                taken = await guard_write(runtime, [c.path for c in changes], trigger="edit",
                                          session_id=outcome.session_id, summary=options.task[:200])
                checkpoint = taken.id if taken else None
                if checkpoint:
                    _say(f"agentls: checkpoint {checkpoint} taken before writing; "
                         f"undo with: agentls checkpoints restore {checkpoint}", err)
                applied = await asyncio.to_thread(outcome.overlay.commit)
            except AgentlsError as exc:
                error = str(exc)
    remembered = await _offer_notes(runtime, outcome.notes, outcome.session_id, err) if result.ok else []
    usage = result.usage
    if options.json:
        _say(json.dumps({
            "session": outcome.session_id, "status": result.status, "summary": result.summary,
            "error": error, "turns": result.turns, "changed": [c.path for c in changes], "applied": applied,
            "notes": outcome.notes, "remembered": remembered,
            "outputs": [{"name": o.name, "path": o.path, "note": o.note} for o in outcome.outputs],
            "server_tools": result.server_tools,
            "usage": {"input_tokens": usage.input_tokens, "output_tokens": usage.output_tokens,
                      "cache_write_tokens": usage.cache_creation_input_tokens,
                      "cache_read_tokens": usage.cache_read_input_tokens,
                      "thinking_tokens": usage.thinking_tokens, "web_search_requests": usage.web_search_requests},
            "cost_usd": round(result.cost_usd, 6),
        }, indent=2))
    elif result.summary:
        _say(result.summary)
    cost = f"{_tokens(usage)} tokens, ${result.cost_usd:.4f}"
    if not result.ok:
        _say(f"agentls: {error or result.status} ({cost}); no files were changed", err)
        return EXIT_FAILED
    if error:
        _say(f"agentls: {error}; no files were changed ({cost})", err)
        return EXIT_FAILED
    if changes and not applied:
        _say(f"agentls: {len(changes)} file(s) changed but not applied (pass --yes to apply) ({cost})", err)
        return EXIT_NOT_APPLIED
    _say(f"agentls: done in {result.turns} turn(s): {len(applied)} file(s) changed; {cost}", err)
    return EXIT_OK
