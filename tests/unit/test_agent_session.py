"""The agent loop end to end: the real SDK against the fake Messages API, real tools, a temp workspace."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from agentls.agent.events import AgentEvent, ToolFinished
from agentls.config import Settings
from agentls.providers.anthropic import AnthropicProvider
from agentls.store.audit import AuditLog
from agentls.store.db import Store
from agentls.workflows.task import TaskOutcome
from tests.fakes.messages_api import FakeMessagesAPI, Fault, Reply, Text, ToolUse, Usage
from tests.sessions import run_with_runtime

EDITOR = "str_replace_based_edit_tool"


def edit(command: str, **params: object) -> ToolUse:
    return ToolUse(EDITOR, {"command": command, **params})


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "app.py").write_text("def greet(name):\n    return 'hi ' + name\n")
    (root / "README.md").write_text("# demo\n")
    (root / ".env").write_text("SECRET=1\n")
    return root


def settings_for(fake: FakeMessagesAPI, **agent: object) -> Settings:
    settings = Settings.model_validate({
        "model": {"api_key": "test-key", "base_url": fake.base_url,
                  "retry": {"base_delay_s": 0.01, "max_delay_s": 0.05, "max_attempts": 3}},
        "agent": agent,
    })
    return settings


async def run(fake: FakeMessagesAPI, root: Path, instruction: str = "do it", *, store: Store | None = None,
              events: list[AgentEvent] | None = None, **agent: object) -> TaskOutcome:
    settings = settings_for(fake, **agent)
    provider = AnthropicProvider(settings.model)
    try:
        return await run_with_runtime(root=root, instruction=instruction, settings=settings, provider=provider,
                              store=store, on_event=(events.append if events is not None else None))
    finally:
        await provider.aclose()


def tool_results(request_body: dict[str, object]) -> list[dict[str, object]]:
    messages = request_body["messages"]
    assert isinstance(messages, list)
    return [block for block in messages[-1]["content"] if block["type"] == "tool_result"]


async def test_a_multi_turn_session_edits_through_the_overlay(
        fake_messages_api: FakeMessagesAPI, workspace: Path, tmp_path: Path) -> None:
    fake = fake_messages_api
    fake.add(
        Reply([Text("Let me look."), edit("view", path="pkg/app.py")]),
        Reply([edit("str_replace", path="pkg/app.py", old_str="'hi ' + name", new_str="f'hello {name}'")]),
        Reply([edit("create", path="pkg/util.py", file_text="def shout(s):\n    return s.upper()\n")]),
        Reply.text("Switched greet to an f-string and added shout()."),
    )
    store = Store(tmp_path / "store.db")
    outcome = await run(fake, workspace, "modernise greet", store=store)

    result = outcome.result
    assert result.status == "completed"
    assert result.summary == "Switched greet to an f-string and added shout()."
    assert result.turns == 4
    # Edits are in the overlay; the disk is untouched until the caller commits.
    assert (workspace / "pkg" / "app.py").read_text() == "def greet(name):\n    return 'hi ' + name\n"
    assert not (workspace / "pkg" / "util.py").exists()
    changes = {c.path: c for c in outcome.overlay.changes()}
    assert set(changes) == {"pkg/app.py", "pkg/util.py"}
    assert changes["pkg/app.py"].after == "def greet(name):\n    return f'hello {name}'\n"
    assert changes["pkg/util.py"].before is None

    # What the model was sent back: the numbered file view, then edit confirmations.
    view = tool_results(fake.requests[1].body)
    assert not view[0].get("is_error")
    assert "     1\tdef greet(name):\n     2\t    return 'hi ' + name" in str(view[0]["content"])
    # Usage was accounted per turn and stored.
    assert result.usage.input_tokens > 0
    rows = store.sessions()
    assert len(rows) == 1
    assert rows[0].turns == 4
    assert rows[0].status == "completed"
    assert rows[0].cost_usd == pytest.approx(result.cost_usd)

    outcome.overlay.commit()
    assert (workspace / "pkg" / "util.py").read_text() == "def shout(s):\n    return s.upper()\n"


async def test_tool_errors_go_back_to_the_model(fake_messages_api: FakeMessagesAPI, workspace: Path) -> None:
    fake = fake_messages_api
    fake.add(
        Reply([edit("str_replace", path="pkg/app.py", old_str="nowhere", new_str="x"),
               edit("view", path="../outside.txt"),
               edit("view", path=".env")]),
        Reply.text("Could not do it."),
    )
    outcome = await run(fake, workspace)
    results = tool_results(fake.requests[1].body)
    assert [r.get("is_error") for r in results] == [True, True, True]
    texts = [str(r["content"]) for r in results]
    assert "did not appear verbatim" in texts[0]
    assert "outside" in texts[1].lower()
    assert ".env" in texts[2]
    assert outcome.overlay.changes() == []


async def test_parallel_reads_and_ordered_writes_in_one_turn(fake_messages_api: FakeMessagesAPI,
                                                            workspace: Path) -> None:
    fake = fake_messages_api
    fake.add(
        Reply([edit("view", path="pkg/app.py"), edit("view", path="README.md"),
               edit("str_replace", path="README.md", old_str="# demo", new_str="# demo app"),
               edit("str_replace", path="README.md", old_str="# demo app", new_str="# Demo App")]),
        Reply.text("done"),
    )
    outcome = await run(fake, workspace)
    results = tool_results(fake.requests[1].body)
    assert [r["tool_use_id"] for r in results] == [
        b["id"] for b in fake.requests[1].body["messages"][-2]["content"] if b["type"] == "tool_use"]
    assert all(not r.get("is_error") for r in results)
    assert "# demo" in str(results[1]["content"])  # the read saw the file before the writes
    assert outcome.overlay.read("README.md") == "# Demo App\n"  # the writes applied in order


@pytest.mark.parametrize("faults", [
    [Fault.error(429, retry_after=0.01)],
    [Fault.error(529), Fault.error(529)],
    [Fault.drop(after_events=6, reply=Reply([edit("create", path="half.py", file_text="x = 1\n" * 50)]))],
], ids=["429-then-ok", "529-twice-then-ok", "stream-cut-mid-tool-use"])
async def test_faults_are_retried_and_partial_calls_never_run(
        fake_messages_api: FakeMessagesAPI, workspace: Path, faults: list[object]) -> None:
    fake = fake_messages_api
    fake.add(*faults)
    fake.add(Reply([edit("create", path="new.py", file_text="y = 2\n")]), Reply.text("ok"))
    outcome = await run(fake, workspace)
    assert outcome.result.status == "completed"
    assert [c.path for c in outcome.overlay.changes()] == ["new.py"]  # never half.py
    assert len(fake.message_requests) == len(faults) + 2


async def test_a_persistent_failure_fails_clearly_and_touches_nothing(fake_messages_api: FakeMessagesAPI,
                                                                     workspace: Path) -> None:
    fake = fake_messages_api
    fake.add(Reply([edit("create", path="new.py", file_text="y = 2\n")]))
    fake.add(Fault.error(500), Fault.error(500), Fault.error(500))
    before = {p: p.read_bytes() for p in workspace.rglob("*") if p.is_file()}
    outcome = await run(fake, workspace)
    assert outcome.result.status == "failed"
    assert "gave up after 3 attempts" in outcome.result.error
    assert {p: p.read_bytes() for p in workspace.rglob("*") if p.is_file()} == before


async def test_budget_stops_the_loop(fake_messages_api: FakeMessagesAPI, workspace: Path) -> None:
    fake = fake_messages_api
    fake.add(Reply([edit("view", path="README.md")], usage=Usage(input_tokens=900, output_tokens=200)))
    fake.add(Reply.text("never sent"))
    outcome = await run(fake, workspace, budget={"max_tokens": 1000})
    assert outcome.result.status == "budget"
    assert "1,100 tokens" in outcome.result.error
    assert "agent.budget.max_tokens" in outcome.result.error
    assert len(fake.message_requests) == 1


async def test_max_turns(fake_messages_api: FakeMessagesAPI, workspace: Path) -> None:
    fake = fake_messages_api
    fake.respond_with(lambda request: Reply([edit("view", path="README.md")]))
    outcome = await run(fake, workspace, max_turns=3)
    assert outcome.result.status == "max_turns"
    assert "3 turns" in outcome.result.error
    assert len(fake.message_requests) == 3


async def test_cancellation_stops_the_stream_and_runs_no_tools(fake_messages_api: FakeMessagesAPI,
                                                               workspace: Path) -> None:
    fake = fake_messages_api
    fake.add(Reply([Text("thinking " * 20), edit("create", path="late.py", file_text="z = 3\n")],
                   event_delay=0.05))
    events: list[AgentEvent] = []
    task = asyncio.create_task(run(fake, workspace, events=events))
    await asyncio.sleep(0.3)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not any(isinstance(e, ToolFinished) for e in events)
    assert not (workspace / "late.py").exists()
    await asyncio.sleep(0.2)
    assert len(fake.message_requests) == 1  # no retry after a cancel


async def test_requests_keep_a_byte_stable_prefix(fake_messages_api: FakeMessagesAPI, workspace: Path) -> None:
    fake = fake_messages_api
    fake.add(Reply([edit("view", path="README.md")]), Reply([edit("view", path="pkg/app.py")]), Reply.text("ok"))
    await run(fake, workspace)
    bodies = [r.body for r in fake.message_requests]
    assert len({json.dumps(b["tools"]) for b in bodies}) == 1
    assert len({json.dumps(b["system"]) for b in bodies}) == 1
    assert bodies[0]["system"][-1]["cache_control"] == {"type": "ephemeral"}
    assert bodies[0]["tools"][-1]["cache_control"] == {"type": "ephemeral"}
    for body in bodies:
        assert body["messages"][-1]["content"][-1]["cache_control"] == {"type": "ephemeral"}


async def test_memory_files_reach_the_system_prompt(fake_messages_api: FakeMessagesAPI, workspace: Path) -> None:
    (workspace / "AGENTS.md").write_text("Always use tabs.\n")
    (workspace / "pkg" / "CLAUDE.md").write_text("pkg is legacy code.\n")
    fake = fake_messages_api
    fake.add(Reply.text("ok"))
    settings = settings_for(fake)
    provider = AnthropicProvider(settings.model)
    try:
        await run_with_runtime(root=workspace, instruction="x", settings=settings, provider=provider,
                       files_in_play=["pkg/app.py"])
    finally:
        await provider.aclose()
    system = fake.message_requests[0].body["system"][0]["text"]
    assert "Always use tabs." in system
    assert "pkg is legacy code." in system
    assert system.index("Always use tabs.") < system.index("pkg is legacy code.")


async def test_the_audit_log_records_calls_and_never_the_key(fake_messages_api: FakeMessagesAPI,
                                                            workspace: Path, tmp_path: Path) -> None:
    fake = fake_messages_api
    fake.add(Reply([edit("create", path="a.py", file_text="print('sk-ant-api03-secret')\n")]), Reply.text("ok"))
    settings = settings_for(fake)
    provider = AnthropicProvider(settings.model)
    audit = AuditLog(tmp_path / "audit.jsonl")
    try:
        outcome = await run_with_runtime(root=workspace, instruction="x", settings=settings, provider=provider,
                                         audit=audit)
    finally:
        await provider.aclose()
    text = (tmp_path / "audit.jsonl").read_text()
    assert "sk-ant-api03-secret" not in text
    records = [json.loads(line) for line in text.splitlines()]
    assert {r["event"] for r in records} >= {"tool_call", "file_written"}
    assert all(r["session"] == outcome.session_id for r in records)


async def test_a_command_run_is_followed_by_a_checkpoint(fake_messages_api: FakeMessagesAPI, workspace: Path,
                                                         tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil
    import sys

    from agentls.agent.tools.run_command import sandbox_problem
    from agentls.checkpoints import Checkpoints

    monkeypatch.setenv("AGENTLS_DATA_DIR", str(tmp_path / "data"))
    sandboxed = shutil.which("bwrap") is not None and await sandbox_problem() is None
    python = sys.executable
    fake = fake_messages_api
    fake.add(Reply([ToolUse("run_command", {"command": f"{python} -c \"open('out.txt', 'w').write('made')\""})]),
             Reply.text("ran it"))
    settings = Settings.model_validate({
        "model": {"api_key": "k", "base_url": fake.base_url},
        "tools": {"run_command": {"enabled": True, "allow": [f"{python} *"], "allow_unsandboxed": not sandboxed}},
    })
    provider = AnthropicProvider(settings.model)
    try:
        outcome = await run_with_runtime(root=workspace, instruction="x", settings=settings, provider=provider)
    finally:
        await provider.aclose()
    assert outcome.result.ok, outcome.result.error
    ran = tool_results(fake.message_requests[1].body)[0]
    assert not ran.get("is_error"), ran["content"]
    assert "[exit code 0]" in str(ran["content"])
    assert (workspace / "out.txt").read_text() == "made"
    with Checkpoints(workspace, data_dir=tmp_path / "data") as checkpoints:
        after_command = [c for c in checkpoints.list() if c.trigger == "command"]
        assert len(after_command) == 1
        assert after_command[0].session_id == outcome.session_id
        assert "out.txt" in after_command[0].files
        (workspace / "out.txt").write_text("changed later")
        checkpoints.restore(after_command[0].id, ["out.txt"])
    assert (workspace / "out.txt").read_text() == "made"
