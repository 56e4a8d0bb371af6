"""One stream of session events: the bus, the events a real session publishes (shaped for ACP), and their
record in the store."""

from __future__ import annotations

from pathlib import Path

from agentls.agent.events import (
    ChangeProposed,
    EventBus,
    SessionEnded,
    SessionEvent,
    ToolCalled,
    ToolFinished,
    TurnStarted,
)
from agentls.config import Settings
from agentls.providers.anthropic import AnthropicProvider
from agentls.providers.base import TextDelta
from agentls.runtime import Runtime
from agentls.store.db import Store
from agentls.store.events import EventStore
from agentls.store.plans import owner_token
from agentls.workflows.run import run_task
from agentls.workflows.task import TaskSpec
from tests.fakes.messages_api import FakeMessagesAPI, Reply, Text, ToolUse

EDITOR = "str_replace_based_edit_tool"


def test_the_bus_delivers_in_order_per_session_and_survives_a_failing_subscriber() -> None:
    bus = EventBus()
    everything: list[SessionEvent] = []
    one: list[SessionEvent] = []

    def broken(item: SessionEvent) -> None:
        raise RuntimeError("a front end with a bug")

    bus.subscribe(broken)
    bus.subscribe(everything.append)
    unsubscribe = bus.subscribe(one.append, session_id="a")
    bus.publish("a", TurnStarted(1))
    bus.publish("b", TurnStarted(1))
    unsubscribe()
    bus.publish("a", TurnStarted(2))
    assert [(e.session_id, e.event) for e in everything] == [("a", TurnStarted(1)), ("b", TurnStarted(1)),
                                                            ("a", TurnStarted(2))]
    assert [e.event for e in one] == [TurnStarted(1)]
    assert everything[0].as_json()["kind"] == "TurnStarted"


async def test_a_session_publishes_what_it_does_and_the_store_records_it(fake_messages_api: FakeMessagesAPI,
                                                                        tmp_path: Path) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "app.py").write_text("x = 1\n")
    fake_messages_api.add(
        Reply([Text("Looking."), ToolUse(EDITOR, {"command": "view", "path": "app.py"})]),
        Reply([ToolUse(EDITOR, {"command": "str_replace", "path": "app.py", "old_str": "x = 1", "new_str": "x = 2"})]),
        Reply.text("Changed x to 2."))
    settings = Settings.model_validate({"model": {"api_key": "k", "base_url": fake_messages_api.base_url}})
    provider = AnthropicProvider(settings.model)
    store = Store(tmp_path / "store.db")
    runtime = Runtime(root, settings, provider=provider, store=store)
    runtime.record_events()
    heard: list[SessionEvent] = []
    runtime.events.subscribe(heard.append)
    try:
        outcome = await run_task(runtime, TaskSpec(instruction="bump x", session_id="s1"))
    finally:
        await provider.aclose()
        await runtime.aclose()
    assert outcome.result.ok
    events = [item.event for item in heard]
    assert {item.session_id for item in heard} == {"s1"}
    view = next(e for e in events if isinstance(e, ToolCalled) and e.input.get("command") == "view")
    assert (view.kind, view.locations, view.summary) == ("read", ("app.py",), "view app.py")
    edit = next(e for e in events if isinstance(e, ToolCalled) and e.kind == "edit")
    assert edit.input["new_str"] == "x = 2"
    viewed = next(e for e in events if isinstance(e, ToolFinished) and e.id == view.id)
    assert "x = 1" in viewed.content  # the result, as the model got it
    assert ChangeProposed("app.py", "x = 1\n", "x = 2\n") in events
    assert events[-1] == SessionEnded("completed", "Changed x to 2.", "", 3, outcome.result.cost_usd)
    stored = EventStore(store).events("s1")
    kinds = [e.kind for e in stored]
    assert kinds[0] == "TurnStarted"
    assert kinds[-1] == "SessionEnded"
    assert "ChangeProposed" in kinds
    # text pieces are stored joined: one row per run of pieces, not one per piece
    assert sum(isinstance(e, TextDelta) for e in events) > kinds.count("TextDelta")
    assert [e.data["text"] for e in stored if e.kind == "TextDelta"] == ["Looking.", "Changed x to 2."]
    assert store.fetch("SELECT frontend, owner FROM sessions WHERE id = 's1'") == [("cli", owner_token())]
    store.close()


def test_the_agent_host_records_its_sessions_under_the_servers_front_end(tmp_path: Path) -> None:
    from agentls.agent_host import Host

    host = Host(None)  # type: ignore[arg-type]  # nothing is sent here
    host.apply_settings(Settings(), tmp_path)
    assert host.runtime is not None
    assert host.runtime.frontend == "editor"
    host.apply_settings(Settings(), tmp_path, "vscode")
    assert host.runtime.frontend == "vscode"
    host.runtime.close()


async def test_the_language_server_labels_its_sessions_with_the_editors_name(tmp_path: Path) -> None:
    from lsprotocol import types

    from agentls.lsp.app import create_server

    labels = {}
    for name in ("Visual Studio Code", "Neovim", "nvim-lspconfig", "Helix", None):
        server = create_server()
        initialize = server.protocol.fm.features[types.INITIALIZE]
        await initialize(types.InitializeParams(capabilities=types.ClientCapabilities(), root_uri=tmp_path.as_uri(),
                                                client_info=types.ClientInfo(name=name) if name else None))
        labels[name] = server.runtime.frontend
    assert labels == {"Visual Studio Code": "vscode", "Neovim": "neovim", "nvim-lspconfig": "neovim",
                      "Helix": "editor", None: "editor"}


async def test_an_acp_agent_labels_its_sessions_with_the_clients_name(tmp_path: Path) -> None:
    from acp.schema import Implementation

    from agentls.acp.agent import AgentlsAgent

    named, unnamed = AgentlsAgent(), AgentlsAgent()
    await named.initialize(1, client_info=Implementation(name="zed", version="1"))
    await unnamed.initialize(1)
    runtime = named._runtime(tmp_path.resolve())
    try:
        assert (named.frontend, unnamed.frontend, runtime.frontend) == ("acp:zed", "acp", "acp:zed")
    finally:
        runtime.close()
