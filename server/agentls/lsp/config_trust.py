"""Ask the editor's user once whether to trust the workspace's ``agentls.toml`` (see ``agentls.trust``).

Asked in the background after the settings load, once per exact content of the file; "Trust" records it and
reloads the settings, anything else leaves the sensitive settings out (the settings warning says so).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from agentls.questions import Option, Question

if TYPE_CHECKING:
    from agentls.config import UntrustedConfig
    from agentls.lsp.server import AgentLanguageServer

TRUST_OPTIONS = (Option("trust", "Trust this file", "allow_always"), Option("not_now", "Not now", "reject_once"))


def offer_trust(server: AgentLanguageServer, untrusted: UntrustedConfig | None,
                reload: Callable[[], Awaitable[None]]) -> None:
    """Ask about ``untrusted`` unless this content was asked about already in this server; ``reload`` the
    settings once the user trusts it."""
    if untrusted is None:
        return
    from agentls.trust import digest

    key = f"{untrusted.path}:{digest(untrusted.content)}"
    if key in server.state.trust_asked:
        return
    server.state.trust_asked.add(key)
    server.spawn(_ask(server, untrusted, reload))


async def _ask(server: AgentLanguageServer, untrusted: UntrustedConfig, reload: Callable[[], Awaitable[None]]) -> None:
    question = Question("workspace_config", untrusted.question, TRUST_OPTIONS, default="not_now",
                        detail="Settings left out until then: " + ", ".join(untrusted.keys))
    if await server.runtime.ask(question) != "trust":
        return
    from agentls.trust import trust

    await asyncio.to_thread(trust, untrusted.path, untrusted.content)
    await reload()
