"""Reviewing proposed changes, hunk by hunk: the policy every front end shares.

A finished session's changes become proposals (``present``): one per file (new and deleted files
too), anchored on the text the front end has now. No hunk is ever dropped: as the user types, hunks
are carried with the text (``ProposalBook.reanchor``); one whose lines the user changed becomes a
conflict the user still sees, and the proposal is shown again. Accepting takes a checkpoint first (no
checkpoint, no write), carries the chosen hunks onto what the user typed since and asks the front end
to apply them; a refused apply is carried once more and retried; a conflict is applied only with
``force``. Accepting part of a group of dependent hunks returns warnings (``review_checks``). Every
accept and reject is announced to the front end, published on the session's event stream
(``ChangeResolved``) and wakes ``until_resolved``. Hunks are named by their labels, never their ids.

The front end (``ReviewFrontEnd``) owns the text and the protocol: what the document holds now, how an
edit is applied (``workspace/applyEdit`` for the language server, a file write for an ACP client),
what the user is shown.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from agentls.agent.events import ChangeResolved
from agentls.edits.hunks import Hunk
from agentls.edits.proposal import Proposal, ProposalKind, build_proposal
from agentls.workflows.checkpointing import accept_texts, guard_write
from agentls.workflows.review import ProposalBook
from agentls.workflows.review_checks import group_warnings, syntax_warnings

if TYPE_CHECKING:
    from agentls.runtime import Runtime
    from agentls.workflows.task import TaskOutcome

log = logging.getLogger(__name__)

#: Called right before an accepted change is applied, with the workspace-relative paths it touches
#: and the trigger; raising stops the apply (the checkpoint guard).
BeforeApply = Callable[..., Awaitable[None]]
#: Where a changed file lives in the front end: (uri, version of the text the session saw, or None).
Locate = Callable[[str], tuple[str, int | None]]


class ReviewFrontEnd(Protocol):
    def current(self, proposal: Proposal) -> tuple[str, int | None]:
        """The document's text and version as the user has it now."""
        ...

    async def apply(self, proposal: Proposal, text: str, version: int | None, hunks: Sequence[Hunk], *,
                    confirm: bool) -> bool:
        """Apply ``hunks`` (offsets in ``text``) to the document; ``confirm``: the user confirms each one.
        False: not applied (the editor refused, or its text moved on)."""
        ...

    def can_confirm(self) -> bool:
        """Whether ``apply(confirm=True)`` is possible (``review = "confirm"``)."""
        ...

    def show(self, proposal: Proposal) -> None:
        """A new proposal to review."""
        ...

    def resolved(self, proposal: Proposal, hunk_ids: Sequence[str]) -> None:
        """Hunks of ``proposal`` were resolved (their states are in ``proposal.states``)."""
        ...

    def changed(self, uri: str) -> None:
        """What is pending for ``uri`` changed (the front end refreshes what it shows)."""
        ...

    def warn(self, message: str) -> None:
        """One line for the user."""
        ...


@dataclass
class Resolution:
    applied: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    #: One line each for the user: part of a group accepted, a syntax error the partial accept leaves.
    warnings: list[str] = field(default_factory=list)


class Reviewer:
    """The review of one front end's proposals. With a ``runtime``: resolutions go on its event stream and
    every accept is guarded by a checkpoint of its history."""

    def __init__(self, front: ReviewFrontEnd, runtime: Runtime | None = None) -> None:
        self.front = front
        self.events = runtime.events if runtime is not None else None
        self.book = ProposalBook()
        self.before_apply: BeforeApply | None = None
        if runtime is not None:
            async def checkpoint(paths: list[str], trigger: str, text: str | None = None,
                                 hunks: Sequence[Hunk] = ()) -> None:
                buffers, applied = accept_texts(paths[0], text, hunks)  # the buffer, not the disk
                await guard_write(runtime, paths, trigger=trigger, buffers=buffers, applied=applied,
                                  summary=f"before accepting the agent's change to {', '.join(paths)}")

            self.before_apply = checkpoint
        #: One accept/reject at a time per proposal: its hunks are chosen, checkpointed, applied and
        #: marked before the next request may look at them (otherwise a double click applies twice).
        self._locks: dict[str, asyncio.Lock] = {}
        #: Proposals by the session that produced them (a cancelled session takes its own back).
        self._by_session: dict[str, list[str]] = {}
        self._session_of: dict[str, str] = {}
        #: The labels each proposal was last shown with ("change 2 of 4, line 25"): shown again when they change.
        self._shown: dict[str, dict[str, str]] = {}
        #: Notified whenever hunks are resolved (accepted, rejected, dropped, conflicted).
        self._resolution = asyncio.Condition()
        self._wakers: set[asyncio.Task[None]] = set()

    def _lock(self, proposal_id: str) -> asyncio.Lock:
        return self._locks.setdefault(proposal_id, asyncio.Lock())

    def busy(self, proposal_id: str) -> bool:
        """An accept or reject holds the proposal: its hunks must not change state under it."""
        return self._lock(proposal_id).locked()

    # -- presenting ------------------------------------------------------------------------------
    async def present(self, session_id: str, outcome: TaskOutcome, locate: Locate, *, confirm: bool = False) -> int:
        """Turn a finished session's changes into proposals; returns how many files have one. ``confirm``
        (``review = "confirm"``): apply at once, the front end asking the user hunk by hunk."""
        count = 0
        for change in outcome.overlay.changes():
            uri, version = locate(change.path)
            kind: ProposalKind = "create" if change.before is None else "delete" if change.after is None else "modify"
            after = change.after or ""
            validation = [issue_dict(after, issue.start, issue.message)
                          for issue in outcome.issues.get(change.path, [])]
            proposal = build_proposal(path=change.path, uri=uri, version=version, base=change.before or "",
                                      after=after, summary=outcome.result.summary, validation=validation, kind=kind,
                                      edits=change.edits)
            if proposal is None:
                continue
            current, now = self.front.current(proposal)
            self.book.reanchor(proposal, current, now)
            self.book.add(proposal)
            self._by_session.setdefault(session_id, []).append(proposal.id)
            self._session_of[proposal.id] = session_id
            count += 1
            conflicts = proposal.in_state("conflict")
            if conflicts:
                self.front.warn(f"your edits to {change.path} overlap {_names(proposal, conflicts)}: shown as "
                                "conflicts (accept to use the agent's text, or reject)")
            if validation:
                self.front.warn(f"the proposed change to {change.path} still has syntax errors "
                                f"({validation[0]['message']}, line {validation[0]['line'] + 1})")
            if confirm and self.front.can_confirm() and kind == "modify":
                await self.apply_with_confirmation(proposal)
            else:
                self._show(proposal)
        return count

    def reanchor(self, proposal: Proposal, text: str, version: int | None) -> None:
        """The user's document changed: carry the hunks with it (not while an accept holds it). When a hunk
        moved, became a conflict or its label changed, the proposal is shown again (the same id replaces
        the old rendering)."""
        if self.busy(proposal.id):
            return
        report = self.book.reanchor(proposal, text, version)
        names = proposal.labels()
        if report.conflicts:
            which = " and ".join(names[i] for i in report.conflicts if i in names)
            self.front.warn(f"your edit overlaps the agent's {which} in {proposal.path}: shown as a conflict "
                            "(accept to use the agent's text, or reject)")
        if (report or names != self._shown.get(proposal.id)) and not proposal.resolved:  # moved, or a label changed
            self._show(proposal)

    def _show(self, proposal: Proposal) -> None:
        self._shown[proposal.id] = proposal.labels()
        self.front.show(proposal)

    def pending(self, uri: str | None = None) -> list[Proposal]:
        """Every unresolved proposal (of ``uri``), oldest first."""
        return self.book.for_uri(uri) if uri else self.book.all()

    @staticmethod
    def unapplied(proposals: Sequence[Proposal]) -> list[str]:
        """What of ``proposals`` was not accepted, one phrase per file and state ("x.py: 1 change rejected"),
        for a plan step that must not be called done."""
        counts: dict[tuple[str, str], int] = {}
        for proposal in proposals:
            for state in proposal.states.values():
                if state != "accepted":
                    counts[(proposal.path, state)] = counts.get((proposal.path, state), 0) + 1
        return [f"{path}: {n} change{'s' if n > 1 else ''} {state}" for (path, state), n in counts.items()]

    def hunks_at(self, uri: str, start: int, end: int) -> list[tuple[Proposal, Hunk]]:
        """The pending hunks touching ``[start, end)`` of ``uri``."""
        return [(proposal, hunk) for proposal in self.book.for_uri(uri) for hunk in proposal.open_hunks()
                if hunk.start <= end and start <= max(hunk.end - 1, hunk.start)]

    # -- resolving --------------------------------------------------------------------------------
    async def accept(self, proposal_id: str, hunk_ids: list[str] | None, *, force: bool = False) -> Resolution:
        async with self._lock(proposal_id):
            return await self._accept(self.book.get(proposal_id), hunk_ids, force)

    async def _accept(self, proposal: Proposal, hunk_ids: list[str] | None, force: bool) -> Resolution:
        current, version = self.front.current(proposal)
        if self.book.reanchor(proposal, current, version):
            self._show(proposal)
        hunks, left = self.book.choose(proposal, hunk_ids, force=force)
        labels = proposal.labels()
        warnings = group_warnings(proposal, [h.id for h in hunks], labels)
        applied: list[str] = []
        if hunks:
            if self.before_apply is not None:
                await self.before_apply([proposal.path], "accept", current, hunks)
            ok = await self.front.apply(proposal, current, version, hunks, confirm=False)
            if not ok:  # the editor refused (its text moved on?): carry the hunks onto what it has now, once more
                await asyncio.sleep(0.05)
                current, version = self.front.current(proposal)
                if self.book.reanchor(proposal, current, version):
                    self._show(proposal)
                ids = {h.id for h in hunks}
                hunks = [h for h in proposal.open_hunks() if h.id in ids
                         and (force or proposal.states[h.id] == "pending")]
                left += [h for h in proposal.open_hunks() if h.id in ids and h not in hunks]
                ok = bool(hunks) and await self.front.apply(proposal, current, version, hunks, confirm=False)
            if ok:
                applied = [h.id for h in hunks]
                if len(applied) < len(proposal.open_hunks()):  # partly accepted: does it still parse?
                    warnings += await asyncio.to_thread(syntax_warnings, proposal.path, current, hunks)
            elif hunks:
                self.front.warn(f"the editor did not apply the agent's change to {proposal.path}; it is still "
                                "pending")
        conflicts = [h.id for h in left if proposal.states.get(h.id) == "conflict"]
        proposal.mark(applied, "accepted")
        if conflicts:
            self.front.warn(f"{_names(proposal, left, labels)} in {proposal.path} conflict with your edits and were "
                            "not applied (accept with force to use the agent's text, or reject)")
        self._resolved(proposal, applied)
        self.front.changed(proposal.uri)
        return Resolution(applied=applied, conflicts=conflicts, warnings=warnings)

    async def reject(self, proposal_id: str, hunk_ids: list[str] | None) -> Resolution:
        async with self._lock(proposal_id):
            proposal = self.book.get(proposal_id)
            proposal.select(hunk_ids)  # validates the ids
            # Named hunks may be in conflict: they can be rejected too; "all" means every open hunk.
            rejected = [h.id for h in proposal.open_hunks()] if hunk_ids is None else list(dict.fromkeys(hunk_ids))
            proposal.mark(rejected, "rejected")
        self._resolved(proposal, rejected)
        self.front.changed(proposal.uri)
        return Resolution(rejected=rejected)

    async def apply_with_confirmation(self, proposal: Proposal) -> None:
        """``review = "confirm"``: the front end asks the user, hunk by hunk, while applying."""
        async with self._lock(proposal.id):
            current, version = self.front.current(proposal)
            self.book.reanchor(proposal, current, version)
            hunks, _ = self.book.choose(proposal, None, force=True)
            if hunks and self.before_apply is not None:
                await self.before_apply([proposal.path], "accept", current, hunks)
            ok = bool(hunks) and await self.front.apply(proposal, current, version, hunks, confirm=True)
            ids = [h.id for h in hunks]
            proposal.mark(ids, "accepted" if ok else "rejected")
            self._resolved(proposal, ids)
            self.book.forget_resolved()

    def drop_session(self, session_id: str) -> None:
        """Withdraw the proposals a (cancelled) session produced."""
        for proposal_id in self._by_session.pop(session_id, []):
            try:
                proposal = self.book.get(proposal_id)
            except Exception:
                continue
            pending = [h.id for h in proposal.open_hunks()]
            proposal.mark(pending, "rejected")
            self._resolved(proposal, pending)
            self.front.changed(proposal.uri)
        self.book.forget_resolved()

    async def until_resolved(self, proposals: Sequence[Proposal]) -> None:
        """Wait until every hunk of ``proposals`` is resolved (woken by each resolution, never polling)."""
        async with self._resolution:
            await self._resolution.wait_for(lambda: all(p.resolved for p in proposals))

    def _resolved(self, proposal: Proposal, ids: Sequence[str]) -> None:
        if not ids:
            return
        self.front.resolved(proposal, ids)
        session_id = self._session_of.get(proposal.id)
        if self.events is not None and session_id is not None:
            self.events.publish(session_id, ChangeResolved(
                proposal.path, proposal.id, tuple((i, proposal.states[i]) for i in ids), proposal.resolved))
        if proposal.resolved:
            self._session_of.pop(proposal.id, None)
            self._shown.pop(proposal.id, None)
        waker = asyncio.get_running_loop().create_task(self._wake())
        self._wakers.add(waker)
        waker.add_done_callback(self._wakers.discard)

    async def _wake(self) -> None:
        async with self._resolution:
            self._resolution.notify_all()


def _names(proposal: Proposal, hunks: Sequence[Hunk], labels: dict[str, str] | None = None) -> str:
    """The hunks as the user knows them: "change 2 of 4, line 25 and change 3 of 4, line 30"."""
    names = [(labels or {}).get(h.id) or proposal.label(h.id) for h in hunks]
    return " and ".join(names) if len(names) < 3 else ", ".join(names[:-1]) + " and " + names[-1]


def issue_dict(text: str, offset: int, message: str) -> dict[str, Any]:
    """A validation issue as proposals carry it: 0-based line and column (code points) in the new text."""
    line = text.count("\n", 0, offset)
    return {"line": line, "character": offset - (text.rfind("\n", 0, offset) + 1), "message": message}
