"""The registry: stable definitions, concurrent reads, ordered writes, results in the model's order."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from agentls.agent.overlay import Overlay
from agentls.agent.tools import ToolCall, ToolContext, ToolRegistry, ToolResult, default_registry
from agentls.agent.workspace import Workspace
from agentls.config import CommandSettings, ToolsSettings
from agentls.store.audit import AuditLog


class Fake:
    """A tool that sleeps, records when it ran, and answers its input's ``value``."""

    def __init__(
        self, name: str, read_only: bool, log: list[tuple[str, str, float]], delay: float = 0.2
    ) -> None:
        self.name = name
        self.read_only = read_only
        self.log = log
        self.delay = delay

    def definition(self) -> dict[str, Any]:
        return {"name": self.name, "description": "fake", "input_schema": {"type": "object"}}

    async def run(self, input: Mapping[str, Any], ctx: ToolContext) -> ToolResult:
        self.log.append(("start", str(input["value"]), time.monotonic()))
        await asyncio.sleep(self.delay)
        self.log.append(("end", str(input["value"]), time.monotonic()))
        if input.get("boom"):
            raise RuntimeError("unexpected")
        return ToolResult(f"{self.name}:{input['value']}")


@pytest.fixture
def ctx(tmp_path: Path) -> ToolContext:
    (tmp_path / "ws").mkdir()
    workspace = Workspace(tmp_path / "ws")
    return ToolContext(
        workspace, Overlay(workspace), ToolsSettings(), "s", AuditLog(tmp_path / "audit.jsonl")
    )


def test_default_registry_definitions_are_stable() -> None:
    registry = default_registry(ToolsSettings())
    assert registry.names == ["str_replace_based_edit_tool", "search", "list_files"]
    first = registry.definitions()
    first[0]["name"] = "mutated"  # a caller's copy: the registry's own stays intact
    assert json.dumps(registry.definitions()) == json.dumps(default_registry(ToolsSettings()).definitions())
    assert registry.definitions()[0] == {
        "type": "text_editor_20250728",
        "name": "str_replace_based_edit_tool",
    }
    search = registry.definitions()[1]
    assert search["input_schema"]["required"] == ["pattern"]
    assert search["input_schema"]["additionalProperties"] is False
    enabled = default_registry(ToolsSettings(run_command=CommandSettings(enabled=True, allow=["pytest*"])))
    assert enabled.names[-1] == "run_command"
    assert "pytest*" in enabled.definitions()[-1]["description"]


async def test_read_only_calls_overlap(ctx: ToolContext) -> None:
    log: list[tuple[str, str, float]] = []
    registry = ToolRegistry([Fake("read", True, log)])
    started = time.monotonic()
    results = await registry.run_calls([ToolCall(str(i), "read", {"value": i}) for i in range(3)], ctx)
    elapsed = time.monotonic() - started
    assert [r.content for r in results] == ["read:0", "read:1", "read:2"]
    assert elapsed < 0.45  # three 0.2 s calls: about 0.2 s together, 0.6 s one after another


async def test_writes_run_alone_and_in_order(ctx: ToolContext) -> None:
    log: list[tuple[str, str, float]] = []
    registry = ToolRegistry([Fake("read", True, log, 0.1), Fake("write", False, log, 0.05)])
    calls = [
        ToolCall("1", "read", {"value": "r1"}),
        ToolCall("2", "read", {"value": "r2"}),
        ToolCall("3", "write", {"value": "w1"}),
        ToolCall("4", "write", {"value": "w2"}),
        ToolCall("5", "read", {"value": "r3"}),
    ]
    results = await registry.run_calls(calls, ctx)
    assert [r.content for r in results] == ["read:r1", "read:r2", "write:w1", "write:w2", "read:r3"]
    order = [(kind, value) for kind, value, _ in log]
    # r1 and r2 overlap; w1 starts after both ended; w2 after w1; r3 after w2.
    assert set(order[:2]) == {("start", "r1"), ("start", "r2")}
    assert order[4:] == [
        ("start", "w1"),
        ("end", "w1"),
        ("start", "w2"),
        ("end", "w2"),
        ("start", "r3"),
        ("end", "r3"),
    ]


async def test_results_in_model_order_even_when_later_finish_first(ctx: ToolContext) -> None:
    log: list[tuple[str, str, float]] = []
    registry = ToolRegistry([Fake("slow", True, log, 0.2), Fake("fast", True, log, 0.01)])
    results = await registry.run_calls(
        [ToolCall("a", "slow", {"value": 1}), ToolCall("b", "fast", {"value": 2})], ctx
    )
    assert [r.content for r in results] == ["slow:1", "fast:2"]
    assert log[1] == ("start", "2", log[1][2])
    assert log[2][:2] == ("end", "2")


async def test_unknown_tool_crash_and_cancel_become_error_results(ctx: ToolContext) -> None:
    log: list[tuple[str, str, float]] = []
    registry = ToolRegistry([Fake("read", True, log, 0.0)])
    results = await registry.run_calls(
        [ToolCall("1", "nope", {}), ToolCall("2", "read", {"value": 1, "boom": True})], ctx
    )
    assert results[0].is_error
    assert "Unknown tool 'nope'" in results[0].content
    assert "read" in results[0].content
    assert results[1].is_error
    assert "internal error" in results[1].content
    ctx.cancel.set()
    cancelled = await registry.run_calls([ToolCall("3", "read", {"value": 2})], ctx)
    assert cancelled[0].is_error
    assert "cancelled" in cancelled[0].content


async def test_text_editor_view_runs_as_a_read(ctx: ToolContext) -> None:
    registry = default_registry(ToolsSettings())
    tool = "str_replace_based_edit_tool"
    assert registry.is_read_only(ToolCall("1", tool, {"command": "view", "path": "."}))
    assert not registry.is_read_only(ToolCall("2", tool, {"command": "create", "path": "x", "file_text": ""}))
    (ctx.workspace.root / "f.txt").write_text("old\n")
    results = await registry.run_calls(
        [
            ToolCall(
                "1", tool, {"command": "str_replace", "path": "f.txt", "old_str": "old", "new_str": "new"}
            ),
            ToolCall("2", tool, {"command": "view", "path": "f.txt"}),
            ToolCall("3", "search", {"pattern": "new"}),
        ],
        ctx,
    )
    assert "     1\tnew" in results[1].content  # the read after the write sees it
    assert results[2].content == "f.txt:1:new"


async def test_every_call_is_audited(ctx: ToolContext) -> None:
    registry = default_registry(ToolsSettings())
    await registry.run_calls([ToolCall("t1", "list_files", {}), ToolCall("t2", "nope", {"x": 1})], ctx)
    assert ctx.audit is not None
    entries = [e for e in ctx.audit.read() if e["event"] == "tool_call"]
    assert [(e["tool"], e["is_error"], e["call_id"]) for e in entries] == [
        ("list_files", False, "t1"),
        ("nope", True, "t2"),
    ]
