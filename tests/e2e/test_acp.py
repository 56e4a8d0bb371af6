"""``agentls acp`` as an ACP editor runs it: a subprocess on stdio, the package's own client side as the editor,
the fake Messages API, a real git workspace.

The test editor (``Editor``) records every ``session/update``, answers ``session/request_permission`` per file,
keeps unsaved buffers for ``fs/read_text_file`` and writes what ``fs/write_text_file`` sends. Every line the agent
writes on stdout must be a JSON-RPC frame: the harness reads stdout itself and fails the test on anything else.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import acp
import pytest
from acp import RequestError, resource_link_block, text_block
from acp.client.connection import ClientSideConnection
from acp.schema import (
    AllowedOutcome,
    ClientCapabilities,
    DeniedOutcome,
    FileSystemCapabilities,
    Implementation,
    ReadTextFileResponse,
    RequestPermissionResponse,
    WriteTextFileResponse,
)

from tests.e2e.plan_scripts import architect_script, three_steps
from tests.e2e.test_headless import edit, git, repo  # noqa: F401 - the fixture
from tests.fakes.messages_api import FakeMessagesAPI, Reply, Text

T = TypeVar("T")

CALC = "def add(a, b):\n    return a + b\n"
CALC_TYPED = "def add(a: int, b: int) -> int:\n    return a + b\n"
NEW = "from calc import add\n\nTOTAL = add(2, 3)\n"
TYPE_HINTS = edit("str_replace", path="calc.py", old_str="def add(a, b):", new_str="def add(a: int, b: int) -> int:")
WAIT = 15.0  # seconds for one request to answer
PERMISSION_KINDS = {"allow_once", "allow_always", "reject_once"}


async def within(awaitable: Awaitable[T], seconds: float = WAIT) -> T:
    return await asyncio.wait_for(awaitable, seconds)


def environment(fake: FakeMessagesAPI, home: Path, *, key: bool = True) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "AGENTLS_"))}
    env.update(fake.env() if key else {"ANTHROPIC_BASE_URL": fake.base_url})
    env.update(XDG_CONFIG_HOME=str(home / "config"), AGENTLS_DATA_DIR=str(home / "data"),
               AGENTLS_MODEL__RETRY__BASE_DELAY_S="0.01")
    return env


class Editor:
    """The ACP client side of the test: records updates, answers permissions by file name, serves buffers."""

    def __init__(self, *, read: bool = True, write: bool = True, verdicts: dict[str, str] | None = None) -> None:
        self.capabilities = ClientCapabilities(fs=FileSystemCapabilities(read_text_file=read, write_text_file=write),
                                               terminal=False)
        self.updates: list[dict[str, Any]] = []
        self.permissions: list[dict[str, Any]] = []  # {"toolCall": ..., "options": [...]} as sent
        self.buffers: dict[str, str] = {}  # absolute path -> unsaved text
        self.reads: list[str] = []
        self.writes: dict[str, str] = {}
        self.verdicts = verdicts or {}  # file name -> option kind; default allow_once

    # -- acp.Client --------------------------------------------------------------------------------------------

    async def session_update(self, session_id: str, update: Any, **kw: Any) -> None:
        self.updates.append(update.model_dump(mode="json", by_alias=True, exclude_none=True))

    async def request_permission(self, session_id: str, tool_call: Any, options: list[Any],
                                 **kw: Any) -> RequestPermissionResponse:
        asked = {"toolCall": tool_call.model_dump(mode="json", by_alias=True),
                 "options": [o.model_dump(mode="json", by_alias=True) for o in options]}
        self.permissions.append(asked)
        kind = self.verdicts.get(Path(permission_path(asked)).name, "allow_once")
        for option in asked["options"]:
            if option["kind"] == kind:
                return RequestPermissionResponse(outcome=AllowedOutcome(outcome="selected",
                                                                        option_id=option["optionId"]))
        return RequestPermissionResponse(outcome=DeniedOutcome(outcome="cancelled"))

    async def read_text_file(self, session_id: str, path: str, line: int | None = None, limit: int | None = None,
                             **kw: Any) -> ReadTextFileResponse:
        self.reads.append(path)
        if path in self.buffers:
            text = self.buffers[path]
        elif Path(path).is_file():
            text = Path(path).read_text()
        else:
            raise RequestError.resource_not_found(path)
        if line is not None or limit is not None:
            lines = text.splitlines(keepends=True)
            start = max((line or 1) - 1, 0)
            text = "".join(lines[start:start + limit] if limit is not None else lines[start:])
        return ReadTextFileResponse(content=text)

    async def write_text_file(self, session_id: str, path: str, content: str, **kw: Any) -> WriteTextFileResponse:
        self.writes[path] = content
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(content)
        return WriteTextFileResponse()

    async def ext_method(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        raise RequestError.method_not_found(method)

    async def ext_notification(self, method: str, params: dict[str, Any]) -> None:
        pass

    def on_connect(self, conn: Any) -> None:
        pass

    # -- what the test reads -----------------------------------------------------------------------------------

    def of(self, kind: str, since: int = 0) -> list[dict[str, Any]]:
        return [u for u in self.updates[since:] if u.get("sessionUpdate") == kind]

    def text(self, kind: str = "agent_message_chunk", since: int = 0) -> str:
        return "".join(u["content"].get("text", "") for u in self.of(kind, since) if isinstance(u.get("content"), dict))

    async def wait_for(self, condition: Callable[[], object], seconds: float = 10.0) -> None:
        async def poll() -> None:
            while not condition():  # noqa: ASYNC110 - conditions span updates, frames and tasks
                await asyncio.sleep(0.05)
        await within(poll(), seconds)


def permission_path(asked: dict[str, Any]) -> str:
    tool_call = asked["toolCall"]
    for location in tool_call.get("locations") or []:
        return str(location["path"])
    for content in tool_call.get("content") or []:
        if content.get("type") == "diff":
            return str(content["path"])
    return ""


@dataclass
class Agent:
    conn: ClientSideConnection
    process: asyncio.subprocess.Process
    frames: list[dict[str, Any]]  # every frame the agent wrote, in order
    junk: list[bytes]  # stdout lines that are not JSON-RPC frames


@contextlib.asynccontextmanager
async def running(fake: FakeMessagesAPI, home: Path, workspace: Path, editor: Editor, *,
                  key: bool = True) -> AsyncIterator[Agent]:
    """``agentls acp`` with ``editor`` on the other end of its stdio; stdout is checked frame by frame."""
    home.mkdir(parents=True, exist_ok=True)
    log = home / "acp-stderr.log"
    with log.open("ab") as stderr:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "agentls", "acp", stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=stderr, env=environment(fake, home, key=key), cwd=str(workspace), limit=2**26)
    assert process.stdin is not None
    assert process.stdout is not None
    stdout = process.stdout
    reader = asyncio.StreamReader(limit=2**26)
    frames: list[dict[str, Any]] = []
    junk: list[bytes] = []

    async def pump() -> None:
        while line := await stdout.readline():
            try:
                frame = json.loads(line)
            except ValueError:
                frame = None
            if isinstance(frame, dict) and frame.get("jsonrpc") == "2.0":
                frames.append(frame)
                reader.feed_data(line)
            elif line.strip():
                junk.append(line)
        reader.feed_eof()

    pumping = asyncio.create_task(pump())
    conn = ClientSideConnection(editor, process.stdin, reader)
    try:
        yield Agent(conn, process, frames, junk)
    finally:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(conn.close(), 5)
        with contextlib.suppress(Exception):
            process.stdin.close()
        try:
            await asyncio.wait_for(process.wait(), 3)
        except TimeoutError:
            process.kill()
            await process.wait()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(pumping, 5)
        print(f"--- agentls acp stderr ({log}) ---\n{log.read_text(errors='replace')[-6000:]}")
    assert junk == [], f"agentls acp wrote non-protocol lines on stdout: {junk[:5]}"


async def open_session(agent: Agent, editor: Editor, workspace: Path) -> str:
    await within(agent.conn.initialize(protocol_version=acp.PROTOCOL_VERSION, client_capabilities=editor.capabilities,
                                       client_info=Implementation(name="e2e-editor", version="0")))
    return (await within(agent.conn.new_session(cwd=str(workspace), mcp_servers=[]))).session_id


async def set_mode(agent: Agent, editor: Editor, session_id: str, mode: str) -> None:
    await within(agent.conn.set_session_mode(session_id=session_id, mode_id=mode))
    await editor.wait_for(lambda: any(u.get("currentModeId") == mode for u in editor.of("current_mode_update")))


async def prompt(agent: Agent, session_id: str, *blocks: Any, seconds: float = WAIT) -> str:
    blocks = tuple(text_block(b) if isinstance(b, str) else b for b in blocks)
    response = await within(agent.conn.prompt(session_id=session_id, prompt=list(blocks)), seconds)
    return response.stop_reason


async def checkpoints(fake: FakeMessagesAPI, home: Path, workspace: Path) -> list[dict[str, Any]]:
    listing = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "agentls", "checkpoints", "list", "--workspace", str(workspace), "--json",
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env=environment(fake, home))
    out, err = await within(listing.communicate(), 60)
    assert listing.returncode == 0, err.decode()
    entries = json.loads(out)
    assert isinstance(entries, list)
    return entries


def strings(value: Any) -> Iterator[str]:
    """Every string inside a JSON value."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


def tool_results(request: Any) -> list[dict[str, Any]]:
    return [block for message in request.body["messages"] if message["role"] == "user"
            and isinstance(message["content"], list) for block in message["content"]
            if block.get("type") == "tool_result"]


def final_status(editor: Editor, path: Path) -> str | None:
    """The last status a ``tool_call_update`` reported for the tool calls (and permission requests) about ``path``."""
    ids = {u["toolCallId"] for u in editor.of("tool_call")
           if any(loc.get("path") == str(path) for loc in u.get("locations", []))}
    ids |= {a["toolCall"]["toolCallId"] for a in editor.permissions if permission_path(a) == str(path)}
    statuses = [u["status"] for u in editor.updates
                if u.get("sessionUpdate") == "tool_call_update" and u.get("toolCallId") in ids
                and u.get("status")]
    return statuses[-1] if statuses else None


# -- 1. initialize -------------------------------------------------------------------------------------------------

async def test_initialize_advertises_sessions_images_and_no_auth_when_a_key_is_set(
        fake_messages_api: FakeMessagesAPI, repo: Path, tmp_path: Path) -> None:  # noqa: F811
    editor = Editor()
    async with running(fake_messages_api, tmp_path / "home", repo, editor) as agent:
        init = await within(agent.conn.initialize(
            protocol_version=acp.PROTOCOL_VERSION, client_capabilities=editor.capabilities,
            client_info=Implementation(name="e2e-editor", version="0")))
        assert init.protocol_version == 1
        capabilities = init.agent_capabilities
        assert capabilities is not None
        assert capabilities.load_session is True
        assert capabilities.prompt_capabilities is not None
        assert capabilities.prompt_capabilities.image is True
        assert capabilities.prompt_capabilities.embedded_context is True
        assert capabilities.session_capabilities is not None
        assert capabilities.session_capabilities.list is not None
        assert not init.auth_methods
    assert fake_messages_api.message_requests == []


async def test_without_an_api_key_auth_is_advertised_and_a_prompt_says_which_variable(
        fake_messages_api: FakeMessagesAPI, repo: Path, tmp_path: Path) -> None:  # noqa: F811
    editor = Editor()
    async with running(fake_messages_api, tmp_path / "home", repo, editor, key=False) as agent:
        init = await within(agent.conn.initialize(
            protocol_version=acp.PROTOCOL_VERSION, client_capabilities=editor.capabilities,
            client_info=Implementation(name="e2e-editor", version="0")))
        methods = [m.model_dump(mode="json", by_alias=True, exclude_none=True) for m in init.auth_methods or []]
        assert len(methods) == 1, methods
        assert methods[0]["type"] == "env_var"
        assert methods[0]["id"] == "anthropic-api-key"
        assert [v["name"] for v in methods[0]["vars"]] == ["ANTHROPIC_API_KEY"]

        session_id = (await within(agent.conn.new_session(cwd=str(repo), mcp_servers=[]))).session_id
        with pytest.raises(RequestError) as failed:
            await prompt(agent, session_id, "add type hints")
        assert "ANTHROPIC_API_KEY" in str(failed.value), (failed.value.code, str(failed.value), failed.value.data)

        again = await within(agent.conn.initialize(protocol_version=acp.PROTOCOL_VERSION,
                                                   client_capabilities=editor.capabilities))
        assert again.protocol_version == 1
        assert agent.process.returncode is None
    assert fake_messages_api.message_requests == []
    assert (repo / "calc.py").read_text() == CALC


# -- 2. session/new ------------------------------------------------------------------------------------------------

async def test_a_new_session_has_four_modes_and_slash_commands(fake_messages_api: FakeMessagesAPI, repo: Path,  # noqa: F811
                                                               tmp_path: Path) -> None:
    editor = Editor()
    async with running(fake_messages_api, tmp_path / "home", repo, editor) as agent:
        await within(agent.conn.initialize(protocol_version=acp.PROTOCOL_VERSION,
                                           client_capabilities=editor.capabilities))
        new = await within(agent.conn.new_session(cwd=str(repo), mcp_servers=[]))
        assert new.session_id
        assert new.modes is not None
        assert [m.id for m in new.modes.available_modes] == ["ask", "edit", "plan", "auto"]
        assert new.modes.current_mode_id == "edit"
        await editor.wait_for(lambda: editor.of("available_commands_update"))
        names = {c["name"] for c in editor.of("available_commands_update")[-1]["availableCommands"]}
        assert {"checkpoints", "rollback", "usage", "plan"} <= names, names


# -- 3. a prompt in edit mode --------------------------------------------------------------------------------------

THINKING = "The caller wants typed arguments; calc.py first."
EDIT_SCRIPT = [
    Reply([Text("Looking at calc.py."), edit("view", path="calc.py")], thinking=THINKING),
    Reply([TYPE_HINTS]),
    Reply([edit("create", path="new.py", file_text=NEW)]),
    Reply.text("Typed add() and added new.py."),
]


async def test_edit_mode_asks_per_file_writes_the_accepted_one_through_the_editor_and_tells_the_model(
        fake_messages_api: FakeMessagesAPI, repo: Path, tmp_path: Path) -> None:  # noqa: F811
    home = tmp_path / "home"
    calc, new = repo / "calc.py", repo / "new.py"
    fake_messages_api.add(*EDIT_SCRIPT)
    editor = Editor(verdicts={"calc.py": "allow_once", "new.py": "reject_once"})
    async with running(fake_messages_api, home, repo, editor) as agent:
        session_id = await open_session(agent, editor, repo)
        assert await prompt(agent, session_id, "add type hints and a new.py using add") == "end_turn"

        said = editor.text("agent_message_chunk")
        assert "Looking at calc.py." in said
        assert "Typed add() and added new.py." in said
        assert THINKING in editor.text("agent_thought_chunk")

        # One tool_call per model tool call (the agent may add its own, e.g. for each proposed change).
        model_calls = [block["id"] for request in fake_messages_api.message_requests
                       for block in (request.response or {}).get("content", []) if block["type"] == "tool_use"]
        assert len(model_calls) == 3
        calls = {c["toolCallId"]: c for c in editor.of("tool_call")}
        assert [calls[i].get("kind") for i in model_calls] == ["read", "edit", "edit"], editor.of("tool_call")
        assert [[loc["path"] for loc in calls[i].get("locations", [])] for i in model_calls] == [
            [str(calc)], [str(calc)], [str(new)]]

        asked = {permission_path(a): a for a in editor.permissions}
        assert sorted(asked) == sorted([str(calc), str(new)]), editor.permissions
        for path, (old, after) in {calc: (CALC, CALC_TYPED), new: (None, NEW)}.items():
            diff = asked[str(path)]["toolCall"]["content"][0]
            assert diff["type"] == "diff"
            assert diff["path"] == str(path)
            assert diff.get("oldText") == old
            assert diff["newText"] == after
            assert {o["kind"] for o in asked[str(path)]["options"]} >= PERMISSION_KINDS

        assert editor.writes == {str(calc): CALC_TYPED}  # through fs/write_text_file, as the editor offered
        assert calc.read_text() == CALC_TYPED
        assert not new.exists()
        assert final_status(editor, calc) == "completed"
        assert final_status(editor, new) == "failed"
        assert len(await checkpoints(fake_messages_api, home, repo)) == 1

        fake_messages_api.add(Reply.text("Understood, no new.py."))
        assert await prompt(agent, session_id, "ok, why did you stop?") == "end_turn"
        follow_up = fake_messages_api.message_requests[len(EDIT_SCRIPT)]
        told = [s for s in strings(follow_up.body["messages"]) if "new.py" in s and "reject" in s.lower()]
        assert told, "the model was not told that the change to new.py was rejected"


# -- 4. no fs/write_text_file ----------------------------------------------------------------------------------------

async def test_an_editor_that_cannot_write_files_gets_them_written_to_disk(
        fake_messages_api: FakeMessagesAPI, repo: Path, tmp_path: Path) -> None:  # noqa: F811
    fake_messages_api.add(Reply([TYPE_HINTS]), Reply.text("Typed add()."))
    editor = Editor(read=True, write=False)
    async with running(fake_messages_api, tmp_path / "home", repo, editor) as agent:
        session_id = await open_session(agent, editor, repo)
        assert await prompt(agent, session_id, "add type hints") == "end_turn"
        assert len(editor.permissions) == 1
        assert (repo / "calc.py").read_text() == CALC_TYPED
        assert editor.writes == {}
        assert not [f for f in agent.frames if f.get("method") == "fs/write_text_file"]


# -- 5. unsaved buffers --------------------------------------------------------------------------------------------

async def test_a_linked_file_is_read_from_the_editors_unsaved_buffer(
        fake_messages_api: FakeMessagesAPI, repo: Path, tmp_path: Path) -> None:  # noqa: F811
    calc = repo / "calc.py"
    unsaved = "def add(a, b):\n    return b + a  # unsaved in the editor\n"
    fake_messages_api.add(Reply.text("It adds two numbers."))
    editor = Editor()
    editor.buffers[str(calc)] = unsaved
    async with running(fake_messages_api, tmp_path / "home", repo, editor) as agent:
        session_id = await open_session(agent, editor, repo)
        stop = await prompt(agent, session_id, "what does this do?", resource_link_block("calc.py", calc.as_uri()))
        assert stop == "end_turn"
    assert str(calc) in editor.reads
    sent = json.dumps(fake_messages_api.message_requests[0].body)
    assert "return b + a  # unsaved in the editor" in sent
    assert "return a + b" not in sent  # not the text on disk
    assert calc.read_text() == CALC


# -- 6. auto and ask modes -----------------------------------------------------------------------------------------

async def test_auto_mode_writes_without_asking_and_still_checkpoints(
        fake_messages_api: FakeMessagesAPI, repo: Path, tmp_path: Path) -> None:  # noqa: F811
    home = tmp_path / "home"
    fake_messages_api.add(Reply([TYPE_HINTS]), Reply.text("Typed add()."))
    editor = Editor()
    async with running(fake_messages_api, home, repo, editor) as agent:
        session_id = await open_session(agent, editor, repo)
        await set_mode(agent, editor, session_id, "auto")
        assert await prompt(agent, session_id, "add type hints") == "end_turn"
        assert editor.permissions == []
        assert (repo / "calc.py").read_text() == CALC_TYPED
        assert final_status(editor, repo / "calc.py") == "completed"
        assert len(await checkpoints(fake_messages_api, home, repo)) >= 1


async def test_ask_mode_refuses_writes(fake_messages_api: FakeMessagesAPI, repo: Path, tmp_path: Path) -> None:  # noqa: F811
    fake_messages_api.add(Reply([TYPE_HINTS]), Reply.text("I can only answer questions in ask mode."))
    editor = Editor()
    async with running(fake_messages_api, tmp_path / "home", repo, editor) as agent:
        session_id = await open_session(agent, editor, repo)
        await set_mode(agent, editor, session_id, "ask")
        assert await prompt(agent, session_id, "add type hints") == "end_turn"
        assert editor.permissions == []
        assert editor.writes == {}
    requests = fake_messages_api.message_requests
    assert len(requests) == 2
    (result,) = tool_results(requests[1])
    assert result.get("is_error") is True, result
    assert (repo / "calc.py").read_text() == CALC
    assert "calc.py" not in git(repo, "status", "--porcelain")


# -- 7. plan mode --------------------------------------------------------------------------------------------------

async def test_plan_mode_drafts_a_plan_the_editor_shows(fake_messages_api: FakeMessagesAPI, repo: Path,  # noqa: F811
                                                        tmp_path: Path) -> None:
    fake_messages_api.add(*architect_script(three_steps()))
    editor = Editor()
    async with running(fake_messages_api, tmp_path / "home", repo, editor) as agent:
        session_id = await open_session(agent, editor, repo)
        await set_mode(agent, editor, session_id, "plan")
        assert await prompt(agent, session_id, "add sub, a bounded add and tests") == "end_turn"
        plans = editor.of("plan")
        assert plans, "no plan update"
        entries = plans[-1]["entries"]
        assert len(entries) == 3, entries
        assert all(isinstance(e["content"], str) for e in entries)
        for entry, title in zip(entries, ("Add sub()", "Add bounded_add() with a clamp helper", "Test the calculator"),
                                strict=True):
            assert title in entry["content"]
        assert {e["status"] for e in entries} == {"pending"}
        assert editor.permissions == []
        assert editor.writes == {}
    assert (repo / "calc.py").read_text() == CALC
    assert not (repo / "util.py").exists()
    assert not (repo / "tests").exists()


# -- 8. cancel -----------------------------------------------------------------------------------------------------

# About 6 s of streaming. The text stays under 80 characters: longer text right before a tool call comes back
# as a progress-update thinking block on current models.
SLOW_EDIT = Reply([Text("Let me rewrite calc.py with type hints, step by step."), TYPE_HINTS],
                  chunk_size=4, event_delay=0.1)


async def test_cancel_mid_stream_stops_the_turn_and_writes_nothing(
        fake_messages_api: FakeMessagesAPI, repo: Path, tmp_path: Path) -> None:  # noqa: F811
    fake_messages_api.add(SLOW_EDIT)
    editor = Editor()
    async with running(fake_messages_api, tmp_path / "home", repo, editor) as agent:
        session_id = await open_session(agent, editor, repo)
        await set_mode(agent, editor, session_id, "auto")  # a change would be written without asking
        turn = asyncio.create_task(prompt(agent, session_id, "add type hints"))
        await editor.wait_for(lambda: editor.of("agent_message_chunk") or turn.done())
        assert not turn.done(), "the turn ended before the reply finished streaming"
        await within(agent.conn.cancel(session_id=session_id))
        assert await within(turn, 10) == "cancelled"
        await asyncio.sleep(1.0)
        assert len(fake_messages_api.message_requests) == 1  # the tool call never ran, the model was not asked again
        assert editor.writes == {}
        assert editor.permissions == []
    assert (repo / "calc.py").read_text() == CALC


# -- 9. session/list and session/load ------------------------------------------------------------------------------

async def test_a_session_is_listed_and_loaded_again_by_a_new_agent_process(
        fake_messages_api: FakeMessagesAPI, repo: Path, tmp_path: Path) -> None:  # noqa: F811
    home = tmp_path / "home"
    fake_messages_api.add(Reply.text("calc.py adds two numbers."))
    first = Editor()
    async with running(fake_messages_api, home, repo, first) as agent:
        session_id = await open_session(agent, first, repo)
        assert await prompt(agent, session_id, "explain calc.py please") == "end_turn"

    editor = Editor()
    async with running(fake_messages_api, home, repo, editor) as agent:
        await within(agent.conn.initialize(protocol_version=acp.PROTOCOL_VERSION,
                                           client_capabilities=editor.capabilities))
        listed = await within(agent.conn.list_sessions(cwd=str(repo)))
        assert [(s.session_id, s.cwd) for s in listed.sessions if s.session_id == session_id] == [
            (session_id, str(repo))], listed
        mark = len(agent.frames)
        await within(agent.conn.load_session(cwd=str(repo), session_id=session_id, mcp_servers=[]))
        assert "explain calc.py please" in editor.text("user_message_chunk")
        assert "calc.py adds two numbers." in editor.text("agent_message_chunk")
        frames = agent.frames[mark:]
        response = next(i for i, f in enumerate(frames) if "method" not in f and ("result" in f or "error" in f))
        replayed = [f["params"]["update"]["sessionUpdate"] for f in frames[:response]
                    if f.get("method") == "session/update"]
        assert "user_message_chunk" in replayed
        assert "agent_message_chunk" in replayed  # both before the load's response
    assert len(fake_messages_api.message_requests) == 1  # loading does not call the model


# -- 10. slash commands --------------------------------------------------------------------------------------------

async def test_slash_commands_usage_checkpoints_and_rollback(fake_messages_api: FakeMessagesAPI, repo: Path,  # noqa: F811
                                                             tmp_path: Path) -> None:
    home = tmp_path / "home"
    calc = repo / "calc.py"
    fake_messages_api.add(Reply([TYPE_HINTS]), Reply.text("Typed add()."))
    editor = Editor()
    async with running(fake_messages_api, home, repo, editor) as agent:
        session_id = await open_session(agent, editor, repo)
        assert await prompt(agent, session_id, "add type hints") == "end_turn"
        assert calc.read_text() == CALC_TYPED
        (checkpoint,) = await checkpoints(fake_messages_api, home, repo)
        asked = len(fake_messages_api.message_requests)

        mark = len(editor.updates)
        assert await prompt(agent, session_id, "/usage") == "end_turn"
        usage = editor.text(since=mark)
        assert "token" in usage.lower(), usage
        assert "$" in usage, usage

        mark = len(editor.updates)
        assert await prompt(agent, session_id, "/checkpoints") == "end_turn"
        assert checkpoint["id"][:8] in editor.text(since=mark)

        mark = len(editor.updates)
        assert await prompt(agent, session_id, f"/rollback {checkpoint['id']}") == "end_turn"
        assert editor.text(since=mark)
        assert calc.read_text() == CALC
        assert len(fake_messages_api.message_requests) == asked  # no command called the model


# -- 11. malformed messages ----------------------------------------------------------------------------------------

async def test_bad_params_and_unknown_methods_get_json_rpc_errors_and_the_agent_stays_up(
        fake_messages_api: FakeMessagesAPI, repo: Path, tmp_path: Path) -> None:  # noqa: F811
    editor = Editor()
    async with running(fake_messages_api, tmp_path / "home", repo, editor) as agent:
        session_id = await open_session(agent, editor, repo)
        with pytest.raises(RequestError) as bad:
            await within(agent.conn._conn.send_request("session/prompt", {"sessionId": 5}))
        assert bad.value.code == -32602
        with pytest.raises(RequestError) as unknown:
            await within(agent.conn._conn.send_request("session/bogus", {}))
        assert unknown.value.code == -32601
        with pytest.raises(RequestError) as no_session:
            await within(agent.conn._conn.send_request("session/set_mode", {"sessionId": session_id}))
        assert no_session.value.code == -32602

        assert agent.process.stdin is not None
        agent.process.stdin.write(b"this is not JSON\n")  # answered with a parse error, as agentls acp promises
        await editor.wait_for(lambda: any((f.get("error") or {}).get("code") == -32700 for f in agent.frames))

        fake_messages_api.add(Reply.text("Still here."))
        assert await prompt(agent, session_id, "are you there?") == "end_turn"
        assert "Still here." in editor.text()
        assert agent.process.returncode is None


# -- 12. the editor goes away mid-turn -----------------------------------------------------------------------------

async def test_the_agent_exits_when_the_editor_disconnects_mid_turn_and_writes_nothing(
        fake_messages_api: FakeMessagesAPI, repo: Path, tmp_path: Path) -> None:  # noqa: F811
    fake_messages_api.add(SLOW_EDIT)
    editor = Editor()
    before = git(repo, "status", "--porcelain")
    async with running(fake_messages_api, tmp_path / "home", repo, editor) as agent:
        session_id = await open_session(agent, editor, repo)
        await set_mode(agent, editor, session_id, "auto")
        turn = asyncio.create_task(prompt(agent, session_id, "add type hints"))
        await editor.wait_for(lambda: editor.of("agent_message_chunk") or turn.done())
        assert not turn.done()
        assert agent.process.stdin is not None
        agent.process.stdin.close()  # the editor is gone
        try:
            await within(agent.process.wait(), 10)
        except TimeoutError:
            exited = False  # the reply (about 6 s) has streamed to its end meanwhile: was the change written?
        else:
            exited = True
        turn.cancel()
        await asyncio.gather(turn, return_exceptions=True)
    assert ((repo / "calc.py").read_text(), git(repo, "status", "--porcelain")) == (CALC, before)
    assert editor.writes == {}
    assert exited, "agentls acp was still running 10 s after its editor closed stdin"


# -- 13. stdout carries only protocol ------------------------------------------------------------------------------

async def test_stdout_carries_only_json_rpc_frames_through_a_whole_turn(
        fake_messages_api: FakeMessagesAPI, repo: Path, tmp_path: Path) -> None:  # noqa: F811
    fake_messages_api.add(Reply([Text("Looking."), edit("view", path="calc.py")]), Reply.text("It adds."))
    editor = Editor()
    async with running(fake_messages_api, tmp_path / "home", repo, editor) as agent:
        session_id = await open_session(agent, editor, repo)
        assert await prompt(agent, session_id, "what does calc.py do?") == "end_turn"
        assert all(f.get("jsonrpc") == "2.0" for f in agent.frames)
        assert any(f.get("method") == "session/update" for f in agent.frames)
        # ``running`` fails the test after the process exits if any stdout line was not a JSON-RPC frame.
