"""How a plan step's edits reach the files from the editor: written to disk (auto-apply) or proposed for
review and waited for (``workflows.plan_steps.Applier``)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

from lsprotocol import types

from agentls.errors import AgentlsError

if TYPE_CHECKING:
    from agentls.lsp.server import AgentLanguageServer
    from agentls.plans.models import Plan, Step
    from agentls.workflows.task import TaskOutcome

#: Auto-apply: how long (x 0.1 s) an open document that differs from the disk may take to catch up.
RELOAD_POLLS = 30



def differ_from_disk(root: Path, texts: dict[str, str]) -> list[str]:
    """The paths whose text in ``texts`` is not what the disk holds (blocking: reads files)."""
    found = []
    for rel, text in texts.items():
        try:
            disk: str | None = (root / rel).read_text(encoding="utf-8")
        except OSError:
            disk = None
        if disk != text:
            found.append(rel)
    return found


class AutoApplier:
    """Auto-apply: the step's edits are written to disk (checkpointed before the step), as the CLI does;
    editors reload the files they show. A changed file with unsaved changes in the editor is not
    overwritten: the step fails and says so."""

    commit_before_commands = True

    def __init__(self, ls: AgentLanguageServer) -> None:
        self.ls = ls

    def buffers(self) -> dict[str, str]:
        # The session starts from what the editor shows: a write to disk (``run_command`` commits
        # pending edits first) over a file whose unsaved buffer differs from the disk is an overlay
        # conflict, and nothing is written.
        return {rel: snap.text for rel, snap in self.ls.agent.snapshots().items()}

    async def apply(self, plan: Plan, step: Step, outcome: TaskOutcome) -> list[str]:
        changed = {c.path for c in outcome.overlay.changes()}
        root = self.ls.agent.root

        def texts() -> dict[str, str]:  # on the loop, where the documents change
            return {rel: snap.text for rel, snap in self.ls.agent.snapshots().items() if rel in changed}

        dirty = await asyncio.to_thread(differ_from_disk, root, texts())
        for _ in range(RELOAD_POLLS):  # an editor reloading a file an earlier step wrote: give it a moment
            if not dirty:
                break
            await asyncio.sleep(0.1)
            dirty = await asyncio.to_thread(differ_from_disk, root, texts())
        if dirty:
            raise AgentlsError(f"not applied: {', '.join(dirty)} has unsaved changes in the editor; save or revert "
                               "it, then retry the step")
        return await asyncio.to_thread(outcome.overlay.commit)


class ReviewApplier:
    """Review: the step's edits become proposals; the step waits until the user resolved them all (it
    fails when one was rejected) and saved the accepted files (the next step's checkpoint and the
    verification read the disk)."""

    commit_before_commands = False

    def __init__(self, ls: AgentLanguageServer) -> None:
        self.ls = ls

    def buffers(self) -> dict[str, str]:
        return {}  # proposals are rebased onto the editor's text when presented

    async def apply(self, plan: Plan, step: Step, outcome: TaskOutcome) -> list[str]:
        review = self.ls.review
        snapshots = self.ls.agent.snapshots()
        before = {p.id for p in review.book.all()}
        await review.present(outcome.session_id, outcome, snapshots)
        proposals = [p for p in review.book.all() if p.id not in before]
        try:
            await review.until_resolved(proposals)
        except asyncio.CancelledError:
            review.drop_session(outcome.session_id)  # a cancelled step leaves no proposal behind
            raise
        left = review.reviewer.unapplied(proposals)
        if left:  # the step's work is not in the files: it is not done
            raise AgentlsError(f"not done: {'; '.join(left)}")
        accepted = sorted({p.path for p in proposals if "accepted" in p.states.values()})
        await self._saved(accepted)
        return accepted

    async def _saved(self, paths: list[str]) -> None:
        """Wait until the accepted files open in the editor are saved."""
        waiting = await self._unsaved(paths)
        if waiting:
            self.ls.notify_user(f"save {', '.join(waiting)} to continue the plan (the next step and the checks "
                                "read the files on disk)", types.MessageType.Info)
        while waiting:
            await asyncio.sleep(0.2)
            waiting = await self._unsaved(paths)

    async def _unsaved(self, paths: list[str]) -> list[str]:
        """Which of ``paths`` are open with text that differs from the disk. The editor's texts are taken
        here, on the loop (the documents change there); only the disk is read in a thread."""
        open_texts = {rel: snap.text for rel, snap in self.ls.agent.snapshots().items() if rel in paths}
        return await asyncio.to_thread(differ_from_disk, self.ls.agent.root, open_texts)
