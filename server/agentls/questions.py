"""Questions for the user: asked by the core, answered by whichever front end is in charge.

The core never talks to a person directly. When it needs a decision (run a command the settings do not
allow, keep a note for the project's memory, what to do after a plan step failed, write the changes to
disk) it builds a ``Question`` and awaits ``Runtime.ask``; each front end answers its own way: the
language server with ``window/showMessageRequest`` (or a client's command), the CLI on the terminal
(or from its flags), next the ACP agent with ``session/request_permission``. Nobody to ask, a client
that cannot ask, or an answer that is not one of the options: the question's ``default``, always the
cautious choice.

Option kinds are ACP's ``PermissionOptionKind`` so that the ACP front end is a translation.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Literal

OptionKind = Literal["allow_once", "allow_always", "reject_once", "reject_always"]
#: What the question is about; front ends may answer some topics from their own settings or flags.
Topic = Literal["command", "memory_note", "plan_step", "apply_changes", "mcp_server", "mcp_tool",
                "workspace_config"]


@dataclass(frozen=True)
class Option:
    id: str
    label: str
    kind: OptionKind
    #: The letter that picks it on a terminal (the label's first letter when empty).
    key: str = ""

    @property
    def shortcut(self) -> str:
        return (self.key or self.label[:1]).lower()


@dataclass(frozen=True)
class Question:
    topic: Topic
    #: One line, complete on its own ("Run `make test`?").
    text: str
    options: tuple[Option, ...]
    #: The option taken when nobody answers; the cautious one.
    default: str
    #: More for whoever can show it (an error message, the whole note).
    detail: str = ""
    session_id: str | None = None
    #: What the question is about, for front ends that answer by reference (``planId``, ``stepId``).
    subject: dict[str, str] = field(default_factory=dict)
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])

    def __post_init__(self) -> None:
        if self.default not in self.option_ids:
            raise ValueError(f"the default {self.default!r} is not one of the options")

    @property
    def option_ids(self) -> tuple[str, ...]:
        return tuple(option.id for option in self.options)

    def option(self, option_id: str) -> Option:
        return next(option for option in self.options if option.id == option_id)

    def valid(self, answer: str | None) -> str:
        """``answer`` when it is one of the options, else the default."""
        return answer if answer in self.option_ids else self.default


#: A front end's way of answering: the id of the chosen option.
Asker = Callable[[Question], Awaitable[str]]


async def take_default(question: Question) -> str:
    """Nobody to ask."""
    return question.default


def answering(answers: dict[str, str], then: Asker = take_default) -> Asker:
    """Answer the topics in ``answers`` at once (``--yes``, ``--remember``), ask ``then`` about the rest."""

    async def ask(question: Question) -> str:
        given = answers.get(question.topic)
        return given if given in question.option_ids else await then(question)

    return ask
