"""The notes an agent proposed for the project's memory (the ``remember`` tool): each is put to the user,
and only an accepted one is appended to ``.agentls/memory.md``."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from agentls.agent.memory import NOTES_FILE, append_note
from agentls.questions import Option, Question

if TYPE_CHECKING:
    from agentls.runtime import Runtime

NOTE_OPTIONS = (Option("remember", "Remember", "allow_once", key="y"),
                Option("dismiss", "Dismiss", "reject_once", key="n"))


@dataclass
class NotesOutcome:
    saved: list[str] = field(default_factory=list)
    declined: list[str] = field(default_factory=list)
    #: Why an accepted note could not be saved (the notes after it were not asked about).
    error: str = ""


async def offer_notes(runtime: Runtime, notes: list[str], session_id: str | None = None) -> NotesOutcome:
    """Ask about each note; save the accepted ones."""
    outcome = NotesOutcome()
    for note in notes:
        question = Question("memory_note", f"remember this for the project? “{note}”", NOTE_OPTIONS,
                            default="dismiss", session_id=session_id, subject={"note": note})
        if await runtime.ask(question) != "remember":
            outcome.declined.append(note)
            continue
        try:
            await asyncio.to_thread(append_note, runtime.root, note)
        except OSError as exc:
            outcome.error = f"could not save the note to {NOTES_FILE}: {exc}"
            break
        outcome.saved.append(note)
    return outcome
