"""Plans as data: validation, dependency order with groups, the markdown document and its edits, the store."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from agentls.plans import render
from agentls.plans.book import PlanBook
from agentls.plans.models import Plan, PlanError, parse_steps
from agentls.plans.roles import ROLE_NAMES, load_role
from agentls.store.db import Store
from agentls.store.plans import PlanStore, owner_alive, owner_token
from agentls.workflows.plan_steps import select_steps

STEPS = [
    {"id": "1", "title": "Model", "files": ["app/model.py"]},
    {"id": "2", "title": "API", "files": ["./app/api.py"], "depends_on": ["1"], "verify": "pytest -q tests/api"},
    {"id": "3", "title": "Docs", "files": ["docs/api.md"]},
    {"id": "4", "title": "Tests", "depends_on": ["2", "3"], "role": "tester",
     "substeps": [{"id": "4.1", "title": "Unit", "files": ["tests/test_model.py"]},
                  {"id": "4.2", "title": "API tests", "files": ["tests/test_api.py"], "depends_on": ["4.1"]}]},
]


def plan(steps: list[dict[str, object]] | None = None) -> Plan:
    return Plan("p1", "/w", "task", steps=parse_steps(steps or STEPS))


def test_steps_are_validated_and_normalised() -> None:
    steps = parse_steps(STEPS)
    assert steps[1].files == ["app/api.py"]
    assert steps[1].verify == "pytest -q tests/api"
    assert steps[3].role == "tester"
    assert steps[0].role == "coder"
    assert [s.id for s in steps[3].substeps] == ["4.1", "4.2"]
    numbered = parse_steps([{"title": "a"}, {"title": "b", "substeps": [{"title": "c"}]}])
    assert [s.id for s in numbered] == ["1", "2"]
    assert numbered[1].substeps[0].id == "2.1"


@pytest.mark.parametrize(("steps", "message"), [
    ([], "at least one step"),
    ([{"id": "1"}], "title is required"),
    ([{"id": "1", "title": "a"}, {"id": "1", "title": "b"}], "two steps have the id '1'"),
    ([{"id": "1", "title": "a", "depends_on": ["9"]}], "depends on '9', which is not a step id"),
    ([{"id": "1", "title": "a", "depends_on": ["2"]}, {"id": "2", "title": "b", "depends_on": ["1"]}], "cycle"),
    ([{"id": "1", "title": "a", "files": ["../outside.py"]}], "not a path inside the workspace"),
    ([{"id": "1", "title": "a", "files": ["/etc/passwd"]}], "not a path inside the workspace"),
    ([{"id": "1", "title": "a", "role": "manager"}], "role must be one of"),
    ([{"id": "1", "title": "a", "substeps": [{"id": "1.1", "title": "b", "depends_on": ["1"]}]}], "own group"),
])
def test_invalid_plans_are_refused_with_a_reason(steps: list[dict[str, object]], message: str) -> None:
    with pytest.raises(PlanError, match=message):
        parse_steps(steps)


def test_order_respects_dependencies_and_groups() -> None:
    p = plan()
    order = p.order()
    assert order.index("1") < order.index("2") < order.index("4.1") < order.index("4.2") < order.index("4")
    assert order.index("3") < order.index("4.1")  # sub-steps inherit their group's dependencies
    needs = p.requirements()
    assert needs["4"] == {"2", "3", "4.1", "4.2"}
    assert needs["4.1"] == {"2", "3"}
    assert p.dependants("2") == {"4", "4.1", "4.2"}
    assert p.dependants("4.1") == {"4", "4.2"}


def test_selecting_steps_to_run() -> None:
    p = plan()
    assert select_steps(p, None) == p.order()
    p.step("1").status = "done"
    p.step("2").status = "failed"
    assert "2" not in select_steps(p, ["3"])
    with pytest.raises(PlanError, match=r"step 4\.1 needs step 2, which is failed: retry it"):
        select_steps(p, None)
    assert select_steps(p, ["2", "3", "4"])[0] == "2"  # naming a failed step runs it again
    with pytest.raises(PlanError, match=r"step 4\.1 needs step 3, which is pending: run it too"):
        select_steps(p, ["2", "4"])
    p.step("2").status = "interrupted"
    with pytest.raises(PlanError, match="which is interrupted"):
        select_steps(p, ["3", "4"])


def test_the_document_round_trips_and_reads_back_edits() -> None:
    steps = parse_steps(STEPS)
    steps[1].description = "Expose the model.\n\nTwo paragraphs, with a - files: look-alike inside."
    text = render.render("p1", "Add an API\nwith details", "Four steps.", steps)
    assert "## 2. API" in text
    assert "### 4.1 Unit" in text
    assert "- verify: `pytest -q tests/api`" in text
    assert render.parse(text) == steps
    edited = text.replace("- verify: `pytest -q tests/api`", "- verify: none").replace(
        "## 3. Docs", "## 3. Write the docs").replace("- depends on: 2, 3", "- depends on: 2")
    again = render.parse(edited)
    assert again[1].verify is None
    assert again[2].title == "Write the docs"
    assert again[3].depends_on == ["2"]
    with pytest.raises(PlanError, match="depends on '7'"):
        render.parse(text.replace("- depends on: 1", "- depends on: 7"))
    with pytest.raises(PlanError, match="no steps"):
        render.parse("# just a title\n")


def test_roles_are_data() -> None:
    for name in ROLE_NAMES:
        role = load_role(name)
        assert "{workspace}" not in role.system(Path("/w"), [])
        assert "/w" in role.system(Path("/w"), [])
    assert load_role("architect").read_only
    assert "submit_plan" in load_role("architect").tools
    assert "run_command" not in load_role("architect").tools
    assert not load_role("tester").read_only


def test_plans_persist_and_edits_keep_finished_steps(tmp_path: Path) -> None:
    store = Store(tmp_path / "db.sqlite")
    book = PlanBook(PlanStore(store), tmp_path / "plans")
    created = book.create("/w", "task", "summary", parse_steps(STEPS))
    loaded = book.load(created.id)
    assert [s.id for s in loaded.flat()] == ["1", "2", "3", "4", "4.1", "4.2"]
    assert book.document_path(created.id).read_text() == book.render(loaded)
    book.set_step(loaded, loaded.step("1"), "done")
    book.set_step(loaded, loaded.step("3"), "done")
    text = book.document_path(created.id).read_text().replace("## 3. Docs", "## 3. Docs, reviewed")
    changed = book.sync_document(loaded, text)
    assert changed == ["3"]
    reloaded = book.load(created.id)
    assert reloaded.step("1").status == "done"  # unchanged work stays finished
    assert reloaded.step("3").status == "pending"
    assert reloaded.step("3").title == "Docs, reviewed"
    assert book.sync_document(reloaded) is None  # the document was rewritten: no edit pending
    store.close()
    reopened = Store(tmp_path / "db.sqlite")
    assert PlanBook(PlanStore(reopened), tmp_path / "plans").load(created.id).step("3").title == "Docs, reviewed"
    reopened.close()


def test_a_step_whose_process_ended_is_reported_interrupted(tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite"
    store = Store(db)
    plans = PlanStore(store)
    book = PlanBook(plans, tmp_path / "plans")
    created = book.create("/w", "task", "", parse_steps(STEPS))
    # Another process starts step 1 and dies without finishing it.
    script = textwrap.dedent(f"""
        import os
        from pathlib import Path
        from agentls.store.db import Store
        from agentls.store.plans import PlanStore
        PlanStore(Store(Path({str(db)!r}))).start_execution({created.id!r}, "1", "coder")
        os._exit(0)
    """)
    subprocess.run([sys.executable, "-c", script], check=True)
    assert plans.executions(created.id)[0].status == "running"
    assert plans.reap_interrupted("/other") == []  # another workspace's plans are not touched
    assert plans.reap_interrupted("/w") == [(created.id, "1")]
    loaded = book.load(created.id)
    assert loaded.step("1").status == "interrupted"
    assert loaded.status == "interrupted"
    assert plans.executions(created.id)[0].status == "interrupted"
    assert "1" not in select_steps(loaded, ["3"])
    # This process's own running executions are alive.
    mine = plans.start_execution(created.id, "3", "coder")
    assert mine.owner == owner_token()
    assert owner_alive(mine.owner)
    assert plans.reap_interrupted() == []
    store.close()
