"""The dashboard's routes: the page, its JSON API and its live stream (``docs/dashboard.md``).

Handlers are thin: each runs one blocking read (SQLite, git, the file system) in a worker thread and
turns plain values into JSON. The store is the only link to sessions, so nothing here can slow one.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import FileResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from agentls import __version__
from agentls.dashboard.codes import Codes
from agentls.dashboard.jsonable import plain
from agentls.dashboard.live import stream
from agentls.dashboard.security import Guard
from agentls.dashboard.workspaces import UnknownWorkspace, Workspaces, one_line
from agentls.edits.unified import unified_diff
from agentls.errors import AgentlsError, InvalidRequest
from agentls.store.circuits import circuits
from agentls.store.db import Store
from agentls.store.overview import Overview
from agentls.store.plans import PlanStore

STATIC = Path(__file__).parent / "static"
MAX_LIMIT = 200
#: The largest request body read (a restore's is a few dozen bytes).
MAX_BODY = 64 * 1024
#: A change whose texts are longer than this is summarised, not diffed.
MAX_DIFF_INPUT = 2_000_000


@dataclasses.dataclass
class State:
    store: Store
    overview: Overview
    plans: PlanStore
    workspaces: Workspaces
    csrf: str
    #: Settings as the user's config and environment give them (health: API key, model).
    settings: Callable[[], Any]


def _json(value: Any, status: int = 200) -> Response:
    body = json.dumps(plain(value), ensure_ascii=False, default=str, separators=(",", ":"))
    return Response(body, status_code=status, media_type="application/json", headers={"cache-control": "no-store"})


def _error(status: int, message: str) -> Response:
    return _json({"error": message}, status)


Handler = Callable[[Request], Awaitable[Response]]


def api(work: Callable[[State, Request], Any]) -> Handler:
    """A JSON endpoint whose ``work`` runs in a worker thread; failures become one line."""

    async def handle(request: Request) -> Response:
        state: State = request.app.state.dashboard
        try:
            if request.method == "POST":
                raw = await _body(request)
                if raw is None:
                    return _error(413, f"the request body is over {MAX_BODY // 1024} KB")
                try:
                    request.state.body = json.loads(raw or b"{}")
                except (ValueError, RecursionError):
                    return _error(400, "the request body is not JSON")
            result = await asyncio.to_thread(work, state, request)
        except ClientDisconnect:
            return Response(status_code=400)  # nobody reads it
        except UnknownWorkspace as exc:
            return _error(404, str(exc))
        except LookupError as exc:
            return _error(404, str(exc.args[0]) if exc.args else "not found")
        except (InvalidRequest, ValueError) as exc:
            return _error(400, one_line(exc))
        except AgentlsError as exc:
            return _error(409, one_line(exc))
        if isinstance(result, Response):
            return result
        return _json(result)

    return handle


async def _body(request: Request) -> bytes | None:
    """The body, or None when it is over ``MAX_BODY`` (not read further)."""
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _int(request: Request, name: str, default: int, low: int = 0, high: int = 10**9) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        return max(low, min(high, int(raw)))
    except ValueError:
        raise InvalidRequest(f"{name} must be a number") from None


def _workspace_filter(request: Request) -> str | None:
    return request.query_params.get("workspace") or None


def _workspace(request: Request) -> str:
    workspace = _workspace_filter(request)
    if workspace is None:
        raise InvalidRequest("say which workspace (?workspace=PATH)")
    return workspace


# -- sessions -----------------------------------------------------------------------------------------

def meta(state: State, request: Request) -> Any:
    return {"version": __version__, "csrf": state.csrf, "workspaces": state.overview.workspaces(), "now": time.time()}


def sessions(state: State, request: Request) -> Any:
    rows, next_cursor, total = state.overview.sessions_page(
        limit=_int(request, "limit", 50, 1, MAX_LIMIT), cursor=request.query_params.get("cursor") or None,
        workspace=_workspace_filter(request), status=request.query_params.get("status") or None,
        text=request.query_params.get("q") or None)
    return {"sessions": rows, "next": next_cursor, "total": total}


def session(state: State, request: Request) -> Any:
    session_id = request.path_params["id"]
    row = state.overview.session(session_id)
    if row is None:
        raise LookupError(f"no session {session_id}")
    after = _int(request, "after", -1, -1)
    events = state.overview.events(session_id, after_seq=after)
    changes = [_change(change) for change in state.overview.changes(session_id)] if after < 0 else None
    plan = state.store.fetch("SELECT plan_id, step_id FROM plan_executions WHERE session_id = ? LIMIT 1",
                             (session_id,))
    return {"session": row, "events": events, "changes": changes,
            "plan": {"id": plan[0][0], "step_id": plan[0][1]} if plan else None}


def _change(change: Any) -> dict[str, Any]:
    value: dict[str, Any] = dataclasses.asdict(change)  # redacted as the answer goes out (``plain``)
    before, after = value.pop("before", None), value.pop("after", None)
    path = value["path"]
    if value.get("too_large") or len(before or "") + len(after or "") > MAX_DIFF_INPUT:
        value.update(diff="", added=0, removed=0, too_large=True)
        return value
    diff = unified_diff(before, after, path)
    value.update(diff=diff.text, added=diff.added, removed=diff.removed)
    return value


# -- plans --------------------------------------------------------------------------------------------

def plans(state: State, request: Request) -> Any:
    return {"plans": state.overview.plans_page(_workspace_filter(request), _int(request, "limit", 50, 1, MAX_LIMIT))}


def plan(state: State, request: Request) -> Any:
    plan_id = request.path_params["id"]
    row = state.plans.get(plan_id)
    if row is None:
        raise LookupError(f"no plan {plan_id}")
    executions = state.plans.executions(plan_id)
    steps = []
    for step in state.plans.steps(plan_id):
        mine = [e for e in executions if e.step_id == step.id]
        steps.append({**plain(step), "cost_usd": sum(e.cost_usd for e in mine),
                      "executions": [plain(e) for e in mine]})
    done = sum(1 for s in steps if s["status"] in ("done", "skipped"))
    logs = [{"step_id": log.step_id, "time": log.time, "level": log.level, "message": log.message}
            for log in state.plans.logs(plan_id, limit=1000)]
    return {"plan": {**plain(row), "steps_total": len(steps), "steps_done": done,
                     "cost_usd": sum(e.cost_usd for e in executions)}, "steps": steps, "logs": logs}


# -- checkpoints --------------------------------------------------------------------------------------

def checkpoints(state: State, request: Request) -> Any:
    workspace = _workspace(request)
    rows = state.store.checkpoints(workspace, _int(request, "limit", 100, 1, 1000))
    if not rows and workspace not in state.overview.workspaces():
        raise UnknownWorkspace(f"no agentls session or checkpoint is recorded for {workspace!r}")
    return {"checkpoints": rows, "disk_bytes": state.workspaces.checkpoints_bytes(workspace)}


def checkpoint_diff(state: State, request: Request) -> Any:
    workspace = _workspace(request)
    return {"diff": state.workspaces.checkpoint_diff(workspace, request.path_params["id"]), "against": "now"}


def restore(state: State, request: Request) -> Any:
    body = request.state.body
    workspace = body.get("workspace") if isinstance(body, dict) else None
    if not isinstance(workspace, str) or not workspace:
        raise InvalidRequest("say which workspace: {\"workspace\": PATH}")
    return state.workspaces.restore(workspace, request.path_params["id"])


# -- usage, health, memory, explorer ------------------------------------------------------------------

def usage(state: State, request: Request) -> Any:
    days = _int(request, "days", 30, 1, 3650)
    return state.overview.usage(since=time.time() - days * 86_400, workspace=_workspace_filter(request))


def health(state: State, request: Request) -> Any:
    settings = state.settings()
    errors, retries = state.overview.recent_errors(20)
    breakers = circuits(state.store)
    states = {c.state for c in breakers}
    circuit = next((name for name in ("open", "half_open") if name in states), "closed")
    spaces = [{"path": workspace, "exists": Path(workspace).is_dir(),
               "index": _safely(state.workspaces.index_state, workspace, {"files": 0, "built": False}),
               "checkpoints_bytes": _safely(state.workspaces.checkpoints_bytes, workspace, None),
               "mcp": _safely(state.workspaces.mcp, workspace, [])}
              for workspace in state.overview.workspaces()[:20]]
    store_bytes = sum(_size(p) for p in state.store.path.parent.glob(state.store.path.name + "*"))
    return {"api_key": settings.model.api_key is not None, "model": settings.model.name,
            "recent_errors": errors, "retries_last_hour": retries, "circuit": circuit,
            "circuits": [c for c in breakers if c.state != "closed"], "workspaces": spaces,
            "store_bytes": store_bytes}


def _size(path: Path) -> int:
    """A file's size; 0 when it is gone meanwhile (SQLite removes its -wal and -shm files)."""
    try:
        return path.stat().st_size if path.is_file() else 0
    except OSError:
        return 0


def _safely(work: Callable[[str], Any], workspace: str, default: Any) -> Any:
    """One workspace's figure, or ``default`` when it cannot be read (health shows what it can)."""
    try:
        return work(workspace)
    except Exception:
        return default


def memory(state: State, request: Request) -> Any:
    workspace = _workspace(request)
    return {"files": state.workspaces.memory(workspace)}


def symbols(state: State, request: Request) -> Any:
    workspace = _workspace(request)
    return state.workspaces.symbols(workspace, request.query_params.get("q", ""))


def symbol(state: State, request: Request) -> Any:
    workspace = _workspace(request)
    return state.workspaces.symbol(workspace, request.query_params.get("name", ""))


def repomap(state: State, request: Request) -> Any:
    workspace = _workspace(request)
    return {"text": state.workspaces.repo_map(workspace, request.query_params.get("path", ""))}


async def index(request: Request) -> Response:
    return FileResponse(STATIC / "index.html", headers={"cache-control": "no-store"})


async def not_found(request: Request, exc: Exception) -> Response:
    return _error(404, f"nothing at {request.url.path}")


async def not_allowed(request: Request, exc: Exception) -> Response:
    return _error(405, f"{request.method} is not answered at {request.url.path}")


def build_app(state: State, *, token: str, hosts: set[str], any_ip: bool = False,
              codes: Codes | None = None) -> Guard:
    routes = [
        Route("/", index),
        Route("/api/meta", api(meta)),
        Route("/api/sessions", api(sessions)),
        Route("/api/sessions/{id}", api(session)),
        Route("/api/plans", api(plans)),
        Route("/api/plans/{id}", api(plan)),
        Route("/api/checkpoints", api(checkpoints)),
        Route("/api/checkpoints/{id}/diff", api(checkpoint_diff)),
        Route("/api/checkpoints/{id}/restore", api(restore), methods=["POST"]),
        Route("/api/usage", api(usage)),
        Route("/api/health", api(health)),
        Route("/api/memory", api(memory)),
        Route("/api/symbols", api(symbols)),
        Route("/api/symbol", api(symbol)),
        Route("/api/repomap", api(repomap)),
        Route("/api/stream", stream),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
        Mount("/", StaticFiles(directory=STATIC), name="page"),  # the page's modules, by relative URL
    ]
    app = Starlette(routes=routes, exception_handlers={404: not_found, 405: not_allowed})
    app.state.dashboard = state
    return Guard(app, token=token, csrf=state.csrf, hosts=hosts, any_ip=any_ip, codes=codes)
