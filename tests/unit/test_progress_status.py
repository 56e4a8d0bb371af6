"""The session status line (``lsp/session_status``): activities, the retry countdown, the end line, throttling."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from agentls.agent.events import TurnStarted, UsageUpdated, tool_called
from agentls.lsp.session_status import SessionStatus, StatusSender, changes_message
from agentls.providers.base import Retrying, TextDelta, ThinkingDelta, Usage


def test_tool_calls_read_as_activities() -> None:
    cases = [
        (("str_replace_based_edit_tool", {"command": "view", "path": "src/core.py"}), "reading core.py"),
        (("str_replace_based_edit_tool", {"command": "str_replace", "path": "calc.py"}), "editing calc.py"),
        (("str_replace_based_edit_tool", {"command": "create", "path": "tests/test_calc.py"}),
         "creating test_calc.py"),
        (("search", {"pattern": "parse_args"}), "searching 'parse_args'"),
        (("run_command", {"command": "pytest -q"}), "running pytest -q"),
    ]
    for (name, params), expected in cases:
        status = SessionStatus("s", "t")
        status.feed(tool_called("id", name, params))
        assert status.activity == expected


def test_turn_thinking_usage_and_the_end() -> None:
    status = SessionStatus("s", "agentls: add hints")
    status.feed(TurnStarted(2))
    assert (status.turn, status.activity) == (2, "thinking")
    status.feed(ThinkingDelta("The function adds numbers. I will annotate"))
    assert status.thinking == "The function adds numbers."
    status.feed(UsageUpdated(Usage(), Usage(input_tokens=100, output_tokens=20, cache_read_input_tokens=5), 0.012))
    assert (status.tokens, status.cost) == (125, 0.012)
    status.end("done", changes_message(4, 2))
    wire = status.wire()
    assert wire["message"] == "4 changes proposed in 2 files"
    assert wire["state"] == "done"
    assert changes_message(1, 1) == "1 change proposed in 1 file"
    assert changes_message(0, 0) == "no changes proposed"


def test_a_retry_counts_down_with_its_reason_then_streams_again() -> None:
    status = SessionStatus("s", "t")
    status.feed(TurnStarted(1))
    status.feed(Retrying(attempt=2, delay_s=7.6, reason="Anthropic API overloaded (529)", kind="overloaded"))
    assert status.activity == "retrying in 8 s: the API is overloaded"
    assert status.retry_until is not None
    status.retry_until = time.monotonic() + 2.5
    wait = status.tick()
    assert status.activity == "retrying in 3 s: the API is overloaded"
    assert wait is not None
    assert 0.4 < wait <= 0.5
    status.feed(Retrying(attempt=3, delay_s=1, reason="something odd happened", kind="weird"))
    assert status.activity == "retrying in 1 s: something odd happened"
    status.feed(TextDelta("ok"))  # the retried call streams: no more countdown
    assert status.activity == "thinking"
    assert status.retry_until is None


async def test_the_sender_throttles_but_sends_the_latest_and_state_changes_at_once() -> None:
    sent: list[dict[str, Any]] = []
    status = SessionStatus("s", "t")
    sender = StatusSender(status, sent.append, max_per_s=4)
    for turn in range(1, 21):
        status.feed(TurnStarted(turn))
        sender.update()
    assert len(sent) == 1  # the first at once, the rest waits for the interval
    await asyncio.sleep(0.35)
    assert [s["turn"] for s in sent] == [1, 20]
    status.feed(TurnStarted(21))
    sender.update()
    status.end("failed", "the API key was rejected")
    sender.close()
    assert sent[-1]["state"] == "failed"
    assert sent[-1]["message"] == "the API key was rejected"
    await asyncio.sleep(0.3)
    assert sent[-1]["state"] == "failed"  # nothing older arrives after the end


async def test_a_retry_is_sent_at_once_even_inside_the_throttle() -> None:
    """A short retry wait would otherwise be overtaken by the retried call's first event and never shown."""
    from types import SimpleNamespace

    from agentls.lsp.progress import SessionProgress

    sent: list[dict[str, Any]] = []
    server = SimpleNamespace(state=SimpleNamespace(session_status=True),
                             protocol=SimpleNamespace(notify=lambda method, payload: sent.append(payload)),
                             client_features=SimpleNamespace(work_done_progress=False))
    progress = SessionProgress(server, "agentls: t", session_id="s")  # type: ignore[arg-type]
    await progress.begin("starting")
    progress.event(TurnStarted(1))  # inside the throttle interval: held back
    progress.event(Retrying(attempt=2, delay_s=0.2, reason="overloaded", kind="overloaded"))
    assert sent[-1]["activity"] == "retrying in 1 s: the API is overloaded"
    progress.event(TextDelta("ok"))
    progress.sender.close()
