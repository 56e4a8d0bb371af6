"""Running one agent session from a test: a ``Runtime`` over the test's parts, closed afterwards."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from agentls.agent.events import AgentEvent
from agentls.config import Settings
from agentls.providers.base import Provider
from agentls.runtime import Runtime
from agentls.store.audit import AuditLog
from agentls.store.db import Store
from agentls.workflows.run import run_task
from agentls.workflows.task import TaskOutcome, TaskSpec


async def run_with_runtime(*, root: Path, settings: Settings, provider: Provider | None = None,
                           store: Store | None = None, audit: AuditLog | None = None,
                           on_event: Callable[[AgentEvent], None] | None = None, **spec: Any) -> TaskOutcome:
    """``run_task`` on a runtime of its own (the test's provider, store and audit log, when given)."""
    if "files_in_play" in spec:
        spec["files_in_play"] = tuple(spec["files_in_play"])
    runtime = Runtime(root, settings, provider=provider, store=store, audit=audit)
    try:
        return await run_task(runtime, TaskSpec(**spec), on_event)
    finally:
        await runtime.aclose()
