"""``agentls/sessionStatus``: a session's live status for clients that opted in (``sessionStatus: true``).

The real server over stdio, the real SDK against the fake Messages API: the status carries the turn,
the activity (a retry counts down with its reason), the thinking line, tokens and cost, and ends with
"N changes proposed in M files" or one failure line, which is then not also a ``window/showMessage``.
``$/progress`` says the same for other clients, with titles cut at a word.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from lsprotocol import types

from tests.e2e.harness import CLIENTS, _plain
from tests.e2e.test_inline_edits import THINKING, Editor, _editor, edit, type_hints_script
from tests.fakes.messages_api import FakeMessagesAPI, Fault, Reply

STATUS = "agentls/sessionStatus"
LONG = "add type hints to every function of the calculator module so that mypy strict accepts it"


async def _start(request: pytest.FixtureRequest, tmp_path: Path, fake: FakeMessagesAPI,
                 options: dict[str, Any]) -> tuple[Editor, list[dict[str, Any]]]:
    editor = await _editor(request, tmp_path, fake, options=options)
    statuses: list[dict[str, Any]] = []

    @editor.client.feature(STATUS)
    def status(params: Any) -> None:
        statuses.append(_plain(params))

    return editor, statuses


@pytest_asyncio.fixture(params=CLIENTS)
async def opted_in(request: pytest.FixtureRequest, tmp_path: Path,
                   fake_messages_api: FakeMessagesAPI) -> AsyncIterator[tuple[Editor, list[dict[str, Any]]]]:
    editor, statuses = await _start(request, tmp_path, fake_messages_api, {"sessionStatus": True})
    yield editor, statuses
    await editor.client.shutdown_session()
    await editor.client.stop()


def _progress(editor: Editor) -> list[Any]:
    return [r for reports in editor.client.progress_reports.values() for r in reports]


async def test_status_shows_retry_thinking_usage_and_the_changes(
        opted_in: tuple[Editor, list[dict[str, Any]]]) -> None:
    editor, statuses = opted_in
    script = type_hints_script()
    editor.fake.add(Fault.error(529, retry_after=2.0), *script)
    session = await editor.edit(LONG)
    await editor.client.wait_until(lambda: any(s["state"] != "running" for s in statuses), timeout=30)
    end = statuses[-1]
    assert end["sessionId"] == session
    assert end["state"] == "done"
    assert end["message"] == "2 changes proposed in 1 file"
    assert end["changes"] == {"count": 2, "files": 1}
    assert end["tokens"] > 0
    assert end["cost"] > 0
    assert all(s["sessionId"] == session and s["title"] == statuses[0]["title"] for s in statuses)
    assert set(statuses[0]) == {"sessionId", "title", "state", "turn", "activity", "thinking", "tokens", "cost",
                                "message", "changes"}

    activities = [s["activity"] for s in statuses]
    # The retry's wait counts down with its reason, while the provider waits.
    assert "retrying in 2 s: the API is overloaded" in activities, activities
    assert "retrying in 1 s: the API is overloaded" in activities, activities
    assert end["turn"] == 3
    assert end["thinking"]  # the latest thinking-summary sentence
    assert "\n" not in end["thinking"]
    # Throttled: a fast session sends a few statuses, not one per event (a state change goes at once).
    assert len(statuses) < 12, activities

    # One failure line at most, never a window/showMessage for the session itself.
    assert [m.message for m in editor.client.messages if m.type == types.MessageType.Error] == []

    # $/progress says the same: the activity, and at the end the same line; the title is cut at a word.
    reports = next(rs for rs in editor.client.progress_reports.values()
                   if isinstance(rs[0], types.WorkDoneProgressBegin) and rs[0].title.startswith("agentls: add"))
    begin = reports[0]
    assert begin.title.endswith("…")
    assert LONG.startswith(begin.title.removeprefix("agentls: ").removesuffix("…"))
    assert LONG[len(begin.title.removeprefix("agentls: ").removesuffix("…"))] == " "
    messages = [getattr(r, "message", None) or "" for r in reports]
    assert "retrying in 2 s: the API is overloaded" in messages, messages
    assert "editing calc.py" in messages, messages
    assert any(m.startswith(THINKING.split(". ")[0]) for m in messages), messages
    # The status and the progress end are two notifications: the second may still be on its way.
    await editor.client.wait_until(lambda: any(isinstance(r, types.WorkDoneProgressEnd) for r in reports))
    ends = [r for r in reports if isinstance(r, types.WorkDoneProgressEnd)]
    assert [e.message for e in ends] == ["2 changes proposed in 1 file"]


async def test_a_failure_is_one_status_and_no_message(opted_in: tuple[Editor, list[dict[str, Any]]]) -> None:
    editor, statuses = opted_in
    editor.fake.add(Fault.error(400, "prompt is too long"))
    await editor.edit("add type hints")
    await editor.client.wait_until(lambda: any(s["state"] != "running" for s in statuses), timeout=30)
    ends = [s for s in statuses if s["state"] != "running"]
    assert len(ends) == 1
    assert ends[0]["state"] == "failed"
    assert "prompt is too long" in ends[0]["message"]
    assert "\n" not in ends[0]["message"]
    await editor.client.wait_until(lambda: any(isinstance(r, types.WorkDoneProgressEnd) for r in _progress(editor)))
    assert [m.message for m in editor.client.messages if m.type == types.MessageType.Error] == []


async def test_no_changes_is_said_in_the_status(opted_in: tuple[Editor, list[dict[str, Any]]]) -> None:
    editor, statuses = opted_in
    editor.fake.add(Reply.text("Nothing to change: the code is fine."))
    await editor.edit("add type hints")
    await editor.client.wait_until(lambda: any(s["state"] != "running" for s in statuses), timeout=30)
    assert statuses[-1]["state"] == "done"
    assert statuses[-1]["message"] == "no changes proposed"
    assert statuses[-1]["changes"] == {"count": 0, "files": 0}


async def test_a_task_counts_its_changes_across_files(opted_in: tuple[Editor, list[dict[str, Any]]]) -> None:
    editor, statuses = opted_in
    (editor.workspace / "util.py").write_text("def double(x):\n    return x * 2\n")
    editor.fake.add(
        Reply([edit("str_replace", path="calc.py", old_str="def add(a, b):", new_str="def add(a: int, b: int) -> int:"),
               edit("str_replace", path="calc.py", old_str="def sub(a, b):", new_str="def sub(a: int, b: int) -> int:"),
               edit("str_replace", path="util.py", old_str="def double(x):", new_str="def double(x: int) -> int:"),
               edit("create", path="tests/test_util.py", file_text="def test_double():\n    assert True\n")]),
        Reply.text("Typed add, sub and double, and tested double."),
    )
    result = await editor.command("agentls.task", {"instruction": "type the helpers and test them"})
    await editor.client.wait_until(lambda: any(s["state"] != "running" for s in statuses), timeout=30)
    end = statuses[-1]
    assert end["sessionId"] == result["sessionId"]
    assert end["title"] == "agentls task: type the helpers and test them"
    assert (end["state"], end["message"]) == ("done", "4 changes proposed in 3 files")
    assert end["changes"] == {"count": 4, "files": 3}


@pytest.mark.parametrize("client_name", ["neovim"])
async def test_without_the_option_a_failure_is_one_message_and_no_status(
        client_name: str, tmp_path: Path, fake_messages_api: FakeMessagesAPI) -> None:
    class Request:
        param = client_name

    editor, statuses = await _start(Request(), tmp_path, fake_messages_api, {})  # type: ignore[arg-type]
    try:
        editor.fake.add(Fault.error(400, "prompt is too long"))
        await editor.edit("add type hints")
        await editor.client.wait_until(lambda: [m for m in editor.client.messages if "too long" in m.message],
                                       timeout=30)
        await editor.client.wait_until(
            lambda: any(isinstance(r, types.WorkDoneProgressEnd) for r in _progress(editor)))
        assert len([m for m in editor.client.messages if "too long" in m.message]) == 1
        assert statuses == []
    finally:
        await editor.client.shutdown_session()
        await editor.client.stop()
