"""Inline edits end to end: code action -> agentls.edit -> validated proposal -> accept/reject.

A real ``agentls serve`` talks to the fake Messages API through the real SDK; the test client
presents itself as Neovim or VS Code and applies ``workspace/applyEdit`` to its own copy of the
document, as an editor does.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from tests.e2e.harness import RecordingClient, _plain, change_document, open_document, start
from tests.fakes.messages_api import FakeMessagesAPI, Reply, Text, ToolUse

EDITOR = "str_replace_based_edit_tool"
SOURCE = "def add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n    return a - b\n"
HINTED = "def add(a: int, b: int) -> int:\n    return a + b\n\n\ndef sub(a: int, b: int) -> int:\n    return a - b\n"


def edit(command: str, **params: object) -> ToolUse:
    return ToolUse(EDITOR, {"command": command, **params})


#: The model's thinking summary in the first turn of ``type_hints_script`` (the editors show it as progress).
THINKING = "Both functions add or subtract numbers. I will annotate add first, then sub."


def type_hints_script() -> list[Reply]:
    return [
        Reply([Text("I'll add the hints."), edit("str_replace", path="calc.py", old_str="def add(a, b):",
                                                 new_str="def add(a: int, b: int) -> int:")], thinking=THINKING),
        Reply([edit("str_replace", path="calc.py", old_str="def sub(a, b):",
                    new_str="def sub(a: int, b: int) -> int:")]),
        Reply.text("Added type hints to add and sub."),
    ]


@dataclass
class Editor:
    client: RecordingClient
    fake: FakeMessagesAPI
    workspace: Path
    name: str
    uri: str = ""

    async def command(self, name: str, args: dict[str, Any]) -> Any:
        result = await self.client.workspace_execute_command_async(
            types.ExecuteCommandParams(command=name, arguments=[args]))
        return _plain(result)

    async def edit(self, instruction: str, start: tuple[int, int] = (0, 0), end: tuple[int, int] = (6, 0)) -> str:
        version = self.client.documents[self.uri][0]
        result = await self.command("agentls.edit", {
            "uri": self.uri, "version": version, "instruction": instruction,
            "range": {"start": {"line": start[0], "character": start[1]},
                      "end": {"line": end[0], "character": end[1]}}})
        return str(result["sessionId"])

    async def proposal(self, count: int = 1) -> dict[str, Any]:
        await self.client.wait_until(lambda: len(self.client.proposals) >= count, timeout=20)
        return self.client.proposals[count - 1]

    async def code_actions(self, start: tuple[int, int], end: tuple[int, int],
                           diagnostics: list[types.Diagnostic] | None = None) -> list[dict[str, Any]]:
        """The code actions as the wire carried them (plain JSON)."""
        result = await self.client.text_document_code_action_async(types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(self.uri),
            range=types.Range(types.Position(*start), types.Position(*end)),
            context=types.CodeActionContext(diagnostics=diagnostics or [])))
        return list(result or [])  # type: ignore[arg-type]


async def _editor(request: pytest.FixtureRequest, tmp_path: Path, fake: FakeMessagesAPI,
                  options: dict[str, Any] | None = None, settings: dict[str, Any] | None = None) -> Editor:
    workspace = tmp_path / "workspace"
    workspace.mkdir(exist_ok=True)
    (workspace / "calc.py").write_text(SOURCE)
    init = {"inlineProposals": True, **(options or {})}
    if settings:
        init["settings"] = settings
    env = {**fake.env(), "AGENTLS_MODEL__RETRY__BASE_DELAY_S": "0.01"}
    client, _ = await start(request.param, workspace, tmp_path / "home", initialization_options=init, env=env)
    editor = Editor(client, fake, workspace, request.param)
    editor.uri = open_document(client, workspace / "calc.py", "python", SOURCE)
    await client.diagnostics_for(editor.uri, version=1)
    return editor


# -- code actions ------------------------------------------------------------------------------------

async def test_code_actions_on_a_selection(editor: Editor) -> None:
    actions = await editor.code_actions((0, 0), (1, 16))
    by_title = {a["title"]: a for a in actions}
    assert list(by_title) == ["Edit with agent…", "Document with agent", "Add tests with agent"]
    edit_action = by_title["Edit with agent…"]
    assert edit_action["kind"] == "refactor.rewrite"
    assert edit_action["command"]["command"] == "agentls.edit"
    args = edit_action["command"]["arguments"][0]
    assert args == {"uri": editor.uri, "version": 1,
                    "range": {"start": {"line": 0, "character": 0}, "end": {"line": 1, "character": 16}}}
    # no "instruction": the editor asks the user for it
    assert "documentation" in by_title["Document with agent"]["command"]["arguments"][0]["instruction"]
    assert "tests" in by_title["Add tests with agent"]["command"]["arguments"][0]["instruction"]


async def test_an_empty_selection_offers_edit_with_agent_on_the_cursor_line(editor: Editor) -> None:
    actions = await editor.code_actions((1, 4), (1, 4))
    assert [a["title"] for a in actions] == ["Edit with agent…"]
    assert actions[0]["command"]["arguments"][0]["range"] == {
        "start": {"line": 1, "character": 0}, "end": {"line": 2, "character": 0}}


async def test_fix_with_agent_on_any_servers_diagnostic(editor: Editor) -> None:
    diagnostic = types.Diagnostic(range=types.Range(types.Position(1, 11), types.Position(1, 16)),
                                  message="Operator \"+\" not supported for \"None\"", source="pyright",
                                  severity=types.DiagnosticSeverity.Error)
    actions = await editor.code_actions((1, 11), (1, 11), [diagnostic])
    fixes = [a for a in actions if a["kind"] == "quickfix"]
    assert [a["title"] for a in fixes] == ['Fix with agent: Operator "+" not supported for "None"']
    assert fixes[0]["diagnostics"][0]["source"] == "pyright"
    args = fixes[0]["command"]["arguments"][0]
    assert "line 2: Operator" in args["instruction"]
    assert "(pyright)" in args["instruction"]


# -- the whole flow ----------------------------------------------------------------------------------

async def test_edit_propose_accept_one_reject_other(editor: Editor) -> None:
    editor.fake.add(*type_hints_script())
    session = await editor.edit("add type hints")
    assert session
    proposal = await editor.proposal()
    assert proposal["uri"] == editor.uri
    assert proposal["summary"] == "Added type hints to add and sub."
    hunks = proposal["hunks"]
    assert [(h["oldText"], h["newText"]) for h in hunks] == [
        ("def add(a, b):\n", "def add(a: int, b: int) -> int:\n"),
        ("def sub(a, b):\n", "def sub(a: int, b: int) -> int:\n")]
    assert hunks[1]["range"] == {"start": {"line": 4, "character": 0}, "end": {"line": 5, "character": 0}}
    assert editor.client.text(editor.uri) == SOURCE  # nothing touched the buffer yet

    # The first request told the model what to edit, where, and showed the selection.
    first = editor.fake.message_requests[0].body["messages"][0]["content"][0]["text"]
    assert "add type hints" in first
    assert "`calc.py`" in first
    assert "lines 1-6" in first

    # The model's thinking summary reached the editor as $/progress, a sentence at a time.
    reports = [getattr(r, "message", None) or "" for rs in editor.client.progress_reports.values() for r in rs]
    for sentence in ("Both functions add or subtract numbers.", "I will annotate add first, then sub."):
        assert any(m.startswith(sentence) for m in reports), reports

    # Pending hunks are visible to any client as Hint diagnostics, with accept/reject code actions.
    hints = await editor.client.wait_until(lambda: [
        d for d in (editor.client.latest_diagnostics(editor.uri) or types.PublishDiagnosticsParams("", [])).diagnostics
        if d.severity == types.DiagnosticSeverity.Hint])
    assert len(hints) == 2
    titles = [a["title"] for a in await editor.code_actions((4, 2), (4, 2))]
    assert titles[:2] == ["Accept change (change 2 of 2, line 5)", "Reject change (change 2 of 2, line 5)"]

    accepted = await editor.command("agentls.accept", {"proposalId": proposal["id"], "hunkIds": [hunks[0]["id"]]})
    assert accepted == {"applied": [hunks[0]["id"]], "rejected": [], "conflicts": [], "warnings": []}
    rejected = await editor.command("agentls.reject", {"proposalId": proposal["id"], "hunkIds": [hunks[1]["id"]]})
    assert rejected["rejected"] == [hunks[1]["id"]]
    assert editor.client.text(editor.uri) == SOURCE.replace("def add(a, b):", "def add(a: int, b: int) -> int:")

    edit_params = editor.client.applied_edits[0].edit.document_changes[0]
    assert edit_params.text_document.version == 1  # versioned: never applied blindly to a newer buffer
    states = {h["id"]: h["state"] for r in editor.client.resolutions for h in r["hunks"]}
    assert states == {hunks[0]["id"]: "accepted", hunks[1]["id"]: "rejected"}
    await editor.client.wait_until(lambda: not [
        d for d in editor.client.latest_diagnostics(editor.uri).diagnostics
        if d.severity == types.DiagnosticSeverity.Hint])


async def test_accept_all(editor: Editor) -> None:
    editor.fake.add(*type_hints_script())
    await editor.edit("add type hints")
    proposal = await editor.proposal()
    result = await editor.command("agentls.accept", {"proposalId": proposal["id"]})
    assert len(result["applied"]) == 2
    assert editor.client.text(editor.uri) == HINTED


async def test_user_types_above_while_the_agent_works_then_accepts(editor: Editor) -> None:
    client = editor.client
    loop = asyncio.get_running_loop()

    def user_types(request: object) -> Reply:
        # While the model "thinks", the user adds an import at the top of the buffer. (This runs on
        # the fake's thread: hand the change to the client's loop, and wait until the server has
        # seen version 2, so the order of events is fixed.)
        loop.call_soon_threadsafe(change_document, client, editor.uri, 2, (0, 0), (0, 0), "import math\n\n")
        deadline = time.monotonic() + 10
        while not any(p.uri == editor.uri and p.version == 2 for p in list(client.published)):
            assert time.monotonic() < deadline, "the server never saw the user's edit"
            time.sleep(0.01)
        return type_hints_script()[1]

    editor.fake.add(type_hints_script()[0], user_types, type_hints_script()[2])
    await editor.edit("add type hints")
    proposal = await editor.proposal()
    assert proposal["hunks"][0]["range"]["start"]["line"] == 2  # already moved with the user's text
    await editor.command("agentls.accept", {"proposalId": proposal["id"]})
    assert client.text(editor.uri) == "import math\n\n" + HINTED


async def test_user_types_above_after_the_proposal_then_accepts(editor: Editor) -> None:
    editor.fake.add(*type_hints_script())
    await editor.edit("add type hints")
    proposal = await editor.proposal()
    change_document(editor.client, editor.uri, 2, (0, 0), (0, 0), "# header\n")
    result = await editor.command("agentls.accept", {"proposalId": proposal["id"]})
    assert len(result["applied"]) == 2
    assert editor.client.text(editor.uri) == "# header\n" + HINTED


async def test_user_edit_inside_a_hunk_is_a_conflict(editor: Editor) -> None:
    editor.fake.add(*type_hints_script())
    await editor.edit("add type hints")
    proposal = await editor.proposal()
    first, second = (h["id"] for h in proposal["hunks"])
    change_document(editor.client, editor.uri, 2, (4, 4), (4, 7), "subtract")  # rename sub -> subtract
    result = await editor.command("agentls.accept", {"proposalId": proposal["id"]})
    assert result["applied"] == [first]
    assert result["conflicts"] == [second]
    # The second hunk is not dropped: it is shown again, as a conflict over the user's line.
    shown = editor.client.proposals[-1]
    assert shown["id"] == proposal["id"]
    [conflict] = [h for h in shown["hunks"] if h["id"] == second]
    assert conflict["state"] == "conflict"
    assert conflict["currentText"] == "def subtract(a, b):\n"
    assert conflict["oldText"] == "def sub(a, b):\n"
    assert conflict["newText"] == "def sub(a: int, b: int) -> int:\n"
    assert "h2" not in " ".join(m.message for m in editor.client.messages)  # labels, never ids
    text = editor.client.text(editor.uri)
    assert "def subtract(a, b):" in text  # the user's edit survives, the agent's hunk was not applied
    assert any("conflict" in m.message or "overlap" in m.message for m in editor.client.messages)


async def test_a_syntax_error_is_sent_back_and_repaired(editor: Editor) -> None:
    editor.fake.add(
        Reply([edit("str_replace", path="calc.py", old_str="    return a + b", new_str="    return (a + b")]),
        Reply.text("Wrapped the sum."),
        Reply([edit("str_replace", path="calc.py", old_str="    return (a + b", new_str="    return (a + b)")]),
        Reply.text("Fixed the parenthesis."),
    )
    await editor.edit("wrap the sum in parentheses")
    proposal = await editor.proposal()
    repair = editor.fake.message_requests[2].body["messages"][-1]["content"][0]["text"]
    assert "introduced syntax errors" in repair
    assert "calc.py:2:" in repair
    assert "return (a + b" in repair  # the offending line is quoted
    assert [h["newText"] for h in proposal["hunks"]] == ["    return (a + b)\n"]
    assert proposal["validation"] == []


async def test_cancel_mid_stream_leaves_no_proposal(editor: Editor) -> None:
    editor.fake.add(Reply([Text("thinking " * 40), edit("str_replace", path="calc.py", old_str="a + b",
                                                         new_str="b + a")], event_delay=0.05))
    session = await editor.edit("swap")
    await editor.client.wait_until(lambda: editor.fake.message_requests, timeout=10)
    await asyncio.sleep(0.2)
    assert await editor.command("agentls.cancel", {"sessionId": session}) == {"cancelled": True}
    await asyncio.sleep(0.5)
    assert editor.client.proposals == []
    assert editor.client.text(editor.uri) == SOURCE
    assert len(editor.fake.message_requests) == 1


async def test_the_server_answers_while_a_session_streams(editor: Editor) -> None:
    editor.fake.add(Reply([Text("slow " * 60), edit("str_replace", path="calc.py", old_str="a - b",
                                                     new_str="b - a")], event_delay=0.02), Reply.text("done"))
    await editor.edit("swap")
    await editor.client.wait_until(lambda: editor.fake.message_requests, timeout=10)
    for _ in range(20):
        assert await editor.code_actions((0, 0), (1, 0))  # answered while the model streams
    assert editor.client.proposals == []  # still streaming
    await editor.proposal()


async def test_two_sessions_at_once(editor: Editor) -> None:
    def reply_for(request: Any) -> Reply:
        text = request.body["messages"][0]["content"][0]["text"]
        if "<instruction>\nfirst change" in text:
            return Reply([edit("str_replace", path="calc.py", old_str="def add(a, b):", new_str="def add(x, y):")],
                         event_delay=0.01)
        return Reply([edit("str_replace", path="calc.py", old_str="def sub(a, b):", new_str="def sub(x, y):")])

    editor.fake.respond_with(lambda r: reply_for(r) if len(r.body["messages"]) == 1 else Reply.text("ok"))
    one = await editor.edit("first change", (0, 0), (2, 0))
    two = await editor.edit("second change", (4, 0), (6, 0))
    assert one != two
    await editor.proposal(count=2)
    for proposal in editor.client.proposals:
        await editor.command("agentls.accept", {"proposalId": proposal["id"]})
    assert editor.client.text(editor.uri) == SOURCE.replace("def add(a, b)", "def add(x, y)").replace(
        "def sub(a, b)", "def sub(x, y)")


async def test_bad_requests_are_clear_errors(editor: Editor) -> None:
    with pytest.raises(JsonRpcException, match="needs an 'instruction'"):
        await editor.command("agentls.edit", {"uri": editor.uri, "range": {
            "start": {"line": 0, "character": 0}, "end": {"line": 1, "character": 0}}})
    with pytest.raises(JsonRpcException, match="range"):
        await editor.command("agentls.edit", {"uri": editor.uri, "instruction": "x"})
    with pytest.raises(JsonRpcException, match="no pending agent proposal"):
        await editor.command("agentls.accept", {"proposalId": "nope"})
    outside = Path("/tmp/elsewhere.py").as_uri()
    with pytest.raises(JsonRpcException, match="not open"):
        await editor.command("agentls.edit", {"uri": outside, "instruction": "x", "range": {
            "start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}}})


# -- other presentations -------------------------------------------------------------------------------

@pytest.mark.parametrize("client_name", ["neovim"])
async def test_review_confirm_uses_annotated_edits(client_name: str, tmp_path: Path,
                                                   fake_messages_api: FakeMessagesAPI) -> None:
    request = type("R", (), {"param": "visual_studio_code"})()
    editor = await _editor(request, tmp_path, fake_messages_api, settings={"review": "confirm"})  # type: ignore[arg-type]
    try:
        editor.fake.add(*type_hints_script())
        await editor.edit("add type hints")
        await editor.client.wait_until(lambda: editor.client.applied_edits, timeout=20)
        change = editor.client.applied_edits[0].edit
        assert change.change_annotations
        assert all(a.needs_confirmation for a in change.change_annotations.values())
        assert editor.client.text(editor.uri) == HINTED
        assert editor.client.proposals == []
    finally:
        await editor.client.shutdown_session()
        await editor.client.stop()


async def test_a_client_without_inline_support_reviews_through_hints(tmp_path: Path,
                                                                    fake_messages_api: FakeMessagesAPI) -> None:
    request = type("R", (), {"param": "neovim"})()
    editor = await _editor(request, tmp_path, fake_messages_api, options={"inlineProposals": False})  # type: ignore[arg-type]
    try:
        editor.fake.add(*type_hints_script())
        await editor.edit("add type hints")
        hints = await editor.client.wait_until(lambda: [
            d for d in (editor.client.latest_diagnostics(editor.uri)
                        or types.PublishDiagnosticsParams("", [])).diagnostics
            if d.severity == types.DiagnosticSeverity.Hint], timeout=20)
        assert editor.client.proposals == []  # no custom notification for this client
        assert hints[0].source == "agentls"
        assert "accept" in hints[0].message
        actions = await editor.code_actions((0, 0), (0, 0))
        accept_all = next(a for a in actions if a["title"] == "Accept all agent changes in file")
        await editor.command(accept_all["command"]["command"], accept_all["command"]["arguments"][0])
        assert editor.client.text(editor.uri) == HINTED
    finally:
        await editor.client.shutdown_session()
        await editor.client.stop()


async def test_a_missing_api_key_is_one_clear_message(tmp_path: Path, fake_messages_api: FakeMessagesAPI) -> None:
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    client, _ = await start("neovim", workspace, tmp_path / "home", initialization_options={"inlineProposals": True},
                            env={"ANTHROPIC_BASE_URL": fake_messages_api.base_url})
    try:
        uri = open_document(client, workspace / "a.py", "python", "x = 1\n")
        await client.workspace_execute_command_async(types.ExecuteCommandParams(command="agentls.edit", arguments=[{
            "uri": uri, "instruction": "x", "range": {"start": {"line": 0, "character": 0},
                                                      "end": {"line": 1, "character": 0}}}]))
        message = await client.wait_until(lambda: next(
            (m for m in client.messages if "ANTHROPIC_API_KEY" in m.message), None), timeout=20)
        assert message.type == types.MessageType.Error
        assert "\n" not in message.message
        assert fake_messages_api.requests == []
    finally:
        await client.shutdown_session()
        await client.stop()


async def test_a_task_proposes_per_file_including_closed_and_new_files(editor: Editor) -> None:
    (editor.workspace / "util.py").write_text("def double(x):\n    return x * 2\n")
    editor.fake.add(
        Reply([edit("str_replace", path="calc.py", old_str="def add(a, b):", new_str="def add(a: int, b: int) -> int:"),
               edit("str_replace", path="util.py", old_str="def double(x):", new_str="def double(x: int) -> int:"),
               edit("create", path="tests/test_util.py",
                    file_text="from util import double\n\n\ndef test_double():\n    assert double(2) == 4\n")]),
        Reply.text("Typed add and double, and tested double."),
    )
    result = await editor.command("agentls.task", {"instruction": "type the helpers and test them"})
    assert result["sessionId"]
    await editor.proposal(count=3)
    by_path = {p["path"]: p for p in editor.client.proposals}
    assert set(by_path) == {"calc.py", "util.py", "tests/test_util.py"}
    assert by_path["calc.py"]["version"] == 1  # the open buffer's version
    assert by_path["util.py"]["version"] is None  # not open in the editor

    for proposal in editor.client.proposals:
        await editor.command("agentls.accept", {"proposalId": proposal["id"]})
    assert editor.client.text(editor.uri).startswith("def add(a: int, b: int) -> int:")
    # Files that were not open went through workspace/applyEdit too (the editor wrote them).
    assert (editor.workspace / "util.py").read_text() == "def double(x: int) -> int:\n    return x * 2\n"
    assert (editor.workspace / "tests" / "test_util.py").read_text().endswith("assert double(2) == 4\n")
    created = [c for e in editor.client.applied_edits for c in (e.edit.document_changes or [])
               if isinstance(c, types.CreateFile)]
    assert [c.uri for c in created] == [(editor.workspace / "tests" / "test_util.py").as_uri()]


async def test_usage_command_reports_the_sessions(editor: Editor) -> None:
    editor.fake.add(*type_hints_script())
    await editor.edit("add type hints")
    await editor.proposal()
    usage = await editor.command("agentls.usage", {})
    assert len(usage["sessions"]) == 1
    row = usage["sessions"][0]
    assert row["kind"] == "edit"
    assert row["status"] == "completed"
    assert row["turns"] == 3
    assert row["inputTokens"] > 0
    assert usage["totalCostUsd"] == row["costUsd"] > 0


async def test_a_new_api_key_from_the_editor_is_used_by_the_next_session(editor: Editor) -> None:
    editor.fake.respond_with(lambda request: Reply.text("nothing to change"))
    await editor.edit("first")
    await editor.client.wait_until(lambda: editor.fake.message_requests, timeout=20)
    editor.client.workspace_did_change_configuration(types.DidChangeConfigurationParams(
        settings={"agentls": {"model": {"apiKey": "sk-ant-second-key"}}}))
    await asyncio.sleep(0.2)
    await editor.edit("second")
    await editor.client.wait_until(lambda: len(editor.fake.message_requests) >= 2, timeout=20)
    keys = [r.api_key for r in editor.fake.message_requests]
    assert keys[0] != "sk-ant-second-key"
    assert keys[-1] == "sk-ant-second-key"


async def test_two_accepts_at_once_apply_a_change_once(editor: Editor) -> None:
    (editor.workspace / "notes.py").write_text("a = 1\nb = 2\n")  # not open: no version to protect it
    editor.fake.add(Reply([edit("insert", path="notes.py", insert_line=1, insert_text="x = 0\n")]),
                    Reply.text("Inserted x."))
    await editor.command("agentls.task", {"instruction": "insert x"})
    proposal = await editor.proposal()
    hunk = proposal["hunks"][0]["id"]
    results = await asyncio.gather(
        editor.command("agentls.accept", {"proposalId": proposal["id"], "hunkIds": [hunk]}),
        editor.command("agentls.accept", {"proposalId": proposal["id"], "hunkIds": [hunk]}),
        return_exceptions=True)
    assert (editor.workspace / "notes.py").read_text() == "a = 1\nx = 0\nb = 2\n"  # once, not twice
    applied = [r for r in results if isinstance(r, dict) and r["applied"] == [hunk]]
    assert len(applied) == 1
    refused = [r for r in results if isinstance(r, JsonRpcException)]
    assert len(refused) == 1
    assert "already resolved" in str(refused[0]) or "accepted" in str(refused[0])


async def test_an_edit_for_an_older_version_is_refused(editor: Editor) -> None:
    change_document(editor.client, editor.uri, 2, (0, 0), (0, 0), "# moved\n")
    await editor.client.diagnostics_for(editor.uri, version=2)
    with pytest.raises(JsonRpcException, match="changed since the selection"):
        await editor.command("agentls.edit", {"uri": editor.uri, "version": 1, "instruction": "x", "range": {
            "start": {"line": 0, "character": 0}, "end": {"line": 1, "character": 0}}})


async def test_a_conflict_is_shown_and_can_be_forced_or_rejected(editor: Editor) -> None:
    editor.fake.add(*type_hints_script())
    await editor.edit("add type hints")
    proposal = await editor.proposal()
    first, second = (h["id"] for h in proposal["hunks"])
    change_document(editor.client, editor.uri, 2, (4, 4), (4, 7), "subtract")
    shown = await editor.client.wait_until(lambda: next(
        (p for p in editor.client.proposals[1:] if any(h["state"] == "conflict" for h in p["hunks"])), None))
    assert shown["id"] == proposal["id"]
    assert [h["label"] for h in shown["hunks"]] == ["change 1 of 2, line 1", "change 2 of 2, line 5"]
    warning = next(m.message for m in editor.client.messages if "conflict" in m.message)
    assert "change 2 of 2, line 5" in warning
    assert second not in warning
    assert not any(h["state"] == "stale" for r in editor.client.resolutions for h in r["hunks"])

    actions = {a["title"]: a for a in await editor.code_actions((4, 2), (4, 2))}
    take = actions["Take the agent's version (change 2 of 2, line 5)"]  # the way to resolve it, by name
    assert take["command"]["arguments"][0] == {"proposalId": proposal["id"], "hunkIds": [second], "force": True}
    assert "Keep your lines (change 2 of 2, line 5)" in actions
    assert not [t for t in actions if t.startswith("Accept change (change 2")]

    refused = await editor.command("agentls.accept", {"proposalId": proposal["id"], "hunkIds": [second]})
    assert refused["applied"] == []
    assert refused["conflicts"] == [second]
    assert "def subtract(a, b):" in editor.client.text(editor.uri)
    forced = await editor.command("agentls.accept", {"proposalId": proposal["id"], "hunkIds": [second],
                                                     "force": True})
    assert forced["applied"] == [second]
    assert editor.client.text(editor.uri) == SOURCE.replace("def sub(a, b):", "def sub(a: int, b: int) -> int:")
    result = await editor.command("agentls.reject", {"proposalId": proposal["id"], "hunkIds": [first]})
    assert result["rejected"] == [first]


async def test_a_comment_below_a_pending_insertion_keeps_it_pending(editor: Editor) -> None:
    editor.fake.add(Reply([edit("insert", path="calc.py", insert_line=1, insert_text="    # sum\n")]),
                    Reply.text("Commented the sum."))
    await editor.edit("comment")
    proposal = await editor.proposal()
    [hunk] = proposal["hunks"]
    change_document(editor.client, editor.uri, 2, (1, 16), (1, 16), "  # the result")  # the line below
    await editor.client.diagnostics_for(editor.uri, version=2)
    listed = await editor.command("agentls.proposals", {"uri": editor.uri})
    [again] = listed["proposals"]
    assert [(h["id"], h["state"]) for h in again["hunks"]] == [(hunk["id"], "pending")]
    result = await editor.command("agentls.accept", {"proposalId": proposal["id"]})
    assert result["applied"] == [hunk["id"]]
    assert editor.client.text(editor.uri) == SOURCE.replace(
        "    return a + b\n", "    # sum\n    return a + b  # the result\n")
