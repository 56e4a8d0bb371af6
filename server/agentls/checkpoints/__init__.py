"""Checkpoints: every agent step can be undone.

A shadow git repository per workspace (GitPython; the only package that imports ``git``), outside
the workspace, with its own index, hooks off, no user or system git config, the workspace's ignore
rules honoured and nested repositories excluded. The user's own repository is never read for
writing nor modified. See ``manager.py`` for which module does what, ``capture.py`` for how a
checkpoint of known paths avoids a whole-tree scan, and ``shadow.py`` for the layout on disk.
"""

from agentls.checkpoints.manager import Checkpoints
from agentls.checkpoints.model import Checkpoint, FileRestore, RestorePlan, RestoreResult, Trigger
from agentls.errors import CheckpointError

__all__ = ["Checkpoint", "CheckpointError", "Checkpoints", "FileRestore", "RestorePlan", "RestoreResult", "Trigger"]
