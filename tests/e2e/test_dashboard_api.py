"""``agentls dashboard`` over HTTP: who may reach it (token, cookie, Host, Origin, CSRF) and what each endpoint
answers, from a store that real ``agentls run`` sessions (the fake Messages API) and seeded rows filled."""

from __future__ import annotations

import http.client
import json
import secrets
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx  # the HTTP client the anthropic SDK brings
import pytest

from agentls.dashboard.codes import KEY_ENV, mint
from agentls.store.db import Store
from agentls.store.plans import PlanStore, StepRow
from tests.e2e.dashboard_harness import Dashboard, dashboard, env_for
from tests.e2e.test_headless import SCRIPT, repo  # noqa: F401  (the fixture)
from tests.fakes.messages_api import FakeMessagesAPI, Fault, Reply


@pytest.fixture
def home(tmp_path: Path) -> Path:
    (tmp_path / "home").mkdir()
    return tmp_path / "home"


@pytest.fixture
def board(home: Path) -> Iterator[Dashboard]:
    with dashboard(home) as running:
        yield running


def store_of(home: Path) -> Store:
    return Store(home / "data" / "agentls.db")


def run_agent(fake: FakeMessagesAPI, home: Path, workspace: Path, task: str) -> subprocess.CompletedProcess[str]:
    env = env_for(home, {**fake.env(), "AGENTLS_MODEL__RETRY__BASE_DELAY_S": "0.01"})
    return subprocess.run([sys.executable, "-m", "agentls", "run", task, "--workspace", str(workspace), "--yes"],
                          capture_output=True, text=True, env=env, timeout=120, check=False,
                          stdin=subprocess.DEVNULL)


# -- who may reach it ---------------------------------------------------------------------------------

def test_every_request_needs_the_token_and_the_first_visit_trades_it_for_a_cookie(home: Path) -> None:
    with dashboard(home) as board, httpx.Client(base_url=board.base, timeout=10) as bare:
        assert bare.get("/").status_code == 401
        assert bare.get("/api/sessions").status_code == 401
        assert bare.get("/app.js").status_code == 401
        assert bare.get("/?token=wrong").status_code == 401
        first = bare.get(f"/?token={board.token}")
        assert first.status_code == 303
        assert first.headers["location"] == "/"
        cookie = first.headers["set-cookie"]
        assert "HttpOnly" in cookie
        assert "SameSite=Strict" in cookie
        assert board.token in cookie
        page = bare.get("/")  # the client kept the cookie
        assert page.status_code == 200
        assert "<html" in page.text.lower()
        policy = page.headers["content-security-policy"]
        assert "default-src 'self'" in policy
        assert "script-src 'self'" in policy
        assert "frame-ancestors 'none'" in policy
        assert page.headers["x-content-type-options"] == "nosniff"


def test_bearer_token_works_for_scripts(board: Dashboard) -> None:
    with httpx.Client(base_url=board.base, timeout=10) as script:
        assert script.get("/api/meta", headers={"authorization": f"Bearer {board.token}"}).status_code == 200
        assert script.get("/api/meta", headers={"authorization": "Bearer nope"}).status_code == 401


def test_a_foreign_host_name_is_refused_even_with_the_token(board: Dashboard) -> None:
    """DNS rebinding: evil.example resolving to 127.0.0.1 reaches the port, but not the app."""
    for host in (f"evil.example:{board.port}", "127.0.0.1", f"127.0.0.1:{(board.port or 0) + 1}"):
        response = board.client.get("/api/meta", headers={"host": host})
        assert response.status_code == 421, host
    assert board.client.get("/api/meta", headers={"host": f"localhost:{board.port}"}).status_code == 200


def test_cross_origin_and_cross_site_requests_are_refused(board: Dashboard) -> None:
    assert board.client.get("/api/meta", headers={"origin": "http://evil.example"}).status_code == 403
    assert board.client.get("/api/meta", headers={"sec-fetch-site": "cross-site"}).status_code == 403
    assert board.client.get("/api/meta", headers={"origin": board.base}).status_code == 200
    refused = board.client.post("/api/checkpoints/abc/restore", json={"workspace": "/x"},
                                headers={"origin": "http://evil.example", "x-csrf-token": board.csrf})
    assert refused.status_code == 403


def test_a_same_site_page_on_another_local_port_is_refused(board: Dashboard) -> None:
    """Anything served from localhost on another port is same-site: an <img> there must not reach the API."""
    assert board.client.get("/api/meta", headers={"sec-fetch-site": "same-site"}).status_code == 403
    assert board.client.get("/api/meta", headers={"sec-fetch-site": "same-origin"}).status_code == 200
    assert board.client.get("/api/meta", headers={"sec-fetch-site": "none"}).status_code == 200


def test_another_apps_malformed_cookie_does_not_hide_ours(board: Dashboard) -> None:
    """Cookies ignore ports: whatever else runs on 127.0.0.1 sends its cookies here too."""
    ours = f"agentls_dashboard_{board.port}={board.token}"
    with httpx.Client(base_url=board.base, timeout=10) as bare:
        for other in ('grafana={"a":1}', "x=a b", "x=a\\b", "=;;"):
            assert bare.get("/api/meta", headers={"cookie": f"{other}; {ours}"}).status_code == 200, other


def _raw_get(board: Dashboard, target: str) -> http.client.HTTPResponse:
    """A GET of ``target`` exactly as written (HTTP clients normalise paths such as ``//host/``)."""
    connection = http.client.HTTPConnection("127.0.0.1", board.port, timeout=10)
    connection.request("GET", target)
    response = connection.getresponse()
    response.read()
    connection.close()
    return response


def test_the_first_visit_redirects_to_the_path_as_sent_and_only_on_this_server(board: Dashboard) -> None:
    for path, location in (("/%E2%82%AC", "/%E2%82%AC"), ("//evil.example/", "/evil.example/"),
                           ("/a%3Fb", "/a%3Fb"), ("/sessions", "/sessions"), ("/a%0d%0aX:1", "/a%0d%0aX:1")):
        first = _raw_get(board, f"{path}?token={board.token}&x=1")
        assert first.status == 303, path
        assert first.headers["location"] == f"{location}?x=1", path
        assert first.headers.get("x") is None


def test_a_one_time_code_signs_in_once(home: Path) -> None:
    """What a browser is opened with (by `agentls dashboard`, or an editor through the language server)."""
    key = secrets.token_bytes(32)
    with dashboard(home, env=env_for(home, {KEY_ENV: key.hex()})) as board, \
            httpx.Client(base_url=board.base, timeout=10) as browser:
        code = mint(key)
        first = browser.get(f"/?code={code}&x=1")
        assert first.status_code == 303
        assert first.headers["location"] == "/?x=1"
        assert board.token in first.headers["set-cookie"]  # the same cookie as the token's
        assert browser.get("/api/meta").status_code == 200
        with httpx.Client(base_url=board.base, timeout=10) as other:
            assert other.get(f"/?code={code}").status_code == 401  # used
            assert "used or has expired" in other.get(f"/?code={code}").json()["error"]
            assert other.get(f"/?code={mint(secrets.token_bytes(32))}").status_code == 401  # another key
            assert other.get(f"/?code={mint(key, now=time.time() - 600)}").status_code == 401  # expired
            assert other.get(f"/?code={mint(key, now=time.time() + 3600)}").status_code == 401  # too far ahead
            for forged in ("", "1.2.3", "x" * 5000, f"{code}x", "9999999999.a.b"):
                assert other.get("/", params={"code": forged}).status_code == 401, forged


def test_a_post_needs_the_csrf_token(board: Dashboard) -> None:
    assert board.post("/api/checkpoints/abc/restore", {"workspace": "/nowhere"}, csrf=None).status_code == 403
    assert board.post("/api/checkpoints/abc/restore", {"workspace": "/nowhere"}, csrf="guess").status_code == 403
    answered = board.post("/api/checkpoints/abc/restore", {"workspace": "/nowhere"})
    assert answered.status_code == 404
    assert "no agentls session" in answered.json()["error"]
    assert board.client.post("/api/checkpoints/abc/restore", content=b"{not json",
                             headers={"x-csrf-token": board.csrf}).status_code == 400
    assert board.client.get("/api/checkpoints/abc/restore").status_code in (404, 405)  # never a restore
    deep = board.client.post("/api/checkpoints/abc/restore", content=b"[" * 30_000 + b"]" * 30_000,
                             headers={"x-csrf-token": board.csrf})
    assert (deep.status_code, deep.json()) == (400, {"error": "the request body is not JSON"})
    big = board.client.post("/api/checkpoints/abc/restore", content=b" " * 200_000,
                            headers={"x-csrf-token": board.csrf})
    assert (big.status_code, big.json()) == (413, {"error": "the request body is over 64 KB"})
    wrong = board.client.post("/api/meta", json={}, headers={"x-csrf-token": board.csrf})
    assert (wrong.status_code, wrong.json()) == (405, {"error": "POST is not answered at /api/meta"})


def test_the_dashboard_listens_on_loopback_only_by_default(board: Dashboard) -> None:
    assert board.base.startswith("http://127.0.0.1:")


def test_another_host_is_allowed_with_a_warning(home: Path) -> None:
    with dashboard(home, "--host", "0.0.0.0") as board:
        assert board.json("/api/meta")["version"]
    assert "WARNING" in (home / "dashboard.log").read_text()


# -- sessions: paging, filters, detail ----------------------------------------------------------------

def test_sessions_page_newest_first_with_filters_and_a_total(home: Path) -> None:
    store = store_of(home)
    for number in range(120):
        workspace = "/ws/a" if number % 3 else "/ws/b"
        store.start_session(f"s{number:03d}", workspace, "task", f"task number {number}", "claude-opus-4-5")
        store.record_usage(f"s{number:03d}", 1, "claude-opus-4-5", 100, 10, 0, 50, 0.01)
        store.end_session(f"s{number:03d}", "ok", "done")
        time.sleep(0.001)
    store.close()
    with dashboard(home) as board:
        seen: list[str] = []
        cursor = None
        while True:
            page = board.json("/api/sessions", limit=50, cursor=cursor)
            assert page["total"] == 120
            seen += [row["id"] for row in page["sessions"]]
            cursor = page["next"]
            if cursor is None:
                break
        assert seen == [f"s{n:03d}" for n in reversed(range(120))]
        row = board.json("/api/sessions", limit=1)["sessions"][0]
        assert row["turns"] == 1
        assert row["cost_usd"] == pytest.approx(0.01)
        assert row["cache_read_tokens"] == 50
        assert row["live"] is False
        assert row["status"] == "ok"
        only_b = board.json("/api/sessions", workspace="/ws/b", limit=200)
        assert only_b["total"] == 40
        assert {r["workspace"] for r in only_b["sessions"]} == {"/ws/b"}
        found = board.json("/api/sessions", q="NUMBER 7", limit=200)
        assert sorted(r["id"] for r in found["sessions"]) == ["s007", "s070", "s071", "s072", "s073", "s074",
                                                              "s075", "s076", "s077", "s078", "s079"]
        assert board.get("/api/sessions", limit="many").status_code == 400
        assert board.get("/api/sessions/nope").status_code == 404


def test_a_real_session_its_timeline_changes_checkpoint_diff_and_restore(
        fake_messages_api: FakeMessagesAPI, repo: Path, home: Path) -> None:  # noqa: F811
    fake_messages_api.add(*SCRIPT)
    done = run_agent(fake_messages_api, home, repo, "add type hints")
    assert done.returncode == 0, done.stderr
    hinted = (repo / "calc.py").read_text()
    assert "a: int" in hinted
    with dashboard(home) as board:
        rows = board.json("/api/sessions")["sessions"]
        assert len(rows) == 1
        row = rows[0]
        assert row["workspace"] == str(repo.resolve())
        assert row["frontend"] == "cli"
        assert row["status"] == "completed"
        assert row["turns"] == 4
        assert row["input_tokens"] >= 1260
        assert row["cost_usd"] > 0
        detail = board.json(f"/api/sessions/{row['id']}")
        kinds = [event["kind"] for event in detail["events"]]
        assert "SessionEnded" in kinds
        assert "ToolCalled" in kinds
        assert "ToolFinished" in kinds
        assert "UsageUpdated" in kinds
        assert "TextDelta" in kinds
        called = next(e for e in detail["events"] if e["kind"] == "ToolCalled")
        assert called["data"]["summary"] == "view calc.py"
        assert called["data"]["input"]["path"] == "calc.py"
        changes = {change["path"]: change for change in detail["changes"]}
        assert set(changes) == {"calc.py", "test_calc.py"}
        assert "+def add(a: int, b: int) -> int:" in changes["calc.py"]["diff"]
        assert changes["calc.py"]["added"] == 1
        assert changes["calc.py"]["removed"] == 1
        assert changes["test_calc.py"]["diff"].startswith("--- /dev/null")
        later = board.json(f"/api/sessions/{row['id']}", after=detail["events"][-2]["seq"])
        assert [e["seq"] for e in later["events"]] == [detail["events"][-1]["seq"]]

        workspace = str(repo.resolve())
        listed = board.json("/api/checkpoints", workspace=workspace)
        assert listed["checkpoints"]
        assert listed["disk_bytes"] > 0
        checkpoint = listed["checkpoints"][-1]  # the one taken before the change was applied
        assert "calc.py" in checkpoint["files"]
        diff = board.json(f"/api/checkpoints/{checkpoint['id']}/diff", workspace=workspace)["diff"]
        assert "+def add(a: int, b: int) -> int:" in diff

        restored = board.post(f"/api/checkpoints/{checkpoint['id']}/restore", {"workspace": workspace})
        assert restored.status_code == 200, restored.text
        result = restored.json()
        assert "calc.py" in result["restored"]
        assert "test_calc.py" in result["deleted"]
        assert (repo / "calc.py").read_text() == "def add(a, b):\n    return a + b\n"
        assert not (repo / "test_calc.py").exists()
        undo = board.post(f"/api/checkpoints/{result['safety_checkpoint']}/restore", {"workspace": workspace})
        assert undo.status_code == 200, undo.text
        assert (repo / "calc.py").read_text() == hinted
        assert (repo / "test_calc.py").exists()

        missing = board.post("/api/checkpoints/ffffffff/restore", {"workspace": workspace})
        assert missing.status_code in (400, 404, 409)
        assert missing.json()["error"]
        assert board.get("/api/checkpoints", workspace="/not/known").status_code == 404


def test_the_stream_shows_a_session_from_another_process_as_it_runs(
        fake_messages_api: FakeMessagesAPI, repo: Path, home: Path) -> None:  # noqa: F811
    fake_messages_api.add(Reply.text("Nothing to change."))
    with dashboard(home) as board:
        received: list[tuple[str, dict]] = []  # type: ignore[type-arg]
        opened = threading.Event()

        def listen() -> None:
            with board.client.stream("GET", "/api/stream", timeout=httpx.Timeout(30, read=30)) as response:
                assert response.status_code == 200
                opened.set()
                kind = ""
                for line in response.iter_lines():
                    if line.startswith("event:"):
                        kind = line[6:].strip()
                    elif line.startswith("data:"):
                        received.append((kind, json.loads(line[5:].strip())))
                        if kind == "event" and received[-1][1]["kind"] == "SessionEnded":
                            return

        listener = threading.Thread(target=listen, daemon=True)
        listener.start()
        assert opened.wait(10)
        done = run_agent(fake_messages_api, home, repo, "look around")
        assert done.returncode == 0, done.stderr
        listener.join(15)
        assert not listener.is_alive(), f"the stream did not deliver the end; got {received}"
        sessions = [data for kind, data in received if kind == "session"]
        assert sessions
        assert sessions[0]["instruction"] == "look around"
        events = [data["kind"] for kind, data in received if kind == "event"]
        assert events[-1] == "SessionEnded"
        assert "TextDelta" in events


# -- plans, usage, health, memory, explorer -----------------------------------------------------------

def test_plans_list_and_a_plan_with_its_graph_and_executions(home: Path) -> None:
    store = store_of(home)
    plans = PlanStore(store)
    plan_id = plans.create("/ws/a", "make it typed", "Type the module", [
        StepRow("1", 0, None, "Read the code"),
        StepRow("2", 1, None, "Add hints", depends_on=["1"], verify="pytest -q"),
        StepRow("3", 2, None, "Write tests", depends_on=["1"]),
        StepRow("4", 3, None, "Run the suite", depends_on=["2", "3"]),
    ])
    plans.set_step_status(plan_id, ["1"], "done")
    execution = plans.start_execution(plan_id, "2", "coder", session_id="s-plan")
    execution.cost_usd, execution.verify_status, execution.verify_output = 0.25, "failed", "1 failed"
    plans.save_execution(execution)
    plans.log(plan_id, "2", "info", "running step 2")
    store.close()
    with dashboard(home) as board:
        listed = board.json("/api/plans")["plans"]
        assert [p["id"] for p in listed] == [plan_id]
        assert listed[0]["steps_total"] == 4
        assert listed[0]["steps_done"] == 1
        detail = board.json(f"/api/plans/{plan_id}")
        steps = {s["id"]: s for s in detail["steps"]}
        assert steps["4"]["depends_on"] == ["2", "3"]
        assert steps["1"]["status"] == "done"
        assert steps["2"]["cost_usd"] == pytest.approx(0.25)
        assert steps["2"]["executions"][0]["verify_output"] == "1 failed"
        assert detail["logs"][0]["message"] == "running step 2"
        assert board.get("/api/plans/nope").status_code == 404


def test_usage_by_day_model_and_workspace_with_the_cache_read_share(home: Path) -> None:
    store = store_of(home)
    for number, (workspace, model) in enumerate([("/ws/a", "m-1"), ("/ws/a", "m-2"), ("/ws/b", "m-1")]):
        store.start_session(f"u{number}", workspace, "task", "t", model)
        store.record_usage(f"u{number}", 1, model, 100, 10, 100, 200, 1.0 + number)
        store.end_session(f"u{number}", "ok")
    store.close()
    with dashboard(home) as board:
        usage = board.json("/api/usage", days=7)
        assert sum(day["cost_usd"] for day in usage["days"]) == pytest.approx(6.0)
        by_model = {m["model"]: m["cost_usd"] for m in usage["models"]}
        assert by_model == pytest.approx({"m-1": 4.0, "m-2": 2.0})
        by_workspace = {w["workspace"]: w["cost_usd"] for w in usage["workspaces"]}
        assert by_workspace == pytest.approx({"/ws/a": 3.0, "/ws/b": 3.0})
        assert usage["total"]["cache_read_share"] == pytest.approx(600 / (300 + 300 + 600))
        assert board.json("/api/usage", days=7, workspace="/ws/b")["total"]["cost_usd"] == pytest.approx(3.0)


def test_health_memory_and_explorer_of_a_workspace(fake_messages_api: FakeMessagesAPI, repo: Path,  # noqa: F811
                                                   home: Path) -> None:
    (repo / "AGENTS.md").write_text("Use type hints. token sk-ant-api03-" + "x" * 40 + "\n")
    (repo / "app.py").write_text("from calc import add\n\n\ndef total(xs):\n    return add(xs[0], xs[1])\n")
    fake_messages_api.add(Reply.text("Fine as it is."))
    assert run_agent(fake_messages_api, home, repo, "check").returncode == 0
    env = env_for(home)
    built = subprocess.run([sys.executable, "-m", "agentls", "context", "app.py", "--workspace", str(repo)],
                           capture_output=True, text=True, env=env, timeout=120, check=False)
    assert built.returncode == 0, built.stderr
    workspace = str(repo.resolve())
    with dashboard(home) as board:
        health = board.json("/api/health")
        assert health["api_key"] is False
        assert health["circuit"] == "closed"
        space = next(w for w in health["workspaces"] if w["path"] == workspace)
        assert space["index"]["built"] is True
        assert space["index"]["files"] >= 2
        memory = board.json("/api/memory", workspace=workspace)["files"]
        assert [f["path"] for f in memory] == ["AGENTS.md"]
        assert "Use type hints" in memory[0]["text"]
        assert "sk-ant-api03-xxxx" not in memory[0]["text"]
        symbols = board.json("/api/symbols", workspace=workspace, q="ad")["symbols"]
        assert {"name": "add", "kind": symbols[0]["kind"], "path": "calc.py", "line": 1} .items() <= symbols[0].items()
        found = board.json("/api/symbol", workspace=workspace, name="add")
        assert [d["path"] for d in found["definitions"]] == ["calc.py"]
        assert {"path": "app.py", "count": 2} in found["references"]
        repo_map = board.json("/api/repomap", workspace=workspace, path="app.py")["text"]
        assert "calc.py" in repo_map
        assert board.get("/api/memory", workspace="/etc").status_code == 404
        assert board.get("/api/memory").status_code == 400


def test_no_secret_reaches_the_page_whatever_stored_it(home: Path) -> None:
    key = "sk-ant-api03-" + "k" * 40
    store = store_of(home)
    store.start_session("new", "/ws/a", "task", f"deploy with {key}", "m")  # redacted as it is stored
    with store.transaction() as db:  # a store written before instructions were redacted
        db.execute("INSERT INTO sessions (id, workspace, kind, instruction, model, started) VALUES (?,?,?,?,?,?)",
                   ("old", "/ws/a", "task", f"use {key}", "m", time.time()))
    assert key not in store.fetch("SELECT instruction FROM sessions WHERE id = 'new'")[0][0]
    plan_id = PlanStore(store).create("/ws/a", f"ship it with {key}", f"The key is {key}",
                                      [StepRow("1", 0, None, f"export KEY={key}", verify=f"curl -H {key}")])
    store.close()
    with dashboard(home) as board:
        answers = [board.get("/api/sessions").text, board.get("/api/sessions/old").text,
                   board.get("/api/sessions/new").text, board.get("/api/plans").text,
                   board.get(f"/api/plans/{plan_id}").text]
        for answer in answers:
            assert key not in answer
        assert "sk-ant-***" in answers[1]


#: ``agentls run`` in a process that stays alive afterwards, as an editor's server does, until stdin closes.
_RUN_THEN_STAY = ("import sys\nfrom agentls.cli import main\ncode = main(sys.argv[1:])\n"
                  "sys.stdout.write(f'ended {code}\\n')\nsys.stdout.flush()\nsys.stdin.read()\n")


def test_health_shows_the_circuit_breaker_of_a_process_that_opened_it(fake_messages_api: FakeMessagesAPI,
                                                                      repo: Path, home: Path) -> None:  # noqa: F811
    fake_messages_api.add(Fault.error(529))
    env = env_for(home, {**fake_messages_api.env(), "AGENTLS_MODEL__RETRY__MAX_ATTEMPTS": "1",
                         "AGENTLS_MODEL__RETRY__BREAKER_THRESHOLD": "1",
                         "AGENTLS_MODEL__RETRY__BREAKER_RESET_S": "600"})
    agent = subprocess.Popen([sys.executable, "-c", _RUN_THEN_STAY, "run", "add type hints", "--workspace",
                              str(repo), "--yes"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert agent.stdout is not None
        assert agent.stdout.readline().strip() == "ended 1"  # the turn failed: overloaded, and the breaker opened
        with dashboard(home) as board:
            health = board.json("/api/health")
            assert health["circuit"] == "open"
            [circuit] = health["circuits"]
            assert (circuit["state"], circuit["frontend"], circuit["failures"], circuit["kind"]) == \
                ("open", "cli", 1, "overloaded")
            assert circuit["owner"].startswith(f"{agent.pid}:")
            assert 590 < circuit["retry_at"] - time.time() <= 600
            [error] = health["recent_errors"]
            assert error["session_id"] == circuit["session_id"]
            assert "overloaded" in error["text"].lower()
            session = board.json(f"/api/sessions/{circuit['session_id']}")
            assert "CircuitChanged" in [e["kind"] for e in session["events"]]
            agent.communicate(timeout=30)  # the process ends, and its breaker with it
            health = board.json("/api/health")
            assert (health["circuit"], health["circuits"]) == ("closed", [])
    finally:
        if agent.poll() is None:
            agent.kill()
            agent.wait()


def test_unknown_paths_and_static_files(board: Dashboard) -> None:
    assert board.get("/api/nothing").status_code == 404
    assert board.get("/../../etc/passwd").status_code == 404
    script = board.get("/app.js")
    assert script.status_code == 200
    assert "javascript" in script.headers["content-type"]
