"""The user's API key never reaches the terminal, the log, the database or the audit log, even when the API
echoes it back in an error and the key has no recognisable shape (a company gateway's key)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.fakes.messages_api import FakeMessagesAPI, Fault

KEY = "corp-gateway-7f3a9c1b2d4e"


def test_an_echoed_key_is_never_written_or_shown(fake_messages_api: FakeMessagesAPI, tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "app.py").write_text("x = 1\n")
    fake_messages_api.add(Fault.error(401, f"invalid x-api-key: {KEY}"))
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "AGENTLS_"))}
    env.update(fake_messages_api.env(api_key=KEY), XDG_CONFIG_HOME=str(home / "config"),
               AGENTLS_DATA_DIR=str(home / "data"), AGENTLS_LOG_FILE=str(home / "agentls.log"),
               AGENTLS_LOG_LEVEL="debug")
    done = subprocess.run([sys.executable, "-m", "agentls", "run", "--workspace", str(root), "say hello"],
                          capture_output=True, text=True, env=env, timeout=120, check=False,
                          stdin=subprocess.DEVNULL)
    assert done.returncode != 0
    assert "invalid x-api-key: ***" in done.stderr  # the user still sees what went wrong
    written = [path for path in home.rglob("*") if path.is_file()]
    assert any(path.name == "agentls.db" for path in written)
    assert (home / "agentls.log").is_file()
    for text in (done.stdout, done.stderr, *(path.read_bytes().decode("utf-8", "replace") for path in written)):
        assert KEY not in text
