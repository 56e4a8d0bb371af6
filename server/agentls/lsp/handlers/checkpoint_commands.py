"""``agentls.checkpoints.list|diff|restore``: the shadow history, from the editor.

Checkpoints hold what the editor shows: an open document's buffer (unsaved typing included), not the
disk, and diffs compare against the buffers. Restore writes closed files on disk; files open in the
editor are changed through ``workspace/applyEdit`` instead (the editor owns open buffers and their undo),
undoing the accepted changes since the checkpoint onto what the buffer has now, except a deletion the
editor cannot make (it declared no ``delete`` resource operation): that one happens on disk.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from agentls.edits.hunks import diff_hunks
from agentls.errors import InvalidRequest
from agentls.lsp.convert import LineIndex, to_range
from agentls.lsp.server import AgentLanguageServer
from agentls.lsp.workspace_edit import WorkspaceEditBuilder

if TYPE_CHECKING:
    from agentls.checkpoints.model import BufferRestore
    from agentls.lsp.handlers.commands import Handler


def _ids(raw: dict[str, Any], key: str, required: bool = True) -> str | None:
    value = raw.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value:
        raise InvalidRequest(f"'{key}' must be a checkpoint id (a non-empty string)")
    return value


#: The most checkpoints one list returns (the history keeps ``checkpoints.retention``, 200 by default).
MAX_LIMIT = 100_000


def _paths(raw: dict[str, Any]) -> list[str] | None:
    value = raw.get("paths")
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(p, str) and p for p in value):
        raise InvalidRequest("'paths' must be a list of workspace-relative paths")
    return value


async def list_checkpoints(ls: AgentLanguageServer, raw: dict[str, Any]) -> list[dict[str, Any]]:
    from agentls.checkpoints.model import created_at, human_time

    limit = raw.get("limit", 50)
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= MAX_LIMIT:
        raise InvalidRequest(f"'limit' must be an integer from 1 to {MAX_LIMIT:,}")
    checkpoints = await ls.runtime.checkpoints()
    found = await asyncio.to_thread(checkpoints.list, limit)
    return [{"id": c.id, "time": c.time, "when": human_time(c.time), "createdAt": created_at(c.time),
             "trigger": c.trigger, "sessionId": c.session_id, "step": c.step, "summary": c.summary,
             "files": list(c.files)} for c in found]


def _buffers(ls: AgentLanguageServer) -> dict[str, str]:
    """The open documents' text (unsaved typing included), by workspace-relative path."""
    return {rel: snap.text for rel, snap in ls.agent.snapshots().items()}


async def diff(ls: AgentLanguageServer, raw: dict[str, Any]) -> dict[str, str]:
    checkpoint_id = _ids(raw, "id")
    against = _ids(raw, "against", required=False)
    checkpoints = await ls.runtime.checkpoints()
    buffers = _buffers(ls) if against is None else None  # "now" is what the editor shows
    text = await asyncio.to_thread(checkpoints.diff, checkpoint_id or "", against, _paths(raw), buffers=buffers)
    return {"diff": text}


async def restore(ls: AgentLanguageServer, raw: dict[str, Any]) -> dict[str, Any]:
    """Closed files on disk; open ones through the editor, undoing the accepted changes since the
    checkpoint onto what the buffer has now (the user's typing stays; ``workflows.checkpointing``)."""
    checkpoint_id = _ids(raw, "id") or ""
    paths = _paths(raw)
    checkpoints = await ls.runtime.checkpoints()
    open_docs = ls.agent.snapshots()
    buffers = {rel: snap.text for rel, snap in open_docs.items()}
    plan = await asyncio.to_thread(checkpoints.plan_restore, checkpoint_id, paths, buffers=list(open_docs))
    on_disk_now = {f.path for f in plan.files}
    result = await asyncio.to_thread(checkpoints.restore, checkpoint_id, paths, skip=set(open_docs),
                                     buffers=buffers)
    restored, deleted, created = list(result.restored), list(result.deleted), list(result.created)
    on_disk: list[str] = []  # closed while the restore ran, or a deletion the editor cannot do
    builder = WorkspaceEditBuilder(ls.client_features)
    current = {}
    for item in plan.buffers:
        doc = ls.state.documents.get(open_docs[item.path].uri)
        if doc is not None:
            current[item.path] = (doc.version, doc.text)
        elif item.path in on_disk_now:  # closed while the restore ran: the editor no longer owns it
            on_disk.append(item.path)
    # An open file the checkpoint took from the disk, unchanged on disk since, and never accepted into:
    # its buffer's unsaved text is the user's, not the checkpoint's business.
    wanted = [i for i in plan.buffers if i.steps or i.from_buffer or i.path in on_disk_now]
    merges = await asyncio.to_thread(_merge, wanted, current, ls.position_encoding)
    conflicts = 0
    for path, (version, edits, conflicted) in merges.items():
        uri = open_docs[path].uri
        conflicts += conflicted
        if edits is None:  # absent at the checkpoint, nothing typed since: the file goes
            if path not in on_disk_now:
                continue  # absent on disk too: nothing to delete
            if builder.delete(uri):
                deleted.append(path)
            else:
                on_disk.append(path)
        elif edits:
            builder.edit(uri, version, edits)
            restored.append(path)
    if builder:
        applied = await ls.workspace_apply_edit_async(types.ApplyWorkspaceEditParams(
            edit=builder.build(), label="agentls: restore checkpoint"))
        if not applied.applied:
            names = ", ".join(sorted({i.path for i in plan.buffers}))
            ls.notify_user(f"the editor did not apply the restore to open files ({names}); "
                           f"undo the rest with checkpoint {result.safety_checkpoint}", types.MessageType.Warning)
    if conflicts:
        ls.notify_user(f"{conflicts} accepted change(s) were kept: you edited over them since",
                       types.MessageType.Warning)
    if on_disk:
        late = await asyncio.to_thread(checkpoints.restore, checkpoint_id, on_disk)
        restored += late.restored
        deleted += late.deleted
        created += late.created
    return {"restored": sorted(set(restored)), "deleted": sorted(set(deleted)), "created": sorted(set(created)),
            "safetyCheckpoint": result.safety_checkpoint}


def _merge(items: list[BufferRestore], current: dict[str, tuple[int, str]], encoding: str
           ) -> dict[str, tuple[int, list[types.TextEdit] | None, int]]:
    """Off the loop: for each open document, (its version, the edits that restore it, or None to delete it,
    the accepted changes kept because the user edited over them)."""
    from agentls.workflows.checkpointing import restored_text

    merges: dict[str, tuple[int, list[types.TextEdit] | None, int]] = {}
    for item in items:
        if item.path not in current:
            continue
        version, text = current[item.path]
        merged = restored_text(text, item)
        if merged.text is None:
            merges[item.path] = (version, None, merged.conflicts)
            continue
        index = LineIndex(text)
        merges[item.path] = (version, [types.TextEdit(range=to_range(index, h.start, h.end, encoding),
                                                      new_text=h.new_text) for h in diff_hunks(text, merged.text)],
                             merged.conflicts)
    return merges


HANDLERS: dict[str, Handler] = {
    "agentls.checkpoints.list": list_checkpoints,
    "agentls.checkpoints.diff": diff,
    "agentls.checkpoints.restore": restore,
}
