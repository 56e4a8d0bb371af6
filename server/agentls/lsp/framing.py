"""Base-protocol framing that recovers from a bad message instead of losing the ones after it.

pygls reads ``Content-Length`` and then exactly that many bytes: a wrong length (too long, too
short), a non-numeric one or stray bytes before a header make it read the following requests as
part of a broken body, and several later requests go unanswered. Here a bad frame costs only
itself: one warning in the log, then everything up to the next ``Content-Length: N\\r\\n`` line is
discarded and reading goes on from there.

The resynchronisation point is reliable because ``Content-Length: <digits>\\r\\n`` (with a raw line
break) can never occur inside a valid JSON body: a raw line break is not allowed inside a JSON
string, and outside one ``Content-Length`` is not JSON. So a body that contains it had a length
that was too long, and is dropped as soon as the next header is seen, without waiting for bytes
that will never come.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import sys
import threading
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, BinaryIO

from pygls.exceptions import JsonRpcException
from pygls.io_ import StdoutWriter
from pygls.protocol import JsonRPCProtocol

log = logging.getLogger(__name__)

#: A header line that starts a message; never found inside a valid JSON body.
HEADER_LINE = re.compile(rb"Content-Length: *(\d+)\r\n")
_FIELD = re.compile(rb"[!#$%&'*+.^_`|~0-9A-Za-z-]+: *[^\r\n]*")
#: How much of a header block is read before it counts as garbage.
MAX_HEADER = 8192
CHUNK = 65536
_MARGIN = 64  # longer than a header line, so one split between two reads is still found


class FrameReader:
    """Split a byte stream into message bodies; a bad frame is skipped up to the next header line."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._length: int | None = None  # the pending body's length, once its header block is read
        self._scanned = 0  # how much of the pending body was searched for a header line
        self._recovering = False  # one warning per bad stretch, not one per discarded piece

    def feed(self, data: bytes) -> Iterator[bytes]:
        """Add ``data``; yield each complete body (call ``accepted`` or ``rejected`` for each)."""
        self._buffer += data
        while self._length is not None or self._read_header():
            body = self._take_body()
            if body is not None:
                yield body
            elif self._length is not None:
                return  # the body is still arriving

    def accepted(self) -> None:
        """The last body was a valid message: the stream is in step again."""
        self._recovering = False

    def rejected(self, body: bytes, reason: str) -> None:
        """The last body was not JSON, so its length was wrong. What follows is skipped up to a header line."""
        self._warn(f"{reason} ({len(body)} bytes)")

    def _read_header(self) -> bool:
        buffer = self._buffer
        while True:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(buffer) > MAX_HEADER:
                    self._warn("a header block with no end")
                    self._skip_to_header(1)
                return False
            length = _content_length(bytes(buffer[:end]))
            if length is not None:
                del buffer[: end + 4]
                self._length, self._scanned = length, 0
                return True
            self._warn(f"a bad header block {bytes(buffer[: min(end, 60)])!r}")
            if not self._skip_to_header(1):
                return False

    def _take_body(self) -> bytes | None:
        """The pending body if it is complete; None while it arrives or once it is dropped (too long)."""
        assert self._length is not None
        buffer, length = self._buffer, self._length
        found = HEADER_LINE.search(buffer, max(0, self._scanned - _MARGIN), min(len(buffer), length + _MARGIN))
        if found is not None and found.start() < length:
            self._warn(f"a body cut short by the next header line (Content-Length {length} too long)")
            del buffer[: found.start()]
            self._length = None
            return None
        self._scanned = min(len(buffer), length)
        if len(buffer) < length:
            return None
        body = bytes(buffer[:length])
        del buffer[:length]
        self._length = None
        return body

    def _skip_to_header(self, start: int) -> bool:
        """Drop what comes before the next header line; without one, all but a tail that may begin it."""
        found = HEADER_LINE.search(self._buffer, start)
        if found is not None:
            del self._buffer[: found.start()]
            return True
        del self._buffer[: max(0, len(self._buffer) - _MARGIN)]
        return False

    def _warn(self, what: str) -> None:
        if not self._recovering:
            self._recovering = True
            log.warning("skipped a malformed message: %s; reading on from the next Content-Length header", what)


def _content_length(block: bytes) -> int | None:
    """The length a header block declares, or None if the block is not a valid header block."""
    length = None
    for line in block.split(b"\r\n"):
        if not _FIELD.fullmatch(line):
            return None
        name, _, value = line.partition(b":")
        if name.lower() == b"content-length":
            if length is not None or not value.strip().isdigit():
                return None
            length = int(value)
    return length


async def run_framed(
    stop_event: threading.Event,
    read_some: Callable[[], Awaitable[bytes]],
    protocol: JsonRPCProtocol,
    error_handler: Callable[[Exception, type[JsonRpcException]], Any],
) -> None:
    """pygls's ``run_async`` with ``FrameReader``: read, split, hand each message to the protocol."""
    frames = FrameReader()
    while not stop_event.is_set():
        data = await read_some()
        if not data:
            break
        for body in frames.feed(data):
            try:
                message = json.loads(body, object_hook=protocol.structure_message)
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                frames.rejected(body, f"a body that is not JSON: {exc}")
                continue
            except Exception as exc:  # valid JSON, not a valid message: pygls's own handling
                frames.accepted()
                log.debug("unable to read a message", exc_info=True)
                error_handler(exc, JsonRpcException)
                continue
            frames.accepted()
            try:
                protocol.handle_message(message)
            except Exception as exc:
                log.exception("unable to handle a message")
                error_handler(exc, JsonRpcException)


def start_io(server: Any, stdin: BinaryIO | None = None, stdout: BinaryIO | None = None) -> None:
    """pygls's ``start_io`` (asynchronous flavour) reading through ``run_framed``."""
    source = stdin or sys.stdin.buffer
    server._stop_event = threading.Event()
    server.protocol.set_writer(StdoutWriter(stdout or sys.stdout.buffer))
    read = getattr(source, "read1", source.read)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        await run_framed(
            server._stop_event,
            lambda: loop.run_in_executor(server.thread_pool, read, CHUNK),
            server.protocol,
            server._report_server_error,
        )

    try:
        asyncio.run(main())
    except BrokenPipeError:
        log.error("the connection to the client is lost; shutting down")
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        server.shutdown()
