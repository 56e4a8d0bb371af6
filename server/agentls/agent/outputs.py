"""Files the code execution tool produced, offered to the user the normal way: as new files in the overlay.

Code execution runs in Anthropic's sandbox; a file the model leaves in its output directory comes back
as a file id. agentls downloads it after the session and writes it into the session's overlay, so it
reaches the workspace only as a proposal the user accepts (the editor) or a change the user applies
(``agentls run``), after a checkpoint, like any edit of the agent. The overlay holds text: a binary
file (a PNG chart, say) is listed with its size and not saved; the system prompt asks for text formats
(CSV, SVG) when code execution is on.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import PurePosixPath

from agentls.agent.overlay import Overlay
from agentls.agent.server_tools import ProducedFile
from agentls.errors import AgentlsError
from agentls.providers.base import Provider

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Output:
    """One produced file: where it was proposed (``path``), or why it was not."""

    file_id: str
    name: str
    path: str | None
    note: str = ""


def _free_name(overlay: Overlay, name: str) -> str:
    """``name`` at the workspace root, or ``stem-2.ext``... when that is taken."""
    candidate, stem, suffix, n = name, PurePosixPath(name).stem, PurePosixPath(name).suffix, 1
    while overlay.exists(candidate):
        n += 1
        candidate = f"{stem}-{n}{suffix}"
    return candidate


async def collect(provider: Provider, produced_files: list[ProducedFile], overlay: Overlay,
                  max_bytes: int) -> list[Output]:
    """Download every file the session's code execution produced into ``overlay`` (text files only)."""
    outputs: list[Output] = []
    for produced in produced_files:
        try:
            name, data = await provider.download(produced.file_id, max_bytes)
        except AgentlsError as exc:
            outputs.append(Output(produced.file_id, produced.file_id, None, f"not downloaded: {exc}"))
            continue
        name = PurePosixPath(name).name or produced.file_id
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            outputs.append(Output(produced.file_id, name, None, f"binary ({len(data):,} bytes): not saved"))
            continue
        try:
            path = overlay.write(_free_name(overlay, name), text)
        except (AgentlsError, OSError) as exc:
            outputs.append(Output(produced.file_id, name, None, f"not saved: {exc}"))
            continue
        log.info("code execution produced %s: proposed as %s", name, path)
        outputs.append(Output(produced.file_id, name, path))
    return outputs
