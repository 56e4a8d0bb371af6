"""What an ACP prompt brings: its text, the files it attaches (read through the client when it offers that, so
unsaved typing is what the model sees; a deny-listed or outside file is never shown), its images."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlparse

from acp import RequestError

from agentls.errors import AgentlsError

if TYPE_CHECKING:
    from agentls.acp.session import AcpSession

log = logging.getLogger(__name__)

IMAGE_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp")

#: An attached file's text is put in the prompt up to this many characters (the model can view the rest).
ATTACHED_CHARS = 100_000


def _attached(path: str, text: str | None) -> str:
    if text is None:
        return f"(attached file: {path})"
    shown = text if len(text) <= ATTACHED_CHARS else text[:ATTACHED_CHARS] + "\n[... cut: view the file for the rest]"
    return f"Attached file {path}:\n```\n{shown}\n```"


def _read_small(path: Path) -> str | None:
    try:
        if path.stat().st_size > 4 * ATTACHED_CHARS:
            return None
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


async def read_prompt(conn: Any, reads: bool, session: AcpSession, prompt: list[Any],
                      ) -> tuple[str, dict[str, str], list[str], list[tuple[str, str]]]:
    """The prompt as text, the buffers it brings (files read through the client: unsaved text), its files,
    its images."""
    parts: list[str] = []
    images: list[tuple[str, str]] = []
    buffers: dict[str, str] = {}
    files: list[str] = []
    for block in prompt:
        kind = getattr(block, "type", "")
        if kind == "text":
            parts.append(block.text)
        elif kind == "resource_link":
            relative = _relative(session, block.uri)
            if relative is None:
                parts.append(f"(attached: {block.uri})")
                continue
            files.append(relative)
            text = None
            if reads:  # the editor's text, unsaved typing included
                try:
                    read = await conn.read_text_file(session_id=session.id, path=str(session.root / relative))
                    text = buffers[relative] = read.content
                except (RequestError, ConnectionError) as exc:
                    log.info("could not read %s through the client: %s", relative, exc)
            if text is None:
                text = await asyncio.to_thread(_read_small, session.root / relative)
            parts.append(_attached(relative, text))
        elif kind == "resource":
            resource = block.resource
            relative = _relative(session, resource.uri)
            text = getattr(resource, "text", None)
            if relative is not None and text is not None:
                files.append(relative)
                buffers[relative] = text
                parts.append(_attached(relative, text))
            elif text is not None and not _in_workspace(session, resource.uri):
                parts.append(f"Attached {resource.uri}:\n{text}")
            else:
                parts.append(f"(attached {resource.uri} left out: agentls may not show it to the model)")
        elif kind == "image" and block.mime_type in IMAGE_TYPES and block.data:
            images.append((block.mime_type, block.data))
        elif kind in ("image", "audio"):
            parts.append(f"(an attached {kind} was left out: the model takes jpeg, png, gif or webp images)")
    return "\n".join(parts), buffers, files, images


def _in_workspace(session: AcpSession, uri: str) -> bool:
    parsed = urlparse(uri)
    return parsed.scheme == "file" and Path(unquote(parsed.path)).resolve().is_relative_to(session.root)


def _relative(session: AcpSession, uri: str) -> str | None:
    """The workspace path of an attached file; None outside the workspace or deny-listed (never shown)."""
    from agentls.acp.turn import workspace_of

    parsed = urlparse(uri)
    path = Path(unquote(parsed.path)) if parsed.scheme == "file" else Path(uri) if uri.startswith("/") else None
    if path is None:
        return None
    try:
        workspace = workspace_of(session)
        relative: str = workspace.relative(workspace.resolve(path))
        return relative
    except (AgentlsError, OSError, ValueError):
        return None

