"""Shared test configuration."""

from __future__ import annotations

import os

from hypothesis import settings

# CI must be deterministic: the same examples every run (derandomize), no flaky deadlines.
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")

from tests.fakes.messages_api.fixture import fake_messages_api  # noqa: E402, F401  (fixture)
