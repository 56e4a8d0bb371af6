"""The files of a shadow repository that agentls writes itself, and where the repository lives.

Its directory name, its ``config``, ``info/attributes``, the patterns of ``info/exclude`` and the
workspace's own exclude file copied there; all written only when their text changes. Plain text and
paths, no git and no locks: ``ShadowRepo.open`` rewrites them on every open, while ``shadow.py``
keeps the refs, the keys and the repair of a damaged repository.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from pathlib import Path

from agentls.checkpoints.gitcmd import AUTHOR_EMAIL, AUTHOR_NAME


def shadow_dir(data_dir: Path, root: Path) -> Path:
    """Where the shadow repository of the workspace ``root`` (a real path) lives."""
    digest = hashlib.sha256(os.fsencode(root)).hexdigest()[:16]
    name = re.sub(r"[^A-Za-z0-9._-]", "_", root.name)[:40] or "root"
    return data_dir / "checkpoints" / f"{name}-{digest}"


def _config_value(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def config_text(root: Path) -> str:
    settings: dict[str, dict[str, str]] = {
        "core": {
            "repositoryformatversion": "0",
            "filemode": "true",
            "bare": "false",
            "worktree": _config_value(str(root)),
            "hooksPath": os.devnull,
            "excludesFile": os.devnull,
            "attributesFile": os.devnull,
            "autocrlf": "false",
            "safecrlf": "false",
            "symlinks": "true",
            "ignoreCase": "false",
            "precomposeUnicode": "false",
            "logAllRefUpdates": "false",
            "fsmonitor": "false",
            "untrackedCache": "false",
            "splitIndex": "false",
            "sparseCheckout": "false",
            "quotePath": "false",
            "compression": "1",
            "looseCompression": "1",
        },
        "gc": {"auto": "0", "autoDetach": "false", "packRefs": "false", "writeCommitGraph": "false",
               "pruneExpire": "10.minutes.ago", "worktreePruneExpire": "now"},
        "maintenance": {"auto": "false"},
        "commit": {"gpgSign": "false"},
        "tag": {"gpgSign": "false"},
        "user": {"name": AUTHOR_NAME, "email": AUTHOR_EMAIL, "useConfigOnly": "false"},
        "status": {"renames": "false", "relativePaths": "false", "submoduleSummary": "false",
                   "showUntrackedFiles": "all"},
        "diff": {"renames": "false", "noprefix": "false", "mnemonicPrefix": "false", "ignoreSubmodules": "all",
                 "algorithm": "myers"},
        "submodule": {"recurse": "false"},
        "protocol": {"allow": "never"},
        "feature": {"manyFiles": "false"},
        "fetch": {"writeCommitGraph": "false"},
        "advice": {"detachedHead": "false", "addEmbeddedRepo": "false", "statusHints": "false"},
    }
    lines = ["# Written by agentls: the shadow repository of one workspace. Edits are overwritten."]
    for section, values in settings.items():
        lines.append(f"[{section}]")
        lines.extend(f"\t{key} = {value}" for key, value in values.items() if value)
    return "\n".join(lines) + "\n"


ATTRIBUTES = (
    "# Written by agentls: files are stored byte for byte, whatever .gitattributes say.\n"
    "* -text -eol -ident -filter -working-tree-encoding\n"
)


def escape_pattern(rel: str) -> str:
    """An anchored gitignore pattern matching exactly the directory ``rel``."""
    escaped = re.sub(r"([\\*?\[\]!#])", r"\\\1", rel)
    if escaped.endswith(" "):
        escaped = escaped[:-1] + "\\ "
    return f"/{escaped}/"


def user_exclude_file(root: Path) -> Path | None:
    """The workspace's own ``info/exclude`` (``.git`` a directory, or a ``gitdir:`` file), read only."""
    dot_git = root / ".git"
    try:
        if dot_git.is_dir():
            return dot_git / "info" / "exclude"
        if dot_git.is_file():
            text = dot_git.read_text(encoding="utf-8", errors="replace").strip()
            if text.startswith("gitdir:"):
                gitdir = Path(text[len("gitdir:"):].strip())
                if not gitdir.is_absolute():
                    gitdir = root / gitdir
                common = gitdir / "commondir"
                if common.is_file():
                    rel = common.read_text(encoding="utf-8", errors="replace").strip()
                    gitdir = Path(rel) if os.path.isabs(rel) else gitdir / rel
                return gitdir / "info" / "exclude"
    except OSError:
        return None
    return None


def write_if_changed(path: Path, text: str) -> bool:
    """Write ``text`` to ``path`` (a temporary file renamed over it) unless it holds it already;
    returns whether it wrote."""
    data = text.encode("utf-8", "surrogateescape")
    try:
        if path.read_bytes() == data:
            return False
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        pass
    if path.is_dir():
        shutil.rmtree(path)
    tmp = path.with_name(f".{path.name}.agentls-tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return True
