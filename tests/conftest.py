"""Shared test configuration."""

from __future__ import annotations

import os

from hypothesis import settings

# CI must be deterministic: the same examples every run (derandomize), no flaky deadlines.
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")

import pytest  # noqa: E402

from tests.fakes.messages_api.fixture import fake_messages_api  # noqa: E402, F401  (fixture)


@pytest.fixture(autouse=True)
def _data_dir_of_the_test(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test writes into the real user data directory (the usage store, the audit log, checkpoints): each
    gets its own, unless it sets ``AGENTLS_DATA_DIR`` itself."""
    monkeypatch.setenv("AGENTLS_DATA_DIR", str(tmp_path_factory.mktemp("agentls-data")))
