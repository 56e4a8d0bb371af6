"""A minimal synchronous JSON-RPC client over a subprocess's stdio, for benchmarks."""

from __future__ import annotations

import compileall
import json
import subprocess
import sys
from pathlib import Path
from typing import IO, Any


class StdioClient:
    def __init__(self, command: list[str], env: dict[str, str] | None = None) -> None:
        self.process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env
        )
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        self._in: IO[bytes] = self.process.stdin
        self._out: IO[bytes] = self.process.stdout
        self._next_id = 0
        #: Notifications the server sent while we waited for responses ($/progress, say).
        self.notifications: list[dict[str, Any]] = []

    def notify(self, method: str, params: Any) -> None:
        self._write({"jsonrpc": "2.0", "method": method, "params": params})

    def request(self, method: str, params: Any) -> dict[str, Any]:
        self._next_id += 1
        request_id = self._next_id
        self._write({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params})
        while True:
            message = self._read()
            if message.get("id") == request_id and "method" not in message:
                return message
            if "method" in message and "id" in message:  # a request from the server: answer null
                self._write({"jsonrpc": "2.0", "id": message["id"], "result": None})
            elif "method" in message:
                self.notifications.append(message)

    def _write(self, message: dict[str, Any]) -> None:
        body = json.dumps(message).encode()
        self._in.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        self._in.flush()

    def _read(self) -> dict[str, Any]:
        length = 0
        while True:
            line = self._out.readline()
            if not line:
                raise EOFError("server closed stdout")
            if line in (b"\r\n", b"\n"):
                break
            name, _, value = line.decode().partition(":")
            if name.lower() == "content-length":
                length = int(value)
        result: dict[str, Any] = json.loads(self._out.read(length))
        return result

    def close(self) -> None:
        try:
            self.request("shutdown", None)
            self.notify("exit", None)
            self.process.wait(timeout=5)
        except Exception:
            self.process.kill()
            self.process.wait()


def initialize_params(root_uri: str | None = None, options: Any = None,
                      capabilities: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"processId": None, "rootUri": root_uri, "capabilities": capabilities or {},
            "initializationOptions": options}


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def ensure_bytecode() -> None:
    """Compile agentls's modules, as ``pip install .`` does, before timing a server's start.

    A checkout installed in editable mode has no bytecode until Python writes it on import, and it never does
    with ``PYTHONDONTWRITEBYTECODE`` set (as on this project's CI machine): every start would then compile
    about 60 modules from source (~100 ms), which an installed agentls never does."""
    package = Path(__file__).resolve().parents[1] / "server" / "agentls"
    if not compileall.compile_dir(package, quiet=1):
        print("warning: some agentls modules did not compile", file=sys.stderr)
