"""Proposals in the editor: the language server's side of the review (``workflows.reviewer`` has the policy).

Presenting: an ``agentls/proposal`` notification for clients that render inline diffs (sent again, same
id, whenever a hunk moved or became a conflict: it replaces the earlier one), and for every client Hint
diagnostics on the open hunks with accept/reject code actions. ``agentls.proposals`` lists them all.
With ``review = "confirm"`` the change goes straight to ``workspace/applyEdit`` with change annotations
that need the user's confirmation. Accepting applies through ``workspace/applyEdit`` with the document's
version (the editor owns buffers and undo). Here: positions in the editor's encoding, the messages, what
the editor holds.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.uris import to_fs_path

from agentls.edits.hunks import Hunk
from agentls.edits.proposal import Proposal
from agentls.lsp.convert import LineIndex, to_range
from agentls.lsp.workspace_edit import WorkspaceEditBuilder
from agentls.workflows.reviewer import Resolution, Reviewer

if TYPE_CHECKING:
    from agentls.lsp.agent import Snapshot
    from agentls.lsp.handlers.documents import OpenDocument
    from agentls.lsp.server import AgentLanguageServer
    from agentls.workflows.task import TaskOutcome

log = logging.getLogger(__name__)

PROPOSAL = "agentls/proposal"
RESOLVED = "agentls/proposalResolved"
APPLY_TIMEOUT_S = 60.0


class ReviewService:
    """The editor as the reviewer's front end (``workflows.reviewer.ReviewFrontEnd``), and the LSP views
    of the proposals (wire form, hint diagnostics)."""

    def __init__(self, server: AgentLanguageServer) -> None:
        self.server = server
        self.reviewer = Reviewer(self, server.runtime)
        self.book = self.reviewer.book

    # -- the front end the reviewer talks to -------------------------------------------------------------
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

    def can_confirm(self) -> bool:
        return self.server.client_features.change_annotations

    def show(self, proposal: Proposal) -> None:
        if self.server.state.inline_proposals:
            self.server.protocol.notify(PROPOSAL, self.wire(proposal))
        self.changed(proposal.uri)

    def resolved(self, proposal: Proposal, hunk_ids: Sequence[str]) -> None:
        self.server.protocol.notify(RESOLVED, {
            "proposalId": proposal.id, "uri": proposal.uri, "resolved": proposal.resolved,
            "hunks": [{"id": i, "state": proposal.states[i]} for i in hunk_ids],
        })

    def changed(self, uri: str) -> None:
        publisher = self.server.state.diagnostics
        if publisher is not None:
            publisher.refresh(uri)

    def warn(self, message: str) -> None:
        self.server.notify_user(message, types.MessageType.Warning)

    async def apply(self, proposal: Proposal, text: str, version: int | None, hunks: Sequence[Hunk], *,
                    confirm: bool) -> bool:
        index = self._index(proposal.uri, text)
        encoding = self.server.position_encoding
        builder = WorkspaceEditBuilder(self.server.client_features)
        edits: list[types.TextEdit | types.AnnotatedTextEdit] = []
        for hunk in sorted(hunks, key=lambda h: h.start):
            rng = to_range(index, hunk.start, hunk.end, encoding)
            annotation = f"agentls-{proposal.id}-{hunk.id}"
            if confirm and builder.annotate(annotation, types.ChangeAnnotation(
                    label=f"agent change: {describe(hunk)}", needs_confirmation=True,
                    description=proposal.summary or None)):
                edits.append(types.AnnotatedTextEdit(range=rng, new_text=hunk.new_text, annotation_id=annotation))
            else:
                edits.append(types.TextEdit(range=rng, new_text=hunk.new_text))
        creates = version is None or proposal.kind == "create"  # an open buffer of a new file: create it too
        if creates and await asyncio.to_thread(_missing, proposal.uri) and not builder.create(proposal.uri):
            await asyncio.to_thread(_create_empty, proposal.uri)  # the editor cannot create files: we do
        builder.edit(proposal.uri, version, edits)
        whole = proposal.kind == "delete" and len(hunks) == len(proposal.open_hunks())
        remove = whole and not builder.delete(proposal.uri) and version is None  # else the editor deletes it
        try:
            result = await asyncio.wait_for(self.server.workspace_apply_edit_async(types.ApplyWorkspaceEditParams(
                edit=builder.build(), label="agentls: apply agent change")), APPLY_TIMEOUT_S)
        except TimeoutError:
            log.warning("workspace/applyEdit for %s got no answer in %ss", proposal.uri, APPLY_TIMEOUT_S)
            return False
        if not result.applied:
            log.info("the client did not apply the edit to %s: %s", proposal.uri, result.failure_reason)
        elif remove:
            await asyncio.to_thread(_remove, proposal.uri)  # the editor cannot delete files: we do
        return bool(result.applied)

    # -- what the server's handlers call ----------------------------------------------------------------
    async def present(self, session_id: str, outcome: TaskOutcome, snapshots: dict[str, Snapshot]) -> int:
        """Turn a finished session's changes into proposals; returns how many files have one."""
        runner = self.server.agent

        def locate(path: str) -> tuple[str, int | None]:
            snap = snapshots.get(path)
            return (snap.uri, snap.version) if snap else (runner.uri_for(path), None)

        confirm = self.server.state.settings.review == "confirm"
        return await self.reviewer.present(session_id, outcome, locate, confirm=confirm)

    async def accept(self, raw: dict[str, Any]) -> dict[str, list[str]]:
        from agentls.lsp.params import ReviewParams, parse  # pydantic: kept off the start-up path

        params = parse(ReviewParams, "agentls.accept", raw)
        resolution = await self.reviewer.accept(params.proposal_id, params.hunk_ids, force=params.force)
        if not self.server.state.inline_proposals:  # our clients show the result's warnings; others may not
            for warning in resolution.warnings:
                self.warn(warning)
        return _wire(resolution)

    def proposals(self, raw: dict[str, Any]) -> dict[str, Any]:
        """``agentls.proposals``: every unresolved proposal (of ``uri``), as ``agentls/proposal`` sends them."""
        from agentls.lsp.params import ProposalsParams, parse

        params = parse(ProposalsParams, "agentls.proposals", raw)
        found = []
        for proposal in self.reviewer.pending(params.uri):
            doc = self.server.state.documents.get(proposal.uri)
            if doc is not None:
                self.reviewer.reanchor(proposal, doc.text, doc.version)
            if not proposal.resolved:
                found.append(self.wire(proposal))
        return {"proposals": found}

    async def reject(self, raw: dict[str, Any]) -> dict[str, list[str]]:
        from agentls.lsp.params import ReviewParams, parse

        params = parse(ReviewParams, "agentls.reject", raw)
        return _wire(await self.reviewer.reject(params.proposal_id, params.hunk_ids))

    def drop_session(self, session_id: str) -> None:
        self.reviewer.drop_session(session_id)

    async def until_resolved(self, proposals: Sequence[Proposal]) -> None:
        await self.reviewer.until_resolved(proposals)

    def hunks_at(self, uri: str, start: int, end: int) -> list[tuple[Proposal, Hunk]]:
        return self.reviewer.hunks_at(uri, start, end)

    # -- LSP views ---------------------------------------------------------------------------------------
    def _index(self, uri: str, text: str) -> LineIndex:
        doc = self.server.state.documents.get(uri)
        return doc.lines if doc is not None and doc.text == text else LineIndex(text)

    def wire(self, proposal: Proposal) -> dict[str, Any]:
        """The proposal as clients receive it, hunk ranges in the editor's encoding."""
        data = proposal.to_dict()
        index = self._index(proposal.uri, proposal.base)
        encoding = self.server.position_encoding
        by_id = {h.id: h for h in proposal.open_hunks()}
        for hunk in data["hunks"]:
            source = by_id.get(hunk["id"])
            if source is not None:
                hunk["range"] = _range_dict(to_range(index, source.start, source.end, encoding))
        return data

    def hints(self, doc: OpenDocument | None, uri: str) -> list[types.Diagnostic]:
        """Hint diagnostics on the pending hunks of ``uri`` (re-anchoring them on the open buffer)."""
        diagnostics = []
        encoding = self.server.position_encoding
        for proposal in self.book.for_uri(uri):
            if doc is not None:
                self.reviewer.reanchor(proposal, doc.text, doc.version)
            index = self._index(uri, proposal.base)
            labels = proposal.labels()
            for hunk in proposal.open_hunks():
                conflict = proposal.states[hunk.id] == "conflict"
                what = "conflicts with your edit" if conflict else describe(hunk)
                diagnostics.append(types.Diagnostic(
                    range=to_range(index, hunk.start, hunk.end, encoding),
                    message=f"agent {labels[hunk.id]}: {what} (code actions: accept / reject)",
                    severity=types.DiagnosticSeverity.Hint, source="agentls", code="agentls.proposal",
                    data={"proposalId": proposal.id, "hunkId": hunk.id},
                ))
        self.book.forget_resolved()
        return diagnostics


def _wire(resolution: Resolution) -> dict[str, list[str]]:
    return {"applied": resolution.applied, "rejected": resolution.rejected, "conflicts": resolution.conflicts,
            "warnings": resolution.warnings}


def _remove(uri: str) -> None:
    Path(to_fs_path(uri) or "").unlink(missing_ok=True)


def _missing(uri: str) -> bool:
    path = to_fs_path(uri)
    return bool(path) and not Path(path or "").exists()


def _create_empty(uri: str) -> None:
    path = Path(to_fs_path(uri) or "")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(exist_ok=True)


def describe(hunk: Hunk) -> str:
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
