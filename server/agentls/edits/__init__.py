"""Agent edits as reviewable hunks: diffing, applying, 3-way rebasing onto newer text, and proposals.

- ``hunks``: ``Hunk``, ``diff_hunks`` (minimal whole-line hunks), ``apply_hunks``, ``line_range``;
- ``rebase``: ``rebase`` carries hunks made against a base onto the text the user has now, or reports the
  hunks whose lines the user changed (the conflict rules are in its docstring);
- ``proposal``: ``Proposal``, the per-file record the workflow keeps (hunk states), and ``build_proposal``;
- ``lines``: the line-splitting rule (LSP's: ``\\n``, ``\\r\\n``, ``\\r``) and the line diff (trimmed, patience
  anchors) the whole code base uses: ``hunks`` and ``rebase`` here, ``syntax.align``, ``lsp.convert``, the CLIs.

Offsets are Python ``str`` indices (code points); the LSP layer converts to UTF-16. A leaf layer: stdlib only.
"""

from agentls.edits.hunks import Hunk, apply_hunks, diff_hunks, line_range
from agentls.edits.proposal import HunkState, InvalidTransition, Proposal, UnknownHunk, build_proposal
from agentls.edits.rebase import Rebased, rebase

__all__ = [
    "Hunk",
    "HunkState",
    "InvalidTransition",
    "Proposal",
    "Rebased",
    "UnknownHunk",
    "apply_hunks",
    "build_proposal",
    "diff_hunks",
    "line_range",
    "rebase",
]
