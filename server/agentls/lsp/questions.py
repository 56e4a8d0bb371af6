"""The language server's answer to the core's questions (``agentls.questions``).

A question goes to the editor as ``window/showMessageRequest``, its options as the buttons; and any
client may answer it instead with ``agentls.answer {questionId, optionId}`` (or, for a failed plan step,
``agentls.plan.decide``), for instance from its own UI after ``agentls/question``. The first answer
wins; the dialog that is still open then answers nothing. A client that cannot show the request, or a
dismissed dialog, gives the question's default.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from lsprotocol import types

if TYPE_CHECKING:
    from agentls.lsp.server import AgentLanguageServer
    from agentls.questions import Question

log = logging.getLogger(__name__)

QUESTION = "agentls/question"
LEVELS = {"command": types.MessageType.Warning, "plan_step": types.MessageType.Error}


class EditorQuestions:
    def __init__(self, server: AgentLanguageServer) -> None:
        self.server = server
        #: Open questions and the futures their answers resolve.
        self.pending: dict[str, tuple[Question, asyncio.Future[str]]] = {}

    async def __call__(self, question: Question) -> str:
        return await self.ask(question)

    async def ask(self, question: Question, *, dialog: bool = True,
                  opened: Callable[[], None] | None = None) -> str:
        """Ask in the editor; ``dialog=False``: only announce it and wait for a client's answer. ``opened``
        is called once the question is open (``find`` sees it)."""
        future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self.pending[question.id] = (question, future)
        self._announce(question)
        if opened is not None:
            opened()
        shown = asyncio.get_running_loop().create_task(self._dialog(question, future)) if dialog else None
        try:
            return question.valid(await future)
        finally:
            self.pending.pop(question.id, None)
            if shown is not None:
                shown.cancel()

    def answer(self, question_id: str, option_id: str) -> bool:
        """A client's answer; False when the question is not open (answered already, or unknown)."""
        found = self.pending.get(question_id)
        if found is None or found[1].done() or option_id not in found[0].option_ids:
            return False
        found[1].set_result(option_id)
        return True

    def find(self, matches: Callable[[Question], bool]) -> Question | None:
        return next((question for question, future in self.pending.values()
                     if not future.done() and matches(question)), None)

    def _announce(self, question: Question) -> None:
        try:
            self.server.protocol.notify(QUESTION, wire(question))
        except Exception:
            log.debug("could not send %s", QUESTION, exc_info=True)

    async def _dialog(self, question: Question, future: asyncio.Future[str]) -> None:
        labels = {option.label: option.id for option in question.options}
        message = f"agentls: {question.text}" + (f" ({question.detail})" if question.detail else "")
        try:
            choice = await self.server.window_show_message_request_async(types.ShowMessageRequestParams(
                type=LEVELS.get(question.topic, types.MessageType.Info), message=message,
                actions=[types.MessageActionItem(title=label) for label in labels]))
            answer = labels.get(choice.title, question.default) if choice is not None else question.default
        except asyncio.CancelledError:
            raise
        except Exception:
            log.info("the client could not ask the user %r; taking %r", question.text, question.default,
                     exc_info=True)
            answer = question.default
        if not future.done():
            future.set_result(answer)


def wire(question: Question) -> dict[str, Any]:
    return {"id": question.id, "topic": question.topic, "text": question.text, "detail": question.detail,
            "sessionId": question.session_id, "subject": question.subject, "default": question.default,
            "options": [{"id": o.id, "label": o.label, "kind": o.kind} for o in question.options]}
