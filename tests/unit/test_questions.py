"""Questions for the user (``agentls.questions``): their shape, the runtime's asking, the terminal's prompt."""

from __future__ import annotations

import io
import os
import pty
from pathlib import Path

import pytest

from agentls.agent.events import QuestionAnswered, SessionEvent
from agentls.config import Settings
from agentls.questions import Option, Question, answering
from agentls.runtime import Runtime
from agentls.terminal import TerminalQuestions, label
from agentls.workflows.plan_steps import FAILURE_OPTIONS

YES_NO = (Option("yes", "Yes", "allow_once"), Option("no", "No", "reject_once"))


def test_the_default_must_be_one_of_the_options_and_anything_else_becomes_it() -> None:
    with pytest.raises(ValueError, match="default"):
        Question("command", "run it?", YES_NO, default="maybe")
    question = Question("command", "run it?", YES_NO, default="no")
    assert [question.valid(a) for a in ("yes", "no", "maybe", None)] == ["yes", "no", "no", "no"]


async def test_flags_answer_their_topics_and_the_rest_is_asked() -> None:
    asked: list[str] = []

    async def person(question: Question) -> str:
        asked.append(question.topic)
        return "yes"

    ask = answering({"apply_changes": "no", "memory_note": "not-an-option"}, person)
    assert await ask(Question("apply_changes", "apply?", YES_NO, default="no")) == "no"
    assert await ask(Question("memory_note", "keep?", YES_NO, default="no")) == "yes"
    assert asked == ["memory_note"]


async def test_the_runtime_asks_its_front_end_records_the_answer_and_survives_a_broken_one(tmp_path: Path) -> None:
    runtime = Runtime(tmp_path, Settings())
    heard: list[SessionEvent] = []
    runtime.events.subscribe(heard.append)

    async def broken(question: Question) -> str:
        raise ConnectionError("the editor went away")

    assert await runtime.ask(Question("command", "run it?", YES_NO, default="no", session_id="s")) == "no"
    runtime.asker = broken
    assert await runtime.ask(Question("command", "run it?", YES_NO, default="no", session_id="s")) == "no"

    async def says_yes(question: Question) -> str:
        return "yes"

    runtime.asker = says_yes
    assert await runtime.ask(Question("command", "run it?", YES_NO, default="no", session_id="s")) == "yes"
    assert [item.event for item in heard] == [QuestionAnswered("command", "run it?", "no")] * 2 + \
        [QuestionAnswered("command", "run it?", "yes")]


def test_terminal_labels_mark_the_key_and_the_default() -> None:
    assert [label(o, o.id == "stop") for o in FAILURE_OPTIONS] == \
        ["[r]etry", "[s]kip", "[e]dit plan", "Roll [b]ack", "[Q] Stop"]


async def test_the_terminal_prompts_on_stderr_and_reads_the_letter_from_a_real_terminal() -> None:
    primary, secondary = pty.openpty()
    err = io.StringIO()
    with os.fdopen(secondary, "r") as stdin:
        os.write(primary, b"B\n")
        question = Question("plan_step", "step 1 failed", FAILURE_OPTIONS, default="stop", detail="exit code 3")
        assert await TerminalQuestions(err, stdin)(question) == "rollback"
        os.write(primary, b"what?\n")
        assert await TerminalQuestions(err, stdin)(question) == "stop"
    os.close(primary)
    assert err.getvalue().startswith("agentls: step 1 failed\n  exit code 3\n[r]etry, [s]kip, [e]dit plan, "
                                      "Roll [b]ack, [Q] Stop? ")


async def test_not_a_terminal_takes_the_default_without_reading(tmp_path: Path) -> None:
    (tmp_path / "in").write_text("y\n")
    with (tmp_path / "in").open() as stdin:
        err = io.StringIO()
        assert await TerminalQuestions(err, stdin)(Question("apply_changes", "apply?", YES_NO, default="no")) == "no"
        assert stdin.read() == "y\n"
    assert err.getvalue() == ""
