"""Proposals in the editor: presenting them, and ``agentls.accept`` / ``agentls.reject``.

Presenting: an ``agentls/proposal`` notification for clients that render inline diffs, and for
every client Hint diagnostics on the pending hunks with accept/reject code actions. With
``review = "confirm"`` the change goes straight to ``workspace/applyEdit`` with change annotations
that need the user's confirmation. Accepting applies through ``workspace/applyEdit`` with the
document's version (the editor owns buffers and undo); if the user typed meanwhile, the hunks are
rebased first, and a hunk whose lines the user changed is a conflict, not applied.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.uris import to_fs_path

from agentls.edits.hunks import Hunk
from agentls.edits.proposal import Proposal, build_proposal
from agentls.lsp.convert import LineIndex, to_range
from agentls.workflows.review import ProposalBook

if TYPE_CHECKING:
    from agentls.lsp.agent import Snapshot
    from agentls.lsp.handlers.documents import OpenDocument
    from agentls.lsp.server import AgentLanguageServer
    from agentls.workflows.task import TaskOutcome

log = logging.getLogger(__name__)

PROPOSAL = "agentls/proposal"
RESOLVED = "agentls/proposalResolved"
APPLY_TIMEOUT_S = 60.0

#: Called right before an accepted change is applied, with the workspace-relative paths it touches.
#: The checkpoints feature plugs in here; raising stops the apply.
BeforeApply = Callable[[list[str], str], Awaitable[None]]


class ReviewService:
    def __init__(self, server: AgentLanguageServer) -> None:
        self.server = server
        self.book = ProposalBook()
        self.before_apply: BeforeApply | None = None
        #: One accept/reject at a time per proposal: its hunks are chosen, checkpointed, applied and
        #: marked before the next request may look at them (otherwise a double click applies twice).
        self._locks: dict[str, asyncio.Lock] = {}
        #: Proposals by the session that produced them (a cancelled session takes its own back).
        self._by_session: dict[str, list[str]] = {}
        #: Notified whenever hunks are resolved (accepted, rejected, dropped, conflicted).
        self.resolution = asyncio.Condition()

    def _lock(self, proposal_id: str) -> asyncio.Lock:
        return self._locks.setdefault(proposal_id, asyncio.Lock())

    def drop_session(self, session_id: str) -> None:
        """Withdraw the proposals a (cancelled) session produced."""
        for proposal_id in self._by_session.pop(session_id, []):
            try:
                proposal = self.book.get(proposal_id)
            except Exception:
                continue
            pending = [h.id for h in proposal.pending()]
            proposal.mark(pending, "rejected")
            self._resolved(proposal, pending)
            self._refresh(proposal.uri)
        self.book.forget_resolved()

    # -- texts ---------------------------------------------------------------------------------
    def current(self, proposal: Proposal) -> tuple[str, int | None]:
        """The document as the editor has it now: the open buffer, else the file on disk."""
        doc = self.server.state.documents.get(proposal.uri)
        if doc is not None:
            return doc.text, doc.version
        path = to_fs_path(proposal.uri)
        try:
            return Path(path or "").read_text(encoding="utf-8"), None
        except FileNotFoundError:
            return "", None

    def _index(self, uri: str, text: str) -> LineIndex:
        doc = self.server.state.documents.get(uri)
        return doc.lines if doc is not None and doc.text == text else LineIndex(text)

    def wire(self, proposal: Proposal) -> dict[str, Any]:
        """The proposal as clients receive it, hunk ranges in the editor's encoding."""
        data = proposal.to_dict()
        index = self._index(proposal.uri, proposal.base)
        encoding = self.server.position_encoding
        by_id = {h.id: h for h in proposal.hunks}
        for hunk in data["hunks"]:
            source = by_id.get(hunk["id"])
            if source is not None:
                hunk["range"] = _range_dict(to_range(index, source.start, source.end, encoding))
        return data

    # -- presenting ----------------------------------------------------------------------------
    async def present(self, session_id: str, outcome: TaskOutcome, snapshots: dict[str, Snapshot]) -> int:
        """Turn a finished session's changes into proposals; returns how many files have one."""
        settings = self.server.state.settings
        runner = self.server.agent
        count = 0
        for change in outcome.overlay.changes():
            if change.after is None:
                log.warning("session %s deleted %s: deletions are not proposed", session_id, change.path)
                continue
            snap = snapshots.get(change.path)
            uri = snap.uri if snap else runner.uri_for(change.path)
            validation = [_issue_dict(change.after, issue.start, issue.message)
                          for issue in outcome.issues.get(change.path, [])]
            proposal = build_proposal(path=change.path, uri=uri, version=snap.version if snap else None,
                                      base=change.before or "", after=change.after, summary=outcome.result.summary,
                                      validation=validation)
            if proposal is None:
                continue
            current, version = self.current(proposal)
            stale = self.book.reanchor(proposal, current, version)
            if proposal.resolved:
                self.server.notify_user(f"your edits to {change.path} overlap every change the agent proposed there; "
                                        "nothing to review", types.MessageType.Warning)
                continue
            self.book.add(proposal)
            self._by_session.setdefault(session_id, []).append(proposal.id)
            count += 1
            if stale:
                self.server.notify_user(f"{len(stale)} agent change(s) to {change.path} overlapped your edits and "
                                        "were dropped", types.MessageType.Warning)
            if validation:
                self.server.notify_user(f"the proposed change to {change.path} still has syntax errors "
                                        f"({validation[0]['message']}, line {validation[0]['line'] + 1})",
                                        types.MessageType.Warning)
            if settings.review == "confirm" and self._supports_annotations():
                await self.apply_with_confirmation(proposal)
            else:
                self.announce(proposal)
        return count

    def announce(self, proposal: Proposal) -> None:
        if self.server.state.inline_proposals:
            self.server.protocol.notify(PROPOSAL, self.wire(proposal))
        self._refresh(proposal.uri)

    def _refresh(self, uri: str) -> None:
        publisher = self.server.state.diagnostics
        if publisher is not None:
            publisher.refresh(uri)

    def _resolved(self, proposal: Proposal, ids: Sequence[str]) -> None:
        if not ids:
            return
        self.server.protocol.notify(RESOLVED, {
            "proposalId": proposal.id, "uri": proposal.uri, "resolved": proposal.resolved,
            "hunks": [{"id": i, "state": proposal.states[i]} for i in ids],
        })
        self.server.spawn(self._announce_resolution())

    async def _announce_resolution(self) -> None:
        async with self.resolution:
            self.resolution.notify_all()

    async def until_resolved(self, proposals: Sequence[Proposal]) -> None:
        """Wait until every hunk of ``proposals`` is resolved (woken by each resolution, never polling)."""
        async with self.resolution:
            await self.resolution.wait_for(lambda: all(p.resolved for p in proposals))

    # -- hints and code actions ------------------------------------------------------------------
    def hints(self, doc: OpenDocument | None, uri: str) -> list[types.Diagnostic]:
        """Hint diagnostics on the pending hunks of ``uri`` (re-anchoring them on the open buffer)."""
        diagnostics = []
        encoding = self.server.position_encoding
        for proposal in self.book.for_uri(uri):
            # Not while an accept or reject holds it: its hunks must not change state under it.
            if doc is not None and not self._lock(proposal.id).locked():
                stale = self.book.reanchor(proposal, doc.text, doc.version)
                self._resolved(proposal, stale)
            index = self._index(uri, proposal.base)
            pending = proposal.pending()
            for number, hunk in enumerate(pending, start=1):
                diagnostics.append(types.Diagnostic(
                    range=to_range(index, hunk.start, hunk.end, encoding),
                    message=f"agent change {number}/{len(pending)}: {_describe(hunk)} "
                            "(code actions: accept / reject)",
                    severity=types.DiagnosticSeverity.Hint, source="agentls", code="agentls.proposal",
                    data={"proposalId": proposal.id, "hunkId": hunk.id},
                ))
        self.book.forget_resolved()
        return diagnostics

    def hunks_at(self, uri: str, start: int, end: int) -> list[tuple[Proposal, Hunk]]:
        found = []
        for proposal in self.book.for_uri(uri):
            for hunk in proposal.pending():
                if hunk.start <= end and start <= max(hunk.end - 1, hunk.start):
                    found.append((proposal, hunk))
        return found

    # -- accept / reject ------------------------------------------------------------------------
    async def accept(self, raw: dict[str, Any]) -> dict[str, list[str]]:
        from agentls.lsp.params import ReviewParams, parse  # pydantic: kept off the start-up path

        params = parse(ReviewParams, "agentls.accept", raw)
        async with self._lock(params.proposal_id):
            return await self._accept(self.book.get(params.proposal_id), params.hunk_ids)

    async def _accept(self, proposal: Proposal, hunk_ids: list[str] | None) -> dict[str, list[str]]:
        current, version = self.current(proposal)
        plan = self.book.plan(proposal, hunk_ids, current)
        conflicts = [h.id for h in plan.conflicts]
        applied: list[str] = []
        if plan.applied:
            if self.before_apply is not None:
                await self.before_apply([proposal.path], "accept")
            hunks = plan.applied
            ok = await self._apply(proposal, current, version, hunks)
            if not ok:  # the editor refused (its text moved on?): rebase on what it has now, try once more
                await asyncio.sleep(0.05)
                current, version = self.current(proposal)
                retry = self.book.plan(proposal, [h.id for h in hunks], current)
                conflicts += [h.id for h in retry.conflicts]
                hunks = retry.applied
                ok = bool(hunks) and await self._apply(proposal, current, version, hunks)
            if ok:
                applied = [h.id for h in hunks]
            elif hunks:
                self.server.notify_user(f"the editor did not apply the agent's change to {proposal.path}; "
                                        "it is still pending", types.MessageType.Warning)
        proposal.mark(applied, "accepted")
        proposal.mark(conflicts, "conflict")
        if conflicts:
            self.server.notify_user(f"{len(conflicts)} agent change(s) to {proposal.path} conflict with your "
                                    "edits and were not applied", types.MessageType.Warning)
        self._resolved(proposal, applied + conflicts)
        self._refresh(proposal.uri)
        return {"applied": applied, "rejected": [], "conflicts": conflicts}

    async def reject(self, raw: dict[str, Any]) -> dict[str, list[str]]:
        from agentls.lsp.params import ReviewParams, parse

        params = parse(ReviewParams, "agentls.reject", raw)
        async with self._lock(params.proposal_id):
            proposal = self.book.get(params.proposal_id)
            selected = proposal.select(params.hunk_ids)  # validates the ids
            # Named hunks may be stale or in conflict (no longer anchored): they can still be rejected.
            rejected = [h.id for h in selected] if params.hunk_ids is None else list(dict.fromkeys(params.hunk_ids))
            proposal.mark(rejected, "rejected")
        self._resolved(proposal, rejected)
        self._refresh(proposal.uri)
        return {"applied": [], "rejected": rejected, "conflicts": []}

    async def _apply(self, proposal: Proposal, current: str, version: int | None, hunks: Sequence[Hunk],
                     annotate: bool = False) -> bool:
        index = self._index(proposal.uri, current)
        encoding = self.server.position_encoding
        edits: list[types.TextEdit | types.AnnotatedTextEdit] = []
        annotations: dict[str, types.ChangeAnnotation] = {}
        for hunk in sorted(hunks, key=lambda h: h.start):
            rng = to_range(index, hunk.start, hunk.end, encoding)
            if annotate:
                annotation = f"agentls-{proposal.id}-{hunk.id}"
                annotations[annotation] = types.ChangeAnnotation(
                    label=f"agent change: {_describe(hunk)}", needs_confirmation=True,
                    description=proposal.summary or None)
                edits.append(types.AnnotatedTextEdit(range=rng, new_text=hunk.new_text, annotation_id=annotation))
            else:
                edits.append(types.TextEdit(range=rng, new_text=hunk.new_text))
        document = types.TextDocumentEdit(
            text_document=types.OptionalVersionedTextDocumentIdentifier(uri=proposal.uri, version=version),
            edits=edits)
        changes: list[Any] = [document]
        if version is None and _missing(proposal.uri):
            changes.insert(0, types.CreateFile(uri=proposal.uri,
                                               options=types.CreateFileOptions(ignore_if_exists=True)))
        if self._supports_document_changes():
            edit = types.WorkspaceEdit(document_changes=changes, change_annotations=annotations or None)
        else:
            edit = types.WorkspaceEdit(changes={proposal.uri: [types.TextEdit(e.range, e.new_text) for e in edits]})
        try:
            result = await asyncio.wait_for(self.server.workspace_apply_edit_async(
                types.ApplyWorkspaceEditParams(edit=edit, label="agentls: apply agent change")), APPLY_TIMEOUT_S)
        except TimeoutError:
            log.warning("workspace/applyEdit for %s got no answer in %ss", proposal.uri, APPLY_TIMEOUT_S)
            return False
        if not result.applied:
            log.info("the client did not apply the edit to %s: %s", proposal.uri, result.failure_reason)
        return bool(result.applied)

    async def apply_with_confirmation(self, proposal: Proposal) -> None:
        """``review = "confirm"``: the editor asks the user, hunk by hunk, before applying."""
        async with self._lock(proposal.id):
            await self._apply_with_confirmation(proposal)

    async def _apply_with_confirmation(self, proposal: Proposal) -> None:
        current, version = self.current(proposal)
        plan = self.book.plan(proposal, None, current)
        if plan.applied and self.before_apply is not None:
            await self.before_apply([proposal.path], "accept")
        ok = bool(plan.applied) and await self._apply(proposal, current, version, plan.applied, annotate=True)
        ids = [h.id for h in plan.applied]
        proposal.mark(ids, "accepted" if ok else "rejected")
        proposal.mark([h.id for h in plan.conflicts], "conflict")
        self._resolved(proposal, ids + [h.id for h in plan.conflicts])
        self.book.forget_resolved()

    # -- client capabilities ----------------------------------------------------------------------
    def _workspace_edit(self) -> types.WorkspaceEditClientCapabilities | None:
        workspace = self.server.client_capabilities.workspace
        return workspace.workspace_edit if workspace else None

    def _supports_document_changes(self) -> bool:
        # Resource operations exist only inside documentChanges, so a client that declares them
        # (Neovim does, without declaring documentChanges itself) handles versioned edits too.
        caps = self._workspace_edit()
        return bool(caps and (caps.document_changes or caps.resource_operations))

    def _supports_annotations(self) -> bool:
        caps = self._workspace_edit()
        return bool(caps and caps.document_changes and caps.change_annotation_support is not None)


def _missing(uri: str) -> bool:
    path = to_fs_path(uri)
    return bool(path) and not Path(path or "").exists()


def _describe(hunk: Hunk) -> str:
    removed = hunk.old_text.count("\n") + (0 if not hunk.old_text or hunk.old_text.endswith("\n") else 1)
    added = hunk.new_text.count("\n") + (0 if not hunk.new_text or hunk.new_text.endswith("\n") else 1)
    if not removed:
        return f"insert {added} line(s)"
    if not added:
        return f"delete {removed} line(s)"
    return f"replace {removed} line(s) with {added}"


def _range_dict(rng: types.Range) -> dict[str, dict[str, int]]:
    return {"start": {"line": rng.start.line, "character": rng.start.character},
            "end": {"line": rng.end.line, "character": rng.end.character}}


def _issue_dict(text: str, offset: int, message: str) -> dict[str, Any]:
    line = text.count("\n", 0, offset)
    return {"line": line, "character": offset - (text.rfind("\n", 0, offset) + 1), "message": message}

