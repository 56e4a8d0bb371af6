"""The VS Code extension (clients/vscode) end to end, in a real VS Code.

VS Code's own workbench, served by code-server on 127.0.0.1, with the packaged ``agentls.vsix``
installed, runs the real ``agentls serve``; Chromium (Debian's, headless) shows it and Playwright
drives it as a person would (``clients/vscode/e2e/run.mjs``). Only the model is a stand-in: the fake
Messages API. The scenario: open a file, select its lines, "Agent: Edit Selection…", type the
instruction, see the inline diff (decorations and CodeLens), accept one hunk, reject the other, save.
The plans scenario (``clients/vscode/e2e/plans.mjs``): "New Plan…" in the Agent Plans view, type the
task, run the plan with auto-apply, see each step done with its cost, roll back to before step 2, and
find the files on disk as they were before it. Screenshots go to ``tests/artifacts/vscode/``.

Needs ``bash scripts/vscode-e2e-setup`` (code-server in a cache, chromium, playwright-core). Without
it the test is skipped, except in CI (``CI`` set), where it must run.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.harness import server_env
from tests.e2e.plan_scripts import CALC_1, architect_script, make_project, routed, step_scripts, three_steps
from tests.e2e.test_inline_edits import SOURCE, THINKING, type_hints_script
from tests.e2e.test_neovim_plan import files
from tests.fakes.messages_api import FakeMessagesAPI

ROOT = Path(__file__).resolve().parents[2]
CLIENT = ROOT / "clients" / "vscode"
VSIX = CLIENT / "agentls.vsix"
DRIVER = CLIENT / "e2e" / "run.mjs"
PLANS_DRIVER = CLIENT / "e2e" / "plans.mjs"
ARTIFACTS = ROOT / "tests" / "artifacts" / "vscode"
CACHE = Path(os.environ.get("AGENTLS_E2E_CACHE") or Path.home() / ".cache" / "agentls" / "vscode-e2e")
CODE_SERVER = CACHE / "current" / "node_modules" / "code-server" / "out" / "node" / "entry.js"
CHROMIUM = Path("/usr/bin/chromium")
NODE = shutil.which("node")
SETUP = "bash scripts/vscode-e2e-setup"

SETTINGS = {
    "security.workspace.trust.enabled": False,
    "workbench.startupEditor": "none",
    "workbench.tips.enabled": False,
    "workbench.welcomePage.walkthroughs.openOnInstall": False,
    "workbench.enableExperiments": False,
    "telemetry.telemetryLevel": "off",
    "update.mode": "none",
    "extensions.autoUpdate": False,
    "extensions.autoCheckUpdates": False,
    "extensions.ignoreRecommendations": True,
    "git.enabled": False,
    # VS Code in a browser saves after a delay by default; the test saves by hand, so that it can
    # tell what reached the editor from what reached the disk.
    "files.autoSave": "off",
}


def _missing() -> list[str]:
    missing = []
    if NODE is None:
        missing.append("node")
    if not (CACHE / "current" / ".complete").exists() or not CODE_SERVER.exists():
        missing.append(f"code-server in {CACHE}")
    if not CHROMIUM.exists():
        missing.append(str(CHROMIUM))
    if not (CLIENT / "e2e" / "node_modules" / "playwright-core").is_dir():
        missing.append("playwright-core in clients/vscode/e2e")
    if not VSIX.exists():
        missing.append("clients/vscode/agentls.vsix")
    return missing


MISSING = _missing()
pytestmark = pytest.mark.skipif(
    bool(MISSING) and not os.environ.get("CI"),
    reason=f"VS Code end-to-end setup not done (missing {', '.join(MISSING)}): run `{SETUP}`",
)


def _stop(proc: subprocess.Popen[Any], grace: float = 10.0) -> None:
    """SIGTERM to the process group (code-server, its extension host, the agentls server), then SIGKILL."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(grace)
    with contextlib.suppress(ProcessLookupError):  # what outlived SIGTERM
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(10)


def _kill_leftovers(marker: Path) -> list[int]:
    """SIGKILL whatever still runs with ``marker`` (a unique temporary directory) on its command line."""
    killed = []
    for proc_dir in Path("/proc").glob("[0-9]*"):
        try:
            cmdline = (proc_dir / "cmdline").read_bytes()
        except OSError:
            continue
        if str(marker).encode() in cmdline and int(proc_dir.name) != os.getpid():
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(proc_dir.name), signal.SIGKILL)
                killed.append(int(proc_dir.name))
    return killed


def _ensure_vsix() -> None:
    """Repackage the extension when its sources are newer than the .vsix (a developer's edit)."""
    sources = [CLIENT / "package.json", CLIENT / "esbuild.mjs", *(CLIENT / "src").glob("*.ts")]
    if max(p.stat().st_mtime for p in sources) > VSIX.stat().st_mtime:
        subprocess.run(["npm", "run", "--silent", "package"], cwd=CLIENT, check=True, timeout=300,
                       capture_output=True)


class CodeServer:
    """code-server on a free port of 127.0.0.1, with the extension installed and a fresh profile."""

    def __init__(self, root: Path, workspace: Path, env: dict[str, str]) -> None:
        self.root = root
        self.workspace = workspace
        self.env = env
        self.user_data = root / "data"
        self.extensions = root / "extensions"
        self.log = root / "code-server.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = ""

    def args(self, *extra: str) -> list[str]:
        assert NODE is not None
        return [NODE, str(CODE_SERVER), "--config", str(self.root / "config.yaml"),
                "--user-data-dir", str(self.user_data), "--extensions-dir", str(self.extensions), *extra]

    def start(self, server_command: list[str], settings_override: dict[str, Any] | None = None) -> None:
        settings = self.user_data / "User" / "settings.json"
        settings.parent.mkdir(parents=True)
        settings.write_text(json.dumps({**SETTINGS, "agentls.serverCommand": server_command,
                                        **(settings_override or {})}, indent=2))
        install = subprocess.run(self.args("--install-extension", str(VSIX)), env=self.env,
                                 capture_output=True, text=True, timeout=120)
        assert install.returncode == 0, install
        assert "successfully installed" in install.stdout, install
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(
                self.args("--auth", "none", "--bind-addr", "127.0.0.1:0", "--disable-telemetry",
                          "--disable-update-check", "--disable-workspace-trust", str(self.workspace)),
                env=self.env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True)
        deadline = time.monotonic() + 120
        while not self.url:
            match = re.search(r"HTTP server listening on (http://127\.0\.0\.1:\d+/)", self.log.read_text())
            if match:
                self.url = match[1]
                break
            assert self.proc.poll() is None, f"code-server exited:\n{self.log.read_text()}"
            assert time.monotonic() < deadline, f"code-server did not listen in 120 s:\n{self.log.read_text()}"
            time.sleep(0.1)
        while True:  # the HTTP server answers once it is up
            try:
                with urllib.request.urlopen(self.url + "healthz", timeout=5) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            assert time.monotonic() < deadline, f"code-server not healthy in 120 s:\n{self.log.read_text()}"
            time.sleep(0.2)

    def stop(self) -> None:
        if self.proc is not None:
            _stop(self.proc)

    def diagnostics(self) -> str:
        """code-server's log and the extension's output channel, for a failure message."""
        parts = [f"--- code-server log\n{self.log.read_text()[-4000:]}" if self.log.exists() else ""]
        for name in ("*agentls.log", "remoteexthost.log"):
            for path in sorted(self.user_data.glob(f"logs/**/{name}")):
                parts.append(f"--- {path.relative_to(self.user_data)}\n{path.read_text()[-4000:]}")
        return "\n".join(parts)


@pytest.fixture
def short_tmp() -> Iterator[Path]:
    """A short temporary directory: code-server and VS Code put Unix sockets (108-byte paths) in it.

    Every process the test starts has it on its command line (Chromium's profile is in it too), so
    anything that outlived its process group is found and killed at the end.
    """
    path = Path(tempfile.mkdtemp(prefix="agentls-vscode-"))
    yield path
    _kill_leftovers(path)
    shutil.rmtree(path, ignore_errors=True)


def run_driver(driver: Path, url: str, workspace: Path, out: Path, *args: str) -> dict[str, Any]:
    """Runs a Playwright driver (``clients/vscode/e2e/*.mjs``) against code-server; its result.json."""
    assert NODE is not None
    proc = subprocess.Popen(
        [NODE, str(driver), "--url", url, "--workspace", str(workspace), "--out", str(out),
         "--chromium", str(CHROMIUM), *args],
        cwd=driver.parent, env={**os.environ, "TMPDIR": str(out.parent)}, stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        output, _ = proc.communicate(timeout=900)
    except subprocess.TimeoutExpired:
        _stop(proc)  # SIGTERM first: Playwright closes its browser on it
        output, _ = proc.communicate()
    result_file = out / "result.json"
    assert result_file.exists(), f"the driver wrote no result (exit {proc.returncode}):\n{output}"
    result: dict[str, Any] = json.loads(result_file.read_text())
    result["output"] = output
    return result


@contextlib.contextmanager
def code_server(tmp: Path, workspace: Path, fake: FakeMessagesAPI, *, out: Path, artifacts: dict[str, str],
                log_name: str, server_command: list[str] | None = None,
                settings: dict[str, Any] | None = None) -> Iterator[CodeServer]:
    """code-server on ``workspace`` with the packaged extension, whose server talks to ``fake``.

    On the way out it stops code-server (and with it the agentls server) and copies the driver's
    ``artifacts`` (name in ``out``: name in the artifacts) and code-server's log (as ``log_name``) to
    tests/artifacts/vscode/.
    """
    assert not MISSING, f"VS Code end-to-end setup not done (missing {', '.join(MISSING)}): run `{SETUP}`"
    _ensure_vsix()
    home = tmp / "home"
    env = server_env(home, **fake.env(), AGENTLS_MODEL__RETRY__BASE_DELAY_S="0.01",
                     AGENTLS_DATA_DIR=str(home / "agentls"))
    agentls = Path(sys.executable).with_name("agentls")
    if server_command is None:
        server_command = [str(agentls), "serve"] if agentls.exists() else [sys.executable, "-m", "agentls", "serve"]
    server = CodeServer(tmp, workspace, env)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for name in (*artifacts.values(), log_name):
        (ARTIFACTS / name).unlink(missing_ok=True)
    try:
        server.start(server_command, settings)
        yield server
    finally:
        server.stop()
        for name, saved_as in artifacts.items():
            if (out / name).exists():
                shutil.copy(out / name, ARTIFACTS / saved_as)
        if server.log.exists():
            shutil.copy(server.log, ARTIFACTS / log_name)


def png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    width, height = struct.unpack(">II", header[16:24])
    return width, height


def test_edit_selection_accept_one_hunk_reject_the_other(short_tmp: Path,
                                                          fake_messages_api: FakeMessagesAPI) -> None:
    first, *rest = type_hints_script()
    # The first turn streams slowly enough (about 3 s) for a person, and the driver, to read its
    # thinking summary in the status bar.
    fake_messages_api.add(dataclasses.replace(first, event_delay=0.08, chunk_size=8), *rest)
    sentence = THINKING.split(". ")[0] + "."
    workspace = short_tmp / "ws"
    workspace.mkdir()
    source = workspace / "calc.py"
    source.write_text(SOURCE)
    out = short_tmp / "out"
    with code_server(short_tmp, workspace, fake_messages_api, out=out,
                     artifacts={name: name for name in ("result.json", "inline-diff.png", "thinking.png",
                                                        "failure.png")},
                     log_name="code-server.log") as server:
        result = run_driver(DRIVER, server.url, workspace, out, "--file", str(source),
                            "--instruction", "add type hints", "--lines", "6", "--thinking", sentence)
    assert result["ok"], (f"{result.get('error')}\nnotifications: {result.get('notifications')}\n"
                          f"steps: {result['steps']}\n{result['output']}\n{server.diagnostics()}")
    data = result["data"]
    hinted_add = "def add(a: int, b: int) -> int:"
    hinted_sub = "def sub(a: int, b: int) -> int:"

    # What the model was asked: the instruction typed into VS Code, about the selected lines.
    first = fake_messages_api.message_requests[0].body["messages"][0]["content"][0]["text"]
    assert "add type hints" in first
    assert "lines 1-6" in first
    assert data["selection_status"].endswith("(66 selected)")
    assert data["prompt"].startswith("What should the agent do with the selection?")
    # While it worked, the model's thinking summary showed as the session's progress in the status bar.
    assert sentence in data["progress"]
    assert fake_messages_api.message_requests[0].body["thinking"] == {"type": "adaptive", "display": "summarized"}

    # The inline diff: old lines struck through on a coloured background, the new text beside them,
    # a CodeLens above each hunk; nothing written to the buffer or the disk yet.
    pending = data["pending"]
    assert [line["text"] for line in pending["lines"]] == SOURCE.split("\n")
    decorated = [(line["number"], line["struck"], line["injected"]) for line in pending["lines"]
                 if line["struck"] or line["injected"]]
    assert decorated == [(1, "def add(a, b):", [hinted_add]), (5, "def sub(a, b):", [hinted_sub])]
    assert all(line["backgrounds"] for line in pending["lines"] if line["number"] in (1, 5))
    assert not any(line["backgrounds"] for line in pending["lines"] if line["number"] not in (1, 5))
    assert pending["lenses"] == ["Accept (1/2) | Reject | Accept All | Reject All",
                                 "Accept (2/2) (Ctrl+Alt+Y) | Reject (Ctrl+Alt+N)"]
    assert pending["disk"] == SOURCE

    # Accepting the first hunk edits the buffer (workspace/applyEdit); the other stays pending.
    after_accept = data["after_accept"]
    assert [line["text"] for line in after_accept["lines"]][:5] == [hinted_add, "    return a + b", "", "",
                                                                    "def sub(a, b):"]
    assert [(line["number"], line["struck"]) for line in after_accept["lines"] if line["struck"]] == [
        (5, "def sub(a, b):")]
    assert after_accept["lenses"] == ["Accept (2/2) (Ctrl+Alt+Y) | Reject (Ctrl+Alt+N)"]
    assert after_accept["disk"] == SOURCE

    # Rejecting the second clears the diff and leaves its lines as they were.
    expected = SOURCE.replace("def add(a, b):", hinted_add)
    after_reject = data["after_reject"]
    assert after_reject["lenses"] == []
    assert not any(line["struck"] or line["injected"] or line["backgrounds"] for line in after_reject["lines"])
    assert [line["text"] for line in after_reject["lines"]] == expected.split("\n")

    # Saved from VS Code: the file holds one hunk accepted and the other rejected.
    assert data["saved"]["disk"] == expected
    assert source.read_text() == expected

    # The picture of the inline diff, for people (and CI artifacts).
    shot = ARTIFACTS / "inline-diff.png"
    assert shot.exists()
    assert shot.stat().st_size > 20_000
    assert png_size(shot) == (1280, 800)


def test_plan_tree_new_plan_run_and_roll_back_to_step_2(short_tmp: Path,
                                                        fake_messages_api: FakeMessagesAPI) -> None:
    fake_messages_api.add(*architect_script(three_steps()))
    fake_messages_api.respond_with(routed(step_scripts()))
    workspace = make_project(short_tmp / "ws")
    out = short_tmp / "out"
    with code_server(short_tmp, workspace, fake_messages_api, out=out,
                     artifacts={"result.json": "plans-result.json", "plans.png": "plans.png",
                                "plans-rolled-back.png": "plans-rolled-back.png",
                                "failure.png": "plans-failure.png"},
                     log_name="code-server-plans.log") as server:
        result = run_driver(PLANS_DRIVER, server.url, workspace, out,
                            "--instruction", "add sub, a bounded add and tests")
        on_disk = files(workspace)  # as the rollback left them, before anything shuts down
    assert result["ok"], (f"{result.get('error')}\nnotifications: {result.get('notifications')}\n"
                          f"steps: {result['steps']}\n{result['output']}\n{server.diagnostics()}")
    data = result["data"]
    labels = ["1. Add sub()", "2. Add bounded_add() with a clamp helper", "3. Test the calculator"]

    # The task typed into VS Code's input box reached the architect.
    first = fake_messages_api.message_requests[0].body["messages"][0]["content"]
    assert "add sub, a bounded add and tests" in json.dumps(first)
    assert data["prompt"].startswith("What change should the agent plan?")

    # Drafted: the plan (its document open for review) and its three steps, pending.
    plan, *steps = data["drafted"]
    assert (plan["level"], plan["label"], plan["icon"]) == (1, "add sub, a bounded add and tests", "note")
    assert re.fullmatch(r"draft · \$\d+\.\d{4}", plan["description"]), plan
    assert [(s["level"], s["label"], s["description"], s["icon"]) for s in steps] == [
        (2, label, "pending", "circle-large-outline") for label in labels]
    assert data["plan_tab"].endswith(".md")

    # Run with auto-apply: every step done, with its cost and tokens; the plan's total cost.
    plan, *steps = data["done"]
    match = re.fullmatch(r"done · \$(\d+\.\d{4}) · auto-apply", plan["description"])
    assert match, plan
    assert float(match[1]) > 0
    assert plan["icon"] == "pass"
    assert [s["label"] for s in steps] == labels
    for s in steps:
        assert re.fullmatch(r"done · \$\d+\.\d{4} · [\d,]+ tokens", s["description"]), s
        assert s["icon"] == "pass"

    # Rolled back to before step 2: step 1 done, 2 and 3 pending, the files exactly as before step 2.
    assert "before step 2 (Add bounded_add() with a clamp helper)" in data["confirm"]
    assert "steps 2, 3 are pending" in data["rollback_message"]
    _, *steps = data["rolled_back"]
    assert [s["description"].split(" · ")[0] for s in steps] == ["done", "pending", "pending"]
    # Steps 2 and 3 say their runs were rolled back, and no longer offer a rollback (nothing to go
    # back to: the server would refuse); step 1 still does.
    assert [s["description"].endswith(" · rolled back") for s in steps] == [False, True, True]
    rollback = "Roll Back to Before This Step"
    assert [rollback in s["actions"] for s in steps] == [True, False, False]
    assert all(rollback in s["actions"] for s in data["done"][1:])
    assert on_disk == {"README.md": "calc\n", "calc.py": CALC_1}
    assert files(workspace) == on_disk

    # The picture of the tree view after the run, for people (and CI artifacts).
    shot = ARTIFACTS / "plans.png"
    assert shot.exists()
    assert shot.stat().st_size > 5_000
