"""``agentls dashboard`` as a user starts it: a subprocess on a free port, its URL read from stdout's first line."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx2 as httpx  # the HTTP client the anthropic SDK brings


class Dashboard:
    def __init__(self, process: subprocess.Popen[str], url: str) -> None:
        self.process = process
        self.url = url
        parts = urlsplit(url)
        self.base = f"{parts.scheme}://{parts.netloc}"
        self.port = parts.port
        self.token = parse_qs(parts.query)["token"][0]
        #: Authorised by the cookie the first visit sets, as a browser is.
        self.client = httpx.Client(base_url=self.base, timeout=30, follow_redirects=True)
        first = self.client.get(url)
        assert first.status_code == 200, first.text
        self.csrf: str = self.client.get("/api/meta").json()["csrf"]

    def get(self, path: str, /, **params: object) -> httpx.Response:
        return self.client.get(path, params={k: v for k, v in params.items() if v is not None})

    def json(self, path: str, /, **params: object) -> dict:  # type: ignore[type-arg]
        response = self.get(path, **params)
        assert response.status_code == 200, (path, response.status_code, response.text)
        return response.json()  # type: ignore[no-any-return]

    def post(self, path: str, body: object, csrf: str | None = "default") -> httpx.Response:
        headers = {} if csrf is None else {"x-csrf-token": self.csrf if csrf == "default" else csrf}
        return self.client.post(path, json=body, headers=headers)

    def wait_for(self, predicate: object, timeout: float = 15.0, what: str = "the dashboard to show it") -> object:
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()  # type: ignore[operator]
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}")
            time.sleep(0.1)


def env_for(home: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "AGENTLS_"))}
    env.update(XDG_CONFIG_HOME=str(home / "config"), AGENTLS_DATA_DIR=str(home / "data"), **(extra or {}))
    return env


@contextmanager
def dashboard(home: Path, *args: str, env: dict[str, str] | None = None) -> Iterator[Dashboard]:
    log = home / "dashboard.log"
    with log.open("w") as stderr:
        process = subprocess.Popen([sys.executable, "-m", "agentls", "dashboard", "--no-open", "--port", "0", *args],
                                   stdout=subprocess.PIPE, stderr=stderr, text=True,
                                   env=env or env_for(home), stdin=subprocess.DEVNULL, cwd=home)
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        if not line.startswith("http://"):
            process.kill()
            process.wait()
            raise AssertionError(f"no URL on stdout: {line!r}; stderr: {log.read_text()}")
        board = Dashboard(process, line)
        try:
            yield board
        finally:
            board.client.close()
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
