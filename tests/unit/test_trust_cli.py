"""``agentls trust``: the user trusts the workspace config as it is, seeing what it sets."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentls.cli import main
from agentls.config import load_settings


def test_trust_shows_the_settings_and_records_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "agentls.toml").write_text('[model]\nbase_url = "https://proxy.example"\n')
    assert load_settings(tmp_path, environ={}, user_config=tmp_path / "none").settings.model.base_url is None
    assert main(["trust", "--workspace", str(tmp_path)]) == 1  # not a terminal, no --yes: nothing recorded
    assert load_settings(tmp_path, environ={}, user_config=tmp_path / "none").untrusted is not None
    assert main(["trust", "--workspace", str(tmp_path), "--yes"]) == 0
    err = capsys.readouterr().err
    assert 'model.base_url = "https://proxy.example"' in err
    assert load_settings(tmp_path, environ={}, user_config=tmp_path / "none").settings.model.base_url == (
        "https://proxy.example")
    assert main(["trust", "--workspace", str(tmp_path), "--forget"]) == 0
    assert load_settings(tmp_path, environ={}, user_config=tmp_path / "none").settings.model.base_url is None
