"""``FrameReader``: bodies out of a byte stream, whatever the read boundaries; a bad frame skipped."""

from __future__ import annotations

import json

import pytest

from agentls.lsp.framing import FrameReader


def frame(body: bytes, length: int | str | None = None) -> bytes:
    return b"Content-Length: %s\r\n\r\n%s" % (str(len(body) if length is None else length).encode(), body)


def read(stream: bytes, chunk: int) -> list[bytes]:
    reader, bodies = FrameReader(), []
    for i in range(0, len(stream), chunk):
        for body in reader.feed(stream[i:i + chunk]):
            try:
                json.loads(body)
            except ValueError:
                reader.rejected(body, "not JSON")
                continue
            reader.accepted()
            bodies.append(body)
    return bodies


GOOD = [json.dumps({"id": i, "text": "Content-Length: 5 inside a string\\r\\n" * i}).encode() for i in range(3)]


@pytest.mark.parametrize("chunk", [1, 7, 64, 1 << 20])
@pytest.mark.parametrize("bad", [
    frame(b'{"id": 9}', 400), frame(b'{"id": 9}', 4), frame(b'{"id": 9}', "x"), b"junk \x00 no newline",
    frame(b"{not json"), b"Content-Length: 3\r\nX-Bad header\r\n\r\n{}]", b"\r\n\r\n\r\n",
])
def test_a_bad_frame_costs_only_itself(bad: bytes, chunk: int) -> None:
    stream = frame(GOOD[0]) + bad + frame(GOOD[1]) + frame(GOOD[2])
    assert read(stream, chunk) == GOOD


def test_other_headers_and_a_large_body() -> None:
    big = json.dumps({"text": "x" * 3_000_000}).encode()
    stream = b"Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n" + frame(big) + frame(GOOD[1])
    assert read(stream, 65536) == [big, GOOD[1]]
