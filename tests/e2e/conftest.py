from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import pytest_asyncio
from lsprotocol import types

from tests.e2e.harness import CLIENTS, RecordingClient, start
from tests.fakes.messages_api import FakeMessagesAPI

if TYPE_CHECKING:
    from tests.e2e.test_inline_edits import Editor


@dataclass
class Session:
    client: RecordingClient
    result: types.InitializeResult
    workspace: Path
    client_name: str


@pytest.fixture(autouse=True)
def _the_api_rejected_nothing(request: pytest.FixtureRequest) -> Iterator[None]:
    """Every end-to-end session talks to the fake in its 5.x mode, which answers a transcript that breaks
    the current rules (a thinking block dropped, changed or moved; prefill; sampling parameters; ...) with
    a 400. None may: a scripted error is served as a fault, never as "invalid request"."""
    fake = request.getfixturevalue("fake_messages_api") if "fake_messages_api" in request.fixturenames else None
    yield
    if fake is not None:
        rejected = [f"#{r.index}: {r.served}" for r in fake.requests if r.served.startswith("invalid request")]
        assert rejected == [], "the fake Messages API rejected requests the real API would reject too"


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    path = tmp_path / "workspace"
    path.mkdir()
    return path


@pytest_asyncio.fixture(params=CLIENTS)
async def session(request: pytest.FixtureRequest, tmp_path: Path, workspace: Path) -> AsyncIterator[Session]:
    """A real ``agentls serve`` process, initialised by a client with a real editor's capabilities."""
    client, result = await start(request.param, workspace, tmp_path / "home")
    yield Session(client, result, workspace, request.param)
    await client.shutdown_session()
    await client.stop()


@pytest_asyncio.fixture(params=CLIENTS)
async def editor(request: pytest.FixtureRequest, tmp_path: Path,
                 fake_messages_api: FakeMessagesAPI) -> AsyncIterator[Editor]:
    """A real server with one open document, ``calc.py``, once per client's capability set."""
    from tests.e2e.test_inline_edits import _editor

    editor = await _editor(request, tmp_path, fake_messages_api)
    yield editor
    await editor.client.shutdown_session()
    await editor.client.stop()
