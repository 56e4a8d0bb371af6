"""Plan mode and plan execution in process: the real SDK against the fake Messages API, real tools,
real checkpoints (a shadow git repository), real commands under the bubblewrap sandbox."""

from __future__ import annotations

import asyncio
import json
import shlex
import sys
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from agentls.agent.tools.run_command import sandbox_problem
from agentls.checkpoints import Checkpoints
from agentls.config import Settings
from agentls.plans.book import PlanBook
from agentls.plans.models import Plan, parse_steps
from agentls.plans.verify import coverage_of
from agentls.providers.anthropic import AnthropicProvider
from agentls.questions import Question
from agentls.runtime import Runtime
from agentls.store.db import Store
from agentls.store.plans import PlanStore
from agentls.workflows.plan_draft import draft_plan
from agentls.workflows.plan_run import PlanExecutor
from agentls.workflows.plan_steps import Decision, DiskApplier, RunResult
from tests.e2e.plan_scripts import edit, make_project, session_key
from tests.fakes.messages_api import FakeMessagesAPI, Fault, Reply, Text, ToolUse
from tests.fakes.messages_api.script import RecordedRequest

PYTHON = shlex.quote(sys.executable)


def settings_for(fake: FakeMessagesAPI, allow: Sequence[str] = ()) -> Settings:
    return Settings.model_validate({
        "model": {"api_key": "test-key", "base_url": fake.base_url,
                  "retry": {"base_delay_s": 0.01, "max_delay_s": 0.05, "max_attempts": 2}},
        "tools": {"run_command": {"enabled": bool(allow), "allow": list(allow)}},
    })


class Scripts:
    """A responder: each session (architect or step id) has a queue of scripts, one per attempt."""

    def __init__(self, scripts: dict[str, list[list[Reply | Fault]]]) -> None:
        self.scripts = scripts
        self.current: dict[str, list[Reply | Fault]] = {}

    def __call__(self, request: RecordedRequest) -> Reply | Fault:
        key = session_key(request)
        turn = sum(1 for m in request.body["messages"] if m["role"] == "assistant")
        if turn == 0:
            self.current[key] = self.scripts[key].pop(0)
        return self.current[key][turn]


@dataclass
class Env:
    fake: FakeMessagesAPI
    root: Path
    store: Store
    book: PlanBook
    checkpoints: Checkpoints
    data: Path

    def plan(self, steps: list[dict[str, Any]]) -> Plan:
        return self.book.create(str(self.root), "the task", "", parse_steps(steps))

    async def run(self, plan: Plan, scripts: dict[str, list[list[Reply | Fault]]], *, allow: Sequence[str] = (),
                  ask: Any = None, max_parallel: int = 2, steps: list[str] | None = None,
                  checkpoints: bool = True) -> RunResult:
        self.fake.respond_with(Scripts(scripts))
        settings = settings_for(self.fake, allow)
        if not checkpoints:
            settings = settings.model_copy(update={"checkpoints": settings.checkpoints.model_copy(
                update={"enabled": False})})
        provider = AnthropicProvider(settings.model)
        kwargs = {"ask": ask} if ask is not None else {}
        runtime = Runtime(self.root, settings, provider=provider, store=self.store, checkpoints=self.checkpoints)
        executor = PlanExecutor(runtime, book=self.book, applier=DiskApplier(), max_parallel=max_parallel, **kwargs)
        try:
            return await executor.run(plan, steps)
        finally:
            await provider.aclose()
            await runtime.aclose()

    def requests_of(self, key: str) -> list[int]:
        return [r.index for r in self.fake.message_requests if session_key(r) == key]


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "data"
    monkeypatch.setenv("AGENTLS_DATA_DIR", str(path))
    return path


@pytest_asyncio.fixture
async def env(fake_messages_api: FakeMessagesAPI, tmp_path: Path, data_dir: Path) -> AsyncIterator[Env]:
    root = make_project(tmp_path / "project")
    store = Store(data_dir / "agentls.db")
    checkpoints = Checkpoints(root, data_dir=data_dir, store=store)
    yield Env(fake_messages_api, root, store, PlanBook(PlanStore(store), data_dir / "plans"), checkpoints, data_dir)
    await asyncio.to_thread(checkpoints.close)
    store.close()


def tree(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): p.read_text() for p in sorted(root.rglob("*"))
            if p.is_file() and ".git" not in p.relative_to(root).parts and "__pycache__" not in p.parts
            and ".pytest_cache" not in p.parts}


def results_of(request: RecordedRequest) -> list[dict[str, Any]]:
    return [b for b in request.body["messages"][-1]["content"] if isinstance(b, dict) and b["type"] == "tool_result"]


def create(path: str, text: str) -> list[Reply | Fault]:
    return [Reply([edit("create", path=path, file_text=text)]), Reply.text(f"created {path}")]


# -- plan mode ------------------------------------------------------------------------------------


async def test_plan_mode_writes_nothing_and_tells_the_model(env: Env) -> None:
    steps = [{"id": "1", "title": "Add sub", "description": "in calc.py", "files": ["calc.py"]}]
    env.fake.add(
        Reply([Text("I'll just do it."), edit("create", path="new.py", file_text="x = 1\n"),
               edit("str_replace", path="calc.py", old_str="a + b", new_str="a - b")]),
        Reply([ToolUse("run_command", {"command": "touch x"})]),
        Reply([ToolUse("submit_plan", {"summary": "s", "steps": [{"id": "1", "title": "a", "depends_on": ["7"]}]})]),
        Reply([ToolUse("submit_plan", {"summary": "One step.", "steps": steps})]),
        Reply.text("Planned."),
    )
    settings = settings_for(env.fake, allow=["*"])  # even with commands allowed
    before = tree(env.root)
    provider = AnthropicProvider(settings.model)
    try:
        drafted = await draft_plan(Runtime(env.root, settings, provider=provider, store=env.store), "add sub")
    finally:
        await provider.aclose()
    assert tree(env.root) == before
    requests = env.fake.message_requests
    assert [t["name"] for t in requests[0].body["tools"]] == ["str_replace_based_edit_tool", "search", "list_files",
                                                               "submit_plan"]
    refused = results_of(requests[1])
    assert [r["is_error"] for r in refused] == [True, True]
    assert all("read-only (plan mode)" in json.dumps(r["content"]) for r in refused)
    assert results_of(requests[2])[0]["is_error"]  # run_command is not a tool of the architect
    invalid = results_of(requests[3])[0]
    assert invalid["is_error"]
    assert "depends on '7'" in json.dumps(invalid["content"])
    assert [s.id for s in drafted.steps] == ["1"]
    assert drafted.summary == "One step."
    assert "You are agentls in plan mode" in json.dumps(requests[0].body["system"])


async def test_no_plan_submitted_is_a_clear_error(env: Env) -> None:
    env.fake.add(Reply.text("Step 1: do things. Step 2: more things."))
    settings = settings_for(env.fake)
    provider = AnthropicProvider(settings.model)
    try:
        with pytest.raises(Exception, match="finished without submitting a plan: Step 1: do things"):
            await draft_plan(Runtime(env.root, settings, provider=provider, store=env.store), "x")
    finally:
        await provider.aclose()


# -- ordering and concurrency ---------------------------------------------------------------------


THREE = [
    {"id": "a", "title": "A", "files": ["a.py"]},
    {"id": "b", "title": "B", "files": ["b.py"]},
    {"id": "c", "title": "C", "files": ["c.py"], "depends_on": ["a", "b"]},
]


def slow_create(path: str, text: str) -> list[Reply | Fault]:
    return [Fault.delay(4.0, then=Reply([edit("create", path=path, file_text=text)])), Reply.text(f"created {path}")]


async def test_independent_steps_run_at_once_and_dependants_wait(env: Env) -> None:
    plan = env.plan(THREE)
    result = await env.run(plan, {"a": [slow_create("a.py", "A = 1\n")], "b": [create("b.py", "B = 1\n")],
                                  "c": [create("c.py", "C = 1\n")]})
    assert result.done == ["b", "a", "c"]
    a, b, c = env.requests_of("a"), env.requests_of("b"), env.requests_of("c")
    # B ran while A was waiting for its first reply; C started only after both had finished.
    assert b[0] < a[1]
    assert b[-1] < a[1]
    assert c[0] > max(a + b)
    assert tree(env.root)["c.py"] == "C = 1\n"
    assert env.book.load(plan.id).status == "done"


async def test_with_one_at_a_time_or_shared_files_steps_do_not_overlap(env: Env) -> None:
    plan = env.plan(THREE)
    await env.run(plan, {"a": [slow_create("a.py", "A = 1\n")], "b": [create("b.py", "B = 1\n")],
                         "c": [create("c.py", "C = 1\n")]}, max_parallel=1)
    assert max(env.requests_of("a")) < min(env.requests_of("b"))

    shared = env.plan([{"id": "a", "title": "A", "files": ["s.py", "x.py"]},
                       {"id": "b", "title": "B", "files": ["y.py", "s.py"]},
                       {"id": "c", "title": "C (no files named: runs alone)"}])
    start = len(env.fake.message_requests)
    await env.run(shared, {"a": [slow_create("x.py", "X = 1\n")], "b": [create("y.py", "Y = 1\n")],
                           "c": [create("z.py", "Z = 1\n")]})
    later = [r for r in env.fake.message_requests if r.index >= start]
    assert [session_key(r) for r in later] == ["a", "a", "b", "b", "c", "c"]


# -- failures -------------------------------------------------------------------------------------


async def test_a_failing_verification_stops_its_dependants(env: Env) -> None:
    plan = env.plan([
        {"id": "1", "title": "Write the flag", "files": ["flag.txt"], "verify": f"{PYTHON} check.py"},
        {"id": "2", "title": "Depends on 1", "files": ["two.txt"], "depends_on": ["1"]},
        {"id": "3", "title": "Independent", "files": ["three.txt"]},
    ])
    (env.root / "check.py").write_text("import sys\nsys.exit(0 if open('flag.txt').read() == 'yes' else 3)\n")
    # 3 starts beside 1 (disjoint files) and finishes even though 1's failure stops the plan.
    result = await env.run(plan, {"1": [create("flag.txt", "no")], "3": [create("three.txt", "3")]},
                           allow=[f"{PYTHON} check.py"], max_parallel=2)
    assert result.failed == ["1"]
    assert result.blocked == ["2"]
    assert result.done == ["3"]
    loaded = env.book.load(plan.id)
    assert [s.status for s in loaded.flat()] == ["failed", "blocked", "done"]
    assert loaded.status == "failed"
    run = env.book.latest_executions(plan.id)["1"]
    assert run.verify_status == "failed"
    assert "exit code 3" in run.error
    assert "[exit code 3]" in run.verify_output
    assert env.requests_of("2") == []
    assert "two.txt" not in tree(env.root)


async def test_retry_after_a_failure_starts_from_the_files_before_the_step(env: Env) -> None:
    plan = env.plan([
        {"id": "1", "title": "Write the flag", "files": ["flag.txt"], "verify": f"{PYTHON} check.py"},
        {"id": "2", "title": "Then this", "files": ["two.txt"], "depends_on": ["1"]},
    ])
    (env.root / "check.py").write_text("import sys\nsys.exit(0 if open('flag.txt').read() == 'yes' else 3)\n")
    asked: list[tuple[str, str, str]] = []

    async def ask(question: Question) -> str:
        asked.append((question.subject["stepId"], question.detail, question.default))
        return "retry"

    # The second attempt uses `create`, which fails if the first attempt's file were still there.
    result = await env.run(plan, {"1": [create("flag.txt", "no"), create("flag.txt", "yes")],
                                  "2": [create("two.txt", "2")]}, allow=[f"{PYTHON} check.py"], ask=ask)
    assert asked == [("1", "verification failed (exit code 3): " + f"{PYTHON} check.py", "stop")]
    assert result.done == ["1", "2"]
    assert tree(env.root)["flag.txt"] == "yes"
    runs = env.book.plans.executions(plan.id, "1")
    assert [(r.attempt, r.status) for r in runs] == [(1, "failed"), (2, "done")]


async def test_skip_lets_dependants_run(env: Env) -> None:
    plan = env.plan([{"id": "1", "title": "Fails", "files": ["one.txt"]},
                     {"id": "2", "title": "After", "files": ["two.txt"], "depends_on": ["1"]}])

    async def ask(question: Question) -> str:
        return "skip"

    refusal = [Reply.text("no", stop_reason="refusal")]
    result = await env.run(plan, {"1": [refusal], "2": [create("two.txt", "2")]}, ask=ask)
    assert result.skipped == ["1"]
    assert result.done == ["2"]
    assert env.book.load(plan.id).status == "done"


# -- rollback ---------------------------------------------------------------------------------------


async def test_rollback_to_step_2_of_4_restores_exactly_the_files_before_step_2(env: Env) -> None:
    plan = env.plan([
        {"id": "1", "title": "one", "files": ["a.txt"]},
        {"id": "2", "title": "two", "files": ["a.txt", "b.txt"], "depends_on": ["1"]},
        {"id": "3", "title": "three", "files": ["README.md"], "depends_on": ["2"]},
        {"id": "4", "title": "four", "files": ["deep/d.txt"], "depends_on": ["3"]},
    ])
    scripts: dict[str, list[list[Reply | Fault]]] = {
        "1": [create("a.txt", "a1\n")],
        "2": [[Reply([edit("str_replace", path="a.txt", old_str="a1", new_str="a2")]),
               Reply([edit("create", path="b.txt", file_text="b\n")]), Reply.text("done")]],
        "3": [[Reply([edit("str_replace", path="README.md", old_str="calc", new_str="calculator")]),
               Reply.text("done")]],
        "4": [create("deep/d.txt", "d\n")],
    }
    before_step_2 = {**tree(env.root), "a.txt": "a1\n"}
    result = await env.run(plan, scripts)
    assert result.done == ["1", "2", "3", "4"]
    after_all = tree(env.root)
    assert after_all["a.txt"] == "a2\n"
    assert after_all["README.md"] == "calculator\n"
    assert "deep/d.txt" in after_all

    from agentls.workflows.plan_steps import rollback

    async def restore(checkpoint_id: str) -> Any:
        return await asyncio.to_thread(env.checkpoints.restore, checkpoint_id)

    done = await rollback(env.book, env.book.load(plan.id), "2", restore)
    assert tree(env.root) == before_step_2
    assert not (env.root / "deep").exists() or not any((env.root / "deep").iterdir())
    assert done["steps"] == ["2", "3", "4"]
    loaded = env.book.load(plan.id)
    assert [s.status for s in loaded.flat()] == ["done", "pending", "pending", "pending"]
    # The rollback is itself undoable.
    await asyncio.to_thread(env.checkpoints.restore, done["restore"].safety_checkpoint)
    assert tree(env.root) == after_all
    with pytest.raises(Exception, match="step 3 has not run"):
        await rollback(env.book, loaded, "3", restore)


# -- the tester role --------------------------------------------------------------------------------


PASSING = "from calc import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n"
FAILING = "from calc import add\n\n\ndef test_add():\n    assert add(2, 3) == 6\n"


@pytest.mark.parametrize(("test_text", "outcome"), [(PASSING, "passed"), (FAILING, "failed")])
async def test_the_tester_runs_real_pytest_in_the_sandbox(env: Env, test_text: str, outcome: str) -> None:
    problem = await sandbox_problem()
    if problem is not None:
        pytest.skip(problem)
    pytest_cmd = f"{PYTHON} -m pytest -q -p no:cacheprovider tests"
    plan = env.plan([{"id": "1", "title": "Test add()", "role": "tester", "files": ["tests/test_calc.py"],
                      "verify": pytest_cmd}])
    (env.root / "tests").mkdir()
    (env.root / "conftest.py").write_text("")
    script: list[Reply | Fault] = [
        Reply([edit("create", path="tests/test_calc.py", file_text=test_text)]),
        Reply([ToolUse("run_command", {"command": pytest_cmd})]),
        Reply.text("Added a test for add()."),
    ]
    result = await env.run(env.book.load(plan.id), {"1": [script]}, allow=[f"{PYTHON} -m pytest*"])
    requests = [r for r in env.fake.message_requests if session_key(r) == "1"]
    assert "You are agentls in the tester role" in json.dumps(requests[0].body["system"])
    ran = json.dumps(results_of(requests[2])[0]["content"])
    assert ("1 passed" in ran) == (outcome == "passed")
    assert ("1 failed" in ran) == (outcome == "failed")
    run = env.book.latest_executions(plan.id)["1"]
    assert run.verify_status == outcome
    assert run.role == "tester"
    assert run.files == ["tests/test_calc.py"]  # written before the command ran, and recorded
    assert ("1 passed" if outcome == "passed" else "1 failed") in run.verify_output
    assert (result.done if outcome == "passed" else result.failed) == ["1"]


def test_coverage_totals_are_read_from_test_output() -> None:
    pytest_cov = "Name    Stmts   Miss  Cover\n---\ncalc.py     4      1    75%\nTOTAL       4      1    75%\n"
    assert coverage_of(pytest_cov) == 75.0
    assert coverage_of("ok  \texample.com/x\t0.01s\tcoverage: 81.2% of statements\n") == 81.2
    assert coverage_of("All files |   92.5 |   80 |\n") == 92.5
    assert coverage_of("3 passed in 0.1s") is None


async def _restore_with(env: Env) -> Any:
    async def restore(checkpoint_id: str) -> Any:
        return await asyncio.to_thread(env.checkpoints.restore, checkpoint_id)

    return restore


async def test_rollback_after_concurrent_steps_resets_every_step_whose_edits_it_undoes(env: Env) -> None:
    from agentls.workflows.plan_steps import rollback

    plan = env.plan([{"id": "a", "title": "A", "files": ["a.py"]}, {"id": "b", "title": "B", "files": ["b.py"]}])
    before = tree(env.root)
    # a starts first but writes a.py only after b's checkpoint was taken; b finishes first.
    result = await env.run(plan, {"a": [slow_create("a.py", "A = 1\n")], "b": [create("b.py", "B = 1\n")]})
    assert result.done == ["b", "a"]
    done = await rollback(env.book, env.book.load(plan.id), "b", await _restore_with(env))
    loaded = env.book.load(plan.id)
    on_disk = tree(env.root)
    assert on_disk == before  # b's checkpoint predates a's edit
    # Every step's state agrees with the files: a step whose edit is gone is not "done".
    assert {s.id: s.status for s in loaded.flat()} == {"a": "pending", "b": "pending"}
    assert done["steps"] == ["a", "b"]
    assert all(r.rolled_back for r in env.book.plans.executions(plan.id))


async def test_rollback_restores_the_checkpoint_from_before_the_steps_first_attempt(env: Env) -> None:
    from agentls.workflows.plan_steps import rollback

    plan = env.plan([{"id": "1", "title": "Write the flag", "files": ["flag.txt"], "verify": f"{PYTHON} check.py"}])
    (env.root / "check.py").write_text("import sys\nsys.exit(0 if open('flag.txt').read() == 'yes' else 3)\n")
    before = tree(env.root)
    allow = [f"{PYTHON} check.py"]
    first = await env.run(plan, {"1": [create("flag.txt", "no")]}, allow=allow)  # fails; stops (no retry)
    assert first.failed == ["1"]
    assert tree(env.root)["flag.txt"] == "no"  # the failed attempt's partial write stays
    fix = [Reply([edit("str_replace", path="flag.txt", old_str="no", new_str="yes")]), Reply.text("fixed")]
    second = await env.run(env.book.load(plan.id), {"1": [fix]}, allow=allow, steps=["1"])
    assert second.done == ["1"]
    done = await rollback(env.book, env.book.load(plan.id), "1", await _restore_with(env))
    assert tree(env.root) == before  # not the re-run's checkpoint, which holds the first attempt's "no"
    assert [s.status for s in env.book.load(plan.id).flat()] == ["pending"]
    runs = env.book.plans.executions(plan.id, "1")
    assert done["checkpoint"] == runs[0].checkpoint_before
    assert all(r.rolled_back for r in runs)


async def test_an_error_in_the_run_leaves_no_step_running_and_the_plan_not_running(env: Env) -> None:
    plan = env.plan([{"id": "1", "title": "Fails", "files": ["one.txt"]},
                     {"id": "2", "title": "Slow, independent", "files": ["two.txt"]}])

    async def ask(question: Question) -> str:
        return "rollback"  # with checkpoints off there is nothing to roll back to: PlanError

    refusal = [Reply.text("no", stop_reason="refusal")]
    with pytest.raises(Exception, match="no checkpoint"):
        await env.run(plan, {"1": [refusal], "2": [slow_create("two.txt", "2")]}, ask=ask, checkpoints=False)
    assert [t for t in asyncio.all_tasks() if t is not asyncio.current_task() and not t.done()
            and "_run_step" in repr(t.get_coro())] == []
    loaded = env.book.load(plan.id)
    assert loaded.status not in ("running", "draft")
    assert "running" not in {s.status for s in loaded.flat()}
    assert any("no checkpoint" in row.message for row in env.book.plans.logs(plan.id))


@pytest.mark.parametrize("decision", ["stop", "edit"])
async def test_stop_or_edit_after_a_failure_starts_no_other_step(env: Env, decision: Decision) -> None:
    plan = env.plan([{"id": "1", "title": "Fails", "files": ["one.txt"]},
                     {"id": "2", "title": "After 1", "files": ["two.txt"], "depends_on": ["1"]},
                     {"id": "3", "title": "Independent, waiting", "files": ["three.txt"]}])

    async def ask(question: Question) -> str:
        return decision

    refusal = [Reply.text("no", stop_reason="refusal")]
    result = await env.run(plan, {"1": [refusal], "3": [create("three.txt", "3")]}, ask=ask, max_parallel=1)
    assert env.requests_of("3") == []
    assert result.failed == ["1"]
    assert result.done == []
    loaded = env.book.load(plan.id)
    assert [s.status for s in loaded.flat()] == ["failed", "blocked", "pending"]
    assert loaded.status == "failed"
    assert "three.txt" not in tree(env.root)


async def test_a_retry_unblocks_dependants_even_if_another_step_finished_while_asking(env: Env) -> None:
    plan = env.plan([{"id": "1", "title": "Fails once", "files": ["one.txt"]},
                     {"id": "2", "title": "Independent", "files": ["two.txt"]},
                     {"id": "3", "title": "After 1", "files": ["three.txt"], "depends_on": ["1"]}])

    async def ask(question: Question) -> str:
        while plan.step("2").status != "done":  # noqa: ASYNC110 - the question is open while step 2 finishes
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.1)
        return "retry"

    refusal = [Reply.text("no", stop_reason="refusal")]
    result = await env.run(plan, {"1": [refusal, create("one.txt", "1")], "2": [create("two.txt", "2")],
                                  "3": [create("three.txt", "3")]}, ask=ask)
    assert result.blocked == []
    assert result.done == ["2", "1", "3"]
    assert [s.status for s in env.book.load(plan.id).flat()] == ["done", "done", "done"]
    assert tree(env.root)["three.txt"] == "3"
