"""The VS Code review UI end to end, in a real VS Code (code-server + Playwright, as test_vscode.py).

- A 10-line insertion shows as 10 real lines: the proposal opens in a diff editor whose right side is
  the proposed text (a virtual document), with "Accept (1/1) | Reject" above the change; accepting it
  puts the 10 lines in the buffer and closes the diff.
- The "Pending Changes" view lists a task's change to two files (one of them new, neither open);
  the new file's diff shows the whole file as added; accepting from the view applies both.
- A server command that cannot run is reported at activation, with the README's install command,
  in a notification and in the agentls output channel.

The driver is ``clients/vscode/e2e/review.mjs``; screenshots land in tests/artifacts/vscode/.
"""

from __future__ import annotations

import re
from pathlib import Path

from tests.e2e import test_vscode
from tests.e2e.test_inline_edits import SOURCE, edit, type_hints_script
from tests.e2e.test_vscode import ARTIFACTS, CLIENT, code_server, png_size, run_driver
from tests.fakes.messages_api import FakeMessagesAPI, Fault, Reply

pytestmark = test_vscode.pytestmark  # skipped without the setup, as test_vscode.py
short_tmp = test_vscode.short_tmp

DRIVER = CLIENT / "e2e" / "review.mjs"
TEN = "".join(f"LIMIT_{i} = {i}\n" for i in range(10))
TEST_FILE = "from calc import mul\n\n\ndef test_mul():\n    assert mul(2, 3) == 6\n"


def _check(result: dict, server: object) -> dict:
    assert result["ok"], (f"{result.get('error')}\nnotifications: {result.get('notifications')}\n"
                          f"steps: {result['steps']}\n{result['output']}\n{server.diagnostics()}")  # type: ignore[attr-defined]
    data: dict = result["data"]
    return data


def test_ten_line_insertion_shows_as_ten_real_lines(short_tmp: Path, fake_messages_api: FakeMessagesAPI) -> None:
    fake_messages_api.add(
        Fault.error(529, retry_after=2.0),  # overloaded first: the status bar shows the retry
        Reply([edit("str_replace", path="calc.py", old_str="def sub(a, b):", new_str=TEN + "def sub(a, b):")]),
        Reply.text("Added ten constants."),
    )
    workspace = short_tmp / "ws"
    workspace.mkdir()
    source = workspace / "calc.py"
    source.write_text(SOURCE)
    out = short_tmp / "out"
    with code_server(short_tmp, workspace, fake_messages_api, out=out,
                     artifacts={"result.json": "review-insert-result.json", "vscode-review.png": "vscode-review.png",
                                "failure.png": "review-insert-failure.png"},
                     log_name="code-server-review-insert.log") as server:
        result = run_driver(DRIVER, server.url, workspace, out, "--scenario", "insert", "--file", str(source),
                            "--instruction", "add ten constants")
    data = _check(result, server)
    # While the API was overloaded, the status bar item said so (and only it: no second progress item).
    retry = r"Agent: turn 1 · retrying in [12] s: the API is overloaded(?: · .*)?"
    assert re.fullmatch(retry, data["retry"]), data["retry"]
    assert sum("retrying in" in item for item in data["progress_items"]) == 1, data["progress_items"]
    # The session's end, once (agentls/sessionStatus), with where to review.
    assert data["end"] == "agentls: 1 change proposed in 1 file: review in Pending Changes"
    proposed = data["proposed"]
    # The right side is the proposed text, line for line; exactly the 10 new lines are marked inserted.
    assert [line["text"] for line in proposed][:17] == (SOURCE.replace("def sub", TEN + "def sub")).split("\n")[:17]
    inserted = [line["text"] for line in proposed if line["inserted"]]
    assert inserted == TEN.rstrip("\n").split("\n")
    # Each inserted line is its own line of the editor (one above the other, not one long line).
    tops = [line["top"] for line in proposed if line["inserted"]]
    assert len(set(tops)) == 10
    assert data["tab"] == "calc.py ↔ the agent's proposal"
    assert data["lenses"] == ["Accept (1/1) (Ctrl+Alt+Y) | Reject (Ctrl+Alt+N)"]
    assert data["original_lenses"] == []
    # Accepted from the diff: the buffer holds the lines, the diff closed, the disk is untouched (unsaved).
    assert data["after_accept"]["tab"] == "calc.py"
    assert data["after_accept"]["lines"][:16] == SOURCE.replace("def sub", TEN + "def sub").split("\n")[:16]
    assert source.read_text() == SOURCE
    shot = ARTIFACTS / "vscode-review.png"
    assert png_size(shot) == (1280, 800)


def test_pending_changes_view_lists_a_two_file_change_and_accepts_it(short_tmp: Path,
                                                                     fake_messages_api: FakeMessagesAPI) -> None:
    fake_messages_api.add(
        Reply([edit("str_replace", path="calc.py", old_str="    return a - b\n",
                    new_str="    return a - b\n\n\ndef mul(a, b):\n    return a * b\n")]),
        Reply([edit("create", path="test_calc.py", file_text=TEST_FILE)]),
        Reply.text("Added mul and its test."),
    )
    workspace = short_tmp / "ws"
    workspace.mkdir()
    (workspace / "calc.py").write_text(SOURCE)
    out = short_tmp / "out"
    with code_server(short_tmp, workspace, fake_messages_api, out=out,
                     artifacts={"result.json": "review-pending-result.json", "vscode-pending.png": "vscode-pending.png",
                                "vscode-new-file.png": "vscode-new-file.png",
                                "failure.png": "review-pending-failure.png"},
                     log_name="code-server-review-pending.log",
                     # The dark theme here (the light one in the other tests): both read well.
                     settings={"workbench.colorTheme": "Default Dark Modern"}) as server:
        result = run_driver(DRIVER, server.url, workspace, out, "--scenario", "pending",
                            "--instruction", "add mul and a test")
        on_disk = {p.name: p.read_text() for p in workspace.iterdir() if p.is_file()}
    data = _check(result, server)
    assert data["end"] == "agentls: 2 changes proposed in 2 files: review in Pending Changes"
    assert data["view_description"] == "2 changes in 2 files"
    rows = [(r["level"], r["label"], r["description"]) for r in data["rows"]]
    assert rows[0][:2] == (1, "calc.py"), rows
    assert rows[1][:2] == (2, "change 1 of 1, line 7"), rows
    assert rows[1][2] == "+4 −0", rows
    assert rows[2][:2] == (1, "test_calc.py"), rows
    assert "new file" in rows[2][2], rows
    assert rows[3][:2] == (2, "change 1 of 1, line 1"), rows
    assert rows[3][2] == "+5 −0", rows
    # The new file's diff: every line of it added, against an empty left side.
    assert data["new_file"]["tab"] == "test_calc.py (new file proposed by the agent)"
    added = [line["text"] for line in data["new_file"]["proposed"] if line["inserted"]]
    assert added == TEST_FILE.split("\n")  # the empty last line too: all of it is new
    # Accepted from the view (one file's action, the other's hunk), then saved: both on disk.
    assert data["after_accept"] == []
    assert on_disk["calc.py"] == SOURCE + "\n\ndef mul(a, b):\n    return a * b\n"
    assert on_disk["test_calc.py"] == TEST_FILE


def test_a_server_command_that_cannot_run_is_reported(short_tmp: Path, fake_messages_api: FakeMessagesAPI) -> None:
    workspace = short_tmp / "ws"
    workspace.mkdir()
    (workspace / "calc.py").write_text(SOURCE)
    broken = short_tmp / "venv-bin-agentls"
    broken.write_text("#!/bin/sh\nexec agentls \"$@\"\n")
    broken.chmod(0o644)  # installed, but not executable
    out = short_tmp / "out"
    with code_server(short_tmp, workspace, fake_messages_api, out=out, server_command=[str(broken), "serve"],
                     artifacts={"result.json": "review-broken-result.json", "vscode-broken.png": "vscode-broken.png",
                                "failure.png": "review-broken-failure.png"},
                     log_name="code-server-review-broken.log") as server:
        result = run_driver(DRIVER, server.url, workspace, out, "--scenario", "broken")
    data = _check(result, server)
    for text in (data["notification"], data["output"]):
        assert f"{broken}" in text
        assert "is not executable" in text
        assert "python3 -m pip install ." in text


def test_typing_over_a_pending_change_shows_a_conflict_and_takes_the_agents_version(
        short_tmp: Path, fake_messages_api: FakeMessagesAPI) -> None:
    fake_messages_api.add(*type_hints_script())
    workspace = short_tmp / "ws"
    workspace.mkdir()
    source = workspace / "calc.py"
    source.write_text(SOURCE)
    out = short_tmp / "out"
    with code_server(short_tmp, workspace, fake_messages_api, out=out,
                     artifacts={"result.json": "review-conflict-result.json",
                                "vscode-conflict.png": "vscode-conflict.png",
                                "failure.png": "review-conflict-failure.png"},
                     log_name="code-server-review-conflict.log") as server:
        result = run_driver(DRIVER, server.url, workspace, out, "--scenario", "conflict", "--file", str(source),
                            "--instruction", "add type hints")
    data = _check(result, server)
    assert data["typed"][0] == "def add(a, b):  # mine"
    # The change is still there, as a conflict named as the user sees it, with what can be done.
    conflict = "Conflict with your edits (change 1 of 2, line 1): Compare | Take the Agent's Version | Keep Mine"
    assert conflict in data["lenses"][0]
    rows = [(r["label"], r["description"]) for r in data["rows"]]
    assert ("change 1 of 2, line 1", "conflicts with your edits") in rows
    # Taken: the agent's line over the user's; the other change still pending.
    assert data["taken"][0] == "def add(a: int, b: int) -> int:"
    assert len(data["after_lenses"]) == 1
    assert re.fullmatch(r"Accept \(\d/\d\) \(Ctrl\+Alt\+Y\) \| Reject \(Ctrl\+Alt\+N\)", data["after_lenses"][0])


def test_accepting_a_change_that_needs_another_warns_once(short_tmp: Path, fake_messages_api: FakeMessagesAPI) -> None:
    fake_messages_api.add(
        Reply([edit("str_replace", path="calc.py", old_str="def add(a, b):\n    return a + b",
                    new_str="def add(a, b):\n    total = a + b\n    return a + b"),
               edit("str_replace", path="calc.py", old_str="    return a - b", new_str="    return a - b + total")]),
        Reply.text("Used total."))
    workspace = short_tmp / "ws"
    workspace.mkdir()
    source = workspace / "calc.py"
    source.write_text(SOURCE)
    out = short_tmp / "out"
    with code_server(short_tmp, workspace, fake_messages_api, out=out,
                     artifacts={"result.json": "review-warn-result.json", "failure.png": "review-warn-failure.png"},
                     log_name="code-server-review-warn.log") as server:
        result = run_driver(DRIVER, server.url, workspace, out, "--scenario", "warn", "--file", str(source),
                            "--instruction", "use total")
    data = _check(result, server)
    assert data["warnings"] == [
        "agentls: change 2 of 2, line 6 uses `total`, defined by change 1 of 2, line 2, which you did not accept"]
