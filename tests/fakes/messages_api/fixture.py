"""The pytest fixture. In a conftest.py:

from tests.fakes.messages_api.fixture import fake_messages_api  # noqa: F401
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .server import FakeMessagesAPI


@pytest.fixture
def fake_messages_api() -> Iterator[FakeMessagesAPI]:
    """A running `FakeMessagesAPI` with an empty script,
    stopped after the test (threads joined, port closed)."""
    with FakeMessagesAPI() as fake:
        yield fake
