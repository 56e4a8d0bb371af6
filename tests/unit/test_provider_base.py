"""Provider-agnostic types: cheap to import, one-line failures."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from agentls.providers.base import (
    Message,
    ProviderFailure,
    TextBlock,
    ToolUseBlock,
    TurnResult,
    Usage,
)

REPO = Path(__file__).resolve().parents[2]


def test_importing_base_resilience_and_the_package_does_not_import_the_sdk() -> None:
    code = (
        "import sys\n"
        "import agentls.providers, agentls.providers.base, agentls.providers.resilience\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('anthropic', 'httpx2', 'httpx')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=REPO, timeout=30)
    assert out.stdout.strip() == "[]"


def test_usage_adds_up() -> None:
    total = Usage(10, 5, 100, 1000) + Usage(1, 2, 3, 4)
    assert total == Usage(11, 7, 103, 1004)
    assert total.total_input == 11 + 103 + 1004


def test_turn_result_tool_calls_and_text() -> None:
    call = ToolUseBlock("toolu_1", "edit", {"path": "a.py"})
    result = TurnResult([TextBlock("a"), call, TextBlock("b")], "tool_use", Usage(), "m", 1)
    assert result.tool_calls == [call]
    assert result.text == "ab"
    assert Message("user", [TextBlock("hi")]).content == [TextBlock("hi")]


def test_failure_message_is_one_line_and_retryable_follows_the_kind() -> None:
    failure = ProviderFailure("Anthropic API overloaded:\n  Overloaded\n", kind="overloaded")
    assert str(failure) == "Anthropic API overloaded: Overloaded"
    assert failure.retryable
    assert failure.summary == str(failure)
    assert not ProviderFailure("bad", kind="bad_request").retryable
    assert not ProviderFailure("x", kind="overloaded", retryable=False).retryable
    assert len(str(ProviderFailure("x" * 1000, kind="server"))) <= 300
