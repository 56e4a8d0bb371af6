"""HTTP plumbing: a keep-alive, chunked-streaming handler and a server that can end every connection."""

from __future__ import annotations

import contextlib
import http
import socket
import struct
import sys
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from . import wire

THREAD_PREFIX = "fake-messages-api"

# (handler, method, target, lower-cased headers, body) -> None; answers through the handler's methods
OnRequest = Callable[["Handler", str, str, dict[str, str], bytes], None]


class Handler(BaseHTTPRequestHandler):
    """One client connection; `send_json` / `start_stream` ... are how a response is written."""

    protocol_version = "HTTP/1.1"  # keep-alive, chunked streams: as the SDK's HTTP client expects
    timeout = 60  # backstop for an idle keep-alive connection
    server: Server

    def setup(self) -> None:
        super().setup()
        # no Nagle: headers, body and each SSE event go out at once (else ~40 ms stalls per response)
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        self._handle()

    def do_GET(self) -> None:
        self._handle()

    def _handle(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        headers = {name.lower(): value for name, value in self.headers.items()}
        try:
            self.server.on_request(self, self.command, self.path, headers, raw)
        except OSError:  # the client went away (e.g. it timed out during a delay)
            self.close_connection = True

    def _begin(self, status: int, request_id: str, content_type: str) -> None:
        try:
            phrase = http.HTTPStatus(status).phrase
        except ValueError:
            phrase = "Overloaded" if status == 529 else "Error"
        self.send_response(status, phrase)
        self.send_header("content-type", content_type)
        self.send_header("request-id", request_id)

    def send_json(
        self,
        status: int,
        obj: object,
        request_id: str,
        headers: dict[str, str] | None = None,
        *,
        truncate: bool = False,
    ) -> None:
        payload = wire.dumps(obj).encode()
        self._begin(status, request_id, "application/json")
        self.send_header("content-length", str(len(payload)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload[: len(payload) // 2] if truncate else payload)

    def send_bytes(self, data: bytes, request_id: str, content_type: str) -> None:
        self._begin(200, request_id, content_type)
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def start_stream(self, request_id: str) -> None:
        self._begin(200, request_id, "text/event-stream; charset=utf-8")
        self.send_header("cache-control", "no-cache")
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()

    def write_chunk(self, data: bytes) -> None:
        self.wfile.write(b"%X\r\n%s\r\n" % (len(data), data))

    def end_stream(self) -> None:
        self.wfile.write(b"0\r\n\r\n")

    def hang_up(self, *, reset: bool) -> None:
        """Close the connection now, mid-response: a FIN, or with `reset` a TCP RST."""
        self.close_connection = True
        if reset:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.server.close_abruptly(self.connection)
        else:
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)


class Server(ThreadingHTTPServer):
    """Tracks its connections and their threads so `FakeMessagesAPI.stop()` can end them all."""

    daemon_threads = True
    block_on_close = False  # we join our own threads in FakeMessagesAPI.stop()

    def __init__(self, address: tuple[str, int], on_request: OnRequest) -> None:
        self.on_request = on_request
        self._conn_lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        self._conn_threads: list[threading.Thread] = []
        self._abrupt: set[socket.socket] = set()
        super().__init__(address, Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        thread = threading.Thread(
            target=self.process_request_thread,
            args=(request, client_address),
            name=f"{THREAD_PREFIX}-{self.server_address[1]}-conn",
            daemon=True,
        )
        with self._conn_lock:
            self._connections.add(request)
            self._conn_threads = [t for t in self._conn_threads if t.is_alive()] + [thread]
        thread.start()

    def close_abruptly(self, connection: socket.socket) -> None:
        """Close `connection` without the usual shutdown(SHUT_WR) first, so SO_LINGER 0 sends an RST."""
        with self._conn_lock:
            self._abrupt.add(connection)

    def shutdown_request(self, request: Any) -> None:
        with self._conn_lock:
            self._connections.discard(request)
            abrupt = request in self._abrupt
            self._abrupt.discard(request)
        if abrupt:
            self.close_request(request)
        else:
            super().shutdown_request(request)

    def close_connections(self) -> None:
        with self._conn_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def connection_threads(self) -> list[threading.Thread]:
        with self._conn_lock:
            return list(self._conn_threads)

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], OSError):  # a client that hung up is not an error here
            return
        super().handle_error(request, client_address)
