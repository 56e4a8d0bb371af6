"""The context engine inside the server: the index builds at start-up, follows the buffers, and an
inline edit's first request to the model carries the definitions its selection uses."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from lsprotocol import types

from tests.e2e.harness import CLIENTS, RecordingClient, _plain, change_document, open_document, start
from tests.fakes.messages_api import FakeMessagesAPI, Reply

BILLING = '''\
TAX_RATE = 0.2


def compute_invoice_total(lines, discount=0):
    """Sum the lines, apply the discount and the tax."""
    subtotal = sum(line.amount for line in lines)
    return (subtotal - discount) * (1 + TAX_RATE)
'''
CHECKOUT = '''\
from billing import compute_invoice_total


def checkout(cart):
    total = compute_invoice_total(cart.lines, cart.discount)
    return total
'''


async def _start(request: pytest.FixtureRequest, tmp_path: Path,
                 fake: FakeMessagesAPI) -> tuple[RecordingClient, Path]:
    workspace = tmp_path / "workspace"
    (workspace / "shop").mkdir(parents=True)
    (workspace / "billing.py").write_text(BILLING)
    (workspace / "shop" / "checkout.py").write_text(CHECKOUT)
    client, _ = await start(request.param, workspace, tmp_path / "home", initialization_options={
        "inlineProposals": True}, env=fake.env())
    return client, workspace


@pytest_asyncio.fixture(params=CLIENTS)
async def session(request: pytest.FixtureRequest, tmp_path: Path,
                  fake_messages_api: FakeMessagesAPI) -> AsyncIterator[tuple[RecordingClient, Path]]:
    client, workspace = await _start(request, tmp_path, fake_messages_api)
    yield client, workspace
    await client.shutdown_session()
    await client.stop()


async def _edit(client: RecordingClient, uri: str, instruction: str, start: int, end: int) -> Any:
    version = client.documents[uri][0]
    return _plain(await client.workspace_execute_command_async(types.ExecuteCommandParams(
        command="agentls.edit", arguments=[{"uri": uri, "version": version, "instruction": instruction,
                                            "range": {"start": {"line": start, "character": 0},
                                                      "end": {"line": end, "character": 0}}}])))


def _first_text(request: Any) -> str:
    return "".join(block.get("text", "") for block in request.body["messages"][0]["content"])


async def test_indexing_reports_progress(session: tuple[RecordingClient, Path]) -> None:
    client, _ = session

    def ended() -> list[Any]:
        return [r for reports in client.progress_reports.values() for r in reports
                if isinstance(r, types.WorkDoneProgressEnd) and "files indexed" in (r.message or "")]

    await client.wait_until(ended, timeout=30)
    assert ended()[0].message == "2 files indexed"
    begins = [r for reports in client.progress_reports.values() for r in reports
              if isinstance(r, types.WorkDoneProgressBegin) and r.title == "agentls: indexing"]
    assert begins


async def test_an_edit_carries_the_definitions_its_selection_uses(
        session: tuple[RecordingClient, Path], fake_messages_api: FakeMessagesAPI) -> None:
    client, workspace = session
    fake_messages_api.add(Reply.text("Nothing to change."))
    uri = open_document(client, workspace / "shop" / "checkout.py", "python", CHECKOUT)
    await _edit(client, uri, "round the total to cents", 4, 6)
    await client.wait_until(lambda: fake_messages_api.message_requests, timeout=30)
    text = _first_text(fake_messages_api.message_requests[0])
    assert "<instruction>\nround the total to cents\n</instruction>" in text
    assert "billing.py:4 (function compute_invoice_total)" in text
    assert "return (subtotal - discount) * (1 + TAX_RATE)" in text  # the body, from the other file
    assert "<imports" in text
    assert "from billing import compute_invoice_total" in text
    assert "[function checkout, lines 4-6]" in text


async def test_unsaved_buffers_are_what_the_edit_sees(
        session: tuple[RecordingClient, Path], fake_messages_api: FakeMessagesAPI) -> None:
    client, workspace = session
    fake_messages_api.add(Reply.text("Nothing to change."))
    billing_uri = open_document(client, workspace / "billing.py", "python", BILLING)
    new_billing = BILLING + "\n\ndef apply_store_credit(total, credit):\n    return max(0, total - credit)\n"
    change_document(client, billing_uri, 2, (0, 0), (BILLING.count("\n"), 0), new_billing)
    uri = open_document(client, workspace / "shop" / "checkout.py", "python", CHECKOUT)
    new_checkout = CHECKOUT.replace("    return total", "    total = apply_store_credit(total, cart.credit)\n"
                                    "    return total")
    change_document(client, uri, 2, (0, 0), (CHECKOUT.count("\n"), 0), new_checkout)
    await _edit(client, uri, "handle a missing credit", 4, 7)
    await client.wait_until(lambda: fake_messages_api.message_requests, timeout=30)
    text = _first_text(fake_messages_api.message_requests[0])
    assert "billing.py:10 (function apply_store_credit)" in text
    assert "return max(0, total - credit)" in text
    assert not (workspace / "billing.py").read_text().count("apply_store_credit")  # never saved


async def test_files_changed_on_disk_reach_the_index_through_the_watcher(
        tmp_path: Path, fake_messages_api: FakeMessagesAPI) -> None:
    """VS Code registers file watchers dynamically (the Neovim capability set here does not)."""
    workspace = tmp_path / "workspace"
    (workspace / "shop").mkdir(parents=True)
    (workspace / "billing.py").write_text(BILLING)
    client, _ = await start("visual_studio_code", workspace, tmp_path / "home",
                            initialization_options={"inlineProposals": True}, env=fake_messages_api.env())
    try:
        await client.wait_until(lambda: client.registrations, timeout=30)
        assert client.registrations[0].method == types.WORKSPACE_DID_CHANGE_WATCHED_FILES
        fake_messages_api.add(Reply.text("Nothing to change."))
        (workspace / "shipping.py").write_text("def shipping_cost(weight):\n    return 4 + weight * 0.5\n")
        client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(changes=[
            types.FileEvent(uri=(workspace / "shipping.py").as_uri(), type=types.FileChangeType.Created)]))
        text = CHECKOUT.replace("    return total", "    return total + shipping_cost(cart.weight)")
        uri = open_document(client, workspace / "shop" / "checkout.py", "python", text)
        await _edit(client, uri, "free shipping over 100", 4, 6)
        await client.wait_until(lambda: fake_messages_api.message_requests, timeout=30)
        first = _first_text(fake_messages_api.message_requests[0])
        assert "shipping.py:1 (function shipping_cost)" in first
        assert "return 4 + weight * 0.5" in first
    finally:
        await client.shutdown_session()
        await client.stop()


async def test_a_document_opened_already_modified_is_indexed_from_its_buffer(
        session: tuple[RecordingClient, Path], fake_messages_api: FakeMessagesAPI) -> None:
    """Editors restore unsaved buffers at start-up (VS Code's hot exit): didOpen carries the modified text."""
    client, workspace = session
    fake_messages_api.add(Reply.text("Nothing to change."))
    restored = BILLING + "\n\ndef loyalty_discount(total):\n    return total * 0.05\n"
    open_document(client, workspace / "billing.py", "python", restored)
    text = CHECKOUT.replace("    return total", "    return total - loyalty_discount(total)")
    uri = open_document(client, workspace / "shop" / "checkout.py", "python", text)
    await _edit(client, uri, "cap the discount", 4, 6)
    await client.wait_until(lambda: fake_messages_api.message_requests, timeout=30)
    first = _first_text(fake_messages_api.message_requests[0])
    assert "billing.py:10 (function loyalty_discount)" in first
