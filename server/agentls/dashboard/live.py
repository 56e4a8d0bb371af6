"""The live stream: server-sent events from the store, polled in a worker thread every 250 ms.

Sessions run in other processes (editor servers, CLIs, ACP agents) and write to the one store, so the
store is the bus: a cursor (``store.overview.Cursor``) marks what a page has seen, and each message's
``id`` is the cursor after it, so a reconnecting ``EventSource`` (``Last-Event-ID``) misses nothing.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.requests import Request
from starlette.responses import Response

from agentls.dashboard.jsonable import plain
from agentls.store.live_cursor import Cursor
from agentls.store.overview import Changes

log = logging.getLogger(__name__)

POLL_S = 0.25
PING_S = 15


def _message(kind: str, data: Any, cursor: str | None) -> ServerSentEvent:
    return ServerSentEvent(data=json.dumps(plain(data), ensure_ascii=False, default=str, separators=(",", ":")),
                           event=kind, id=cursor)


async def stream(request: Request) -> Response:
    state = request.app.state.dashboard
    raw = request.headers.get("last-event-id") or request.query_params.get("cursor")
    cursor: Cursor | None = None
    if raw:
        try:
            cursor = Cursor.parse(raw)
        except ValueError:
            cursor = None
    now = await asyncio.to_thread(Cursor.now, state.store)
    cursor = now if cursor is None else cursor.within(now)  # a bounded catch-up, never past the store

    async def messages() -> AsyncIterator[ServerSentEvent]:
        nonlocal cursor
        assert cursor is not None
        while True:
            try:
                new, changes = await asyncio.to_thread(state.overview.poll, cursor)
                batch = _batch(changes)
            except Exception:  # a locked or busy store: try again at the next tick
                log.debug("polling the store failed", exc_info=True)
                await asyncio.sleep(POLL_S * 4)
                continue
            cursor = new
            for number, (kind, data) in enumerate(batch):
                yield _message(kind, data, str(cursor) if number == len(batch) - 1 else None)
            if not changes.more:  # more events wait past the poll's bound: read them at once
                await asyncio.sleep(POLL_S)

    return EventSourceResponse(messages(), ping=PING_S, headers={"cache-control": "no-store"})


def _batch(changes: Changes) -> list[tuple[str, Any]]:
    """What changed as (SSE event name, data), sessions first so a page knows a session before its events."""
    out: list[tuple[str, Any]] = [("session", row) for row in changes.sessions]
    out.extend(("event", event) for event in changes.events)
    out.extend(("plan", {"id": plan_id}) for plan_id in changes.plans)
    out.extend(("checkpoint", {"workspace": workspace, "id": checkpoint_id})
               for workspace, checkpoint_id in changes.checkpoints)
    return out
