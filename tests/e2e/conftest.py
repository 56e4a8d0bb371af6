from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio
from lsprotocol import types

from tests.e2e.harness import CLIENTS, RecordingClient, start


@dataclass
class Session:
    client: RecordingClient
    result: types.InitializeResult
    workspace: Path
    client_name: str


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
