"""`FakeMessagesAPI`: a threaded HTTP server speaking the Messages API wire format."""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Iterable, Iterator
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Self

from . import wire
from .binding import BINDING_BETA, Checker
from .catalog import Catalog
from .models import Profile
from .render import Renderer
from .rules import check_model_rules, drop_requested
from .script import (
    DelayFault,
    DropFault,
    ErrorFault,
    Fault,
    Outcome,
    RecordedRequest,
    Reply,
    Responder,
    ScriptItem,
)
from .transport import THREAD_PREFIX, Handler, Server
from .validate import validate_request

MESSAGES_PATH = "/v1/messages"
COUNT_TOKENS_PATH = "/v1/messages/count_tokens"

# streamed by drop / mid-stream error faults that were given no reply of their own
_CUT_SHORT = Reply.text("This reply is cut short by a fault scripted in the fake Messages API.")


def _fake_error(message: str) -> ErrorFault:
    """A 500 for the fake's own problems, marked `x-should-retry: false` so the SDK does not retry it."""
    return Fault.error(500, f"agentls fake Messages API: {message}", should_retry=False)


def describe(outcome: Outcome) -> str:
    if isinstance(outcome, Reply):
        return f"Reply({outcome.resolved_stop_reason()}, {len(outcome.content)} block(s))"
    if isinstance(outcome, ErrorFault):
        where = "" if outcome.after_events is None else f" after {outcome.after_events} events"
        return f"ErrorFault({outcome.status} {outcome.error_type}{where})"
    if isinstance(outcome, DropFault):
        return f"DropFault(after_events={outcome.after_events}{', reset' if outcome.reset else ''})"
    if isinstance(outcome, DelayFault):
        return f"DelayFault({outcome.seconds}s) -> {describe(outcome.then)}"
    return type(outcome).__name__


class FakeMessagesAPI:
    """A scripted stand-in for the Messages API on 127.0.0.1, served from background threads.

    Use it as a context manager (or `start()` / `stop()`); point the SDK at `base_url`, or give a
    subprocess `env()`. Queue replies with `add()`; inspect what was sent in `requests`.
    """

    def __init__(
        self,
        script: Iterable[ScriptItem] = (),
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        validate: bool = True,
        log_path: str | Path | None = None,
        models: Iterable[Profile] = (),
        prefix_check: bool = True,
    ) -> None:
        self._host = host
        self._requested_port = port
        self.validate = validate
        #: models beyond the built-in table (`models.custom(...)`), and the Files API's files
        self.catalog = Catalog({m.id: m for m in models})
        #: enforce the prefix check on thinking blocks (accounts created since 2026-08-31 get it; False is an
        #: older account, where only Fable 5.2 and Mythos 5.2 check it)
        self.prefix_check = prefix_check
        self.renderer = Renderer()
        self._checker = Checker(self.renderer.signer, self.renderer.served_thinking)
        self._log_path = Path(log_path) if log_path is not None else None
        self._lock = threading.RLock()
        self._script: deque[ScriptItem] = deque()
        self._responder: Responder | None = None
        self._requests: list[RecordedRequest] = []
        self._exhausted: list[RecordedRequest] = []
        self._errors: list[str] = []
        self._consumed = 0
        self._stopping = threading.Event()
        self._server: Server | None = None
        self._serve_thread: threading.Thread | None = None
        self._log: IO[str] | None = None
        self.add(*script)

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> Self:
        if self._server is not None:
            raise RuntimeError("FakeMessagesAPI is already running")
        self._stopping.clear()
        self._server = Server((self._host, self._requested_port), self._on_request)
        if self._log_path is not None:
            self._log = self._log_path.open("w", encoding="utf-8")
        self._serve_thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.01},
            name=f"{THREAD_PREFIX}-{self.port}",
            daemon=True,
        )
        self._serve_thread.start()
        return self

    def stop(self) -> None:
        """Stop accepting, cut open connections (keep-alive, delayed or streaming), join every thread
        and close the port. Idempotent."""
        server, self._server = self._server, None
        if server is None:
            return
        self._stopping.set()
        server.shutdown()
        if self._serve_thread is not None:
            self._serve_thread.join()
        server.close_connections()
        for thread in server.connection_threads():
            thread.join(timeout=5)
        server.server_close()
        with self._lock:
            if self._log is not None:
                self._log.close()
                self._log = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("FakeMessagesAPI is not running; use start() or a `with` block")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """For `anthropic.Anthropic(base_url=...)` (the SDK appends `/v1/messages`)."""
        return f"http://{self._host}:{self.port}"

    def env(self, api_key: str = "test-key") -> dict[str, str]:
        """Environment variables that point an SDK client in a subprocess at this fake."""
        return {"ANTHROPIC_BASE_URL": self.base_url, "ANTHROPIC_API_KEY": api_key}

    # -- scripting -------------------------------------------------------------------------------

    def add(self, *items: ScriptItem) -> Self:
        """Queue replies / faults / one-shot callables, each answering one `POST /v1/messages`."""
        for item in items:
            if not isinstance(item, Reply | Fault) and not callable(item):
                raise TypeError(f"expected a Reply, a Fault or a callable, got {item!r}")
        with self._lock:
            self._script.extend(items)
        return self

    def add_file(self, file_id: str, filename: str, data: bytes, mime_type: str = "text/plain") -> Self:
        """A file for the Files API (`GET /v1/files/{id}` and `/content`), as code execution leaves them."""
        self.catalog.add_file(file_id, filename, data, mime_type)
        return self

    def respond_with(self, responder: Responder | None) -> Self:
        """Answer with `responder(request)` whenever the queue is empty (None removes it)."""
        with self._lock:
            self._responder = responder
        return self

    @property
    def remaining(self) -> int:
        """How many queued items have not been served yet."""
        with self._lock:
            return len(self._script)

    # -- recording -------------------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received, in order (a snapshot)."""
        with self._lock:
            return list(self._requests)

    @property
    def message_requests(self) -> list[RecordedRequest]:
        """Only the `POST /v1/messages` requests."""
        return [r for r in self.requests if r.path == MESSAGES_PATH]

    @property
    def last_request(self) -> RecordedRequest:
        with self._lock:
            if not self._requests:
                raise AssertionError("the fake Messages API has received no request")
            return self._requests[-1]

    @property
    def exhausted(self) -> list[RecordedRequest]:
        """Requests that found the script empty (and got the "script exhausted" 500)."""
        with self._lock:
            return list(self._exhausted)

    @property
    def errors(self) -> list[str]:
        """Problems inside the fake itself (a scripted callable that raised, ...)."""
        with self._lock:
            return list(self._errors)

    # -- serving (called from connection threads) ------------------------------------------------

    def _on_request(self, h: Handler, method: str, target: str, headers: dict[str, str], raw: bytes) -> None:
        request, outcome = self._record(method, target, headers, raw)
        self._serve(h, request, outcome)

    def _record(
        self, method: str, target: str, headers: dict[str, str], raw: bytes
    ) -> tuple[RecordedRequest, Outcome | None]:
        """Record a request and decide its outcome (None: count_tokens or the models API, answered by
        the caller)."""
        path, _, query = target.partition("?")
        text = raw.decode("utf-8", errors="replace")
        body: Any = None
        parse_error = False
        if raw:
            try:
                body = json.loads(text)
            except ValueError:
                parse_error = True
        with self._lock:
            request = RecordedRequest(len(self._requests), method, path, query, headers, body, text)
            outcome: Outcome | None = None
            if self.catalog.handles(method, path):
                request.served = self.catalog.describe(path)
            elif method != "POST" or path not in (MESSAGES_PATH, COUNT_TOKENS_PATH):
                outcome = Fault.error(404, f"Not found: {method} {path}", should_retry=False)
                request.served = "not found"
            elif parse_error:
                outcome = Fault.error(400, "There was an error parsing the body of your request as JSON")
                request.served = "invalid request: body is not JSON"
            elif (rejected := self._rejection(request)) is not None:
                outcome = rejected
            elif path == COUNT_TOKENS_PATH:
                request.served = "count_tokens"
            else:
                outcome = self._next_outcome(request)
                request.served = request.served or describe(outcome)
            self._requests.append(request)
            if self._log is not None:
                self._log.write(wire.dumps(request.to_json()) + "\n")
                self._log.flush()
        return request, outcome

    def _rejection(self, request: RecordedRequest) -> ErrorFault | None:
        """The 400 (or 404 for an unknown model) the API would answer instead of a reply."""
        if not self.validate:
            return None
        body = request.body
        counting = request.path == COUNT_TOKENS_PATH
        problem = validate_request(request.path, body)
        if problem is None:
            model = self.catalog.profile(body.get("model"))
            if model is None:
                request.served = "not found: model"
                return Fault.error(404, f"model: {body.get('model')}", should_retry=False)
            problem = check_model_rules(body, model, request.headers, input_tokens=wire.estimate_input_tokens(body),
                                        is_paused_turn=self.renderer.is_paused_turn, count_only=counting)
            if problem is None:
                beta = BINDING_BETA in request.headers.get("anthropic-beta", "")
                prefix_check = model.preserved_thinking and (self.prefix_check or model.prefix_check_always)
                verdict = self._checker.check(body, model=model.id, prefix_check=prefix_check,
                                              drop=drop_requested(body), beta=beta)
                problem = verdict.error
                request.input_transformations = verdict.transformations if beta else None
        if problem is None:
            return None
        request.served = f"invalid request: {problem}"
        return Fault.error(400, problem)

    def _next_outcome(self, request: RecordedRequest) -> Outcome:
        item: ScriptItem
        if self._script:
            item = self._script.popleft()
            self._consumed += 1
        elif self._responder is not None:
            item = self._responder
        else:
            self._exhausted.append(request)
            request.served = "script exhausted"
            return _fake_error(
                f"script exhausted: request #{request.index} ({request.method} {request.path}) came after "
                f"all {self._consumed} scripted item(s) were used. Queue more with fake.add(...) or "
                "fake.respond_with(...)."
            )
        if isinstance(item, Reply | Fault):
            return item
        try:
            outcome = item(request)
        except Exception as exc:
            self._errors.append(f"request #{request.index}: scripted callable raised {exc!r}")
            request.served = "scripted callable raised"
            return _fake_error(f"the scripted callable raised {exc!r}")
        if not isinstance(outcome, Reply | Fault):
            self._errors.append(f"request #{request.index}: scripted callable returned {outcome!r}")
            request.served = "scripted callable returned no Reply/Fault"
            return _fake_error(f"the scripted callable returned {outcome!r}, not a Reply or a Fault")
        request.served = f"callable -> {describe(outcome)}"
        return outcome

    def _serve(self, h: Handler, request: RecordedRequest, outcome: Outcome | None) -> None:
        request_id = wire.new_request_id()
        if outcome is not None:
            self._serve_outcome(h, request, outcome, request_id)
        elif self.catalog.handles(request.method, request.path):
            self.catalog.serve(h, request.path, request_id)
        else:
            h.send_json(200, {"input_tokens": wire.estimate_input_tokens(request.body)}, request_id)

    def _render(self, reply: Reply, request: RecordedRequest) -> dict[str, Any]:
        body = request.body if isinstance(request.body, dict) else {}
        message = self.renderer.render(reply, body, self.catalog.profile(body.get("model")))
        if request.input_transformations is not None:
            message["input_transformations"] = request.input_transformations
        request.response = message
        return message

    def _serve_outcome(self, h: Handler, request: RecordedRequest, outcome: Outcome, request_id: str) -> None:
        if isinstance(outcome, DelayFault):
            if self._stopping.wait(outcome.seconds):
                h.hang_up(reset=False)
            else:
                self._serve_outcome(h, request, outcome.then, request_id)
        elif isinstance(outcome, Reply):
            message = self._render(outcome, request)
            if request.is_stream:
                h.start_stream(request_id)
                self._stream(h, outcome, message)
                h.end_stream()
            else:
                h.send_json(200, message, request_id)
        elif isinstance(outcome, ErrorFault):
            body = wire.error_body(outcome.error_type, outcome.message, request_id)
            if outcome.after_events is not None and request.is_stream:
                reply = outcome.reply or _CUT_SHORT
                h.start_stream(request_id)
                if self._stream(h, reply, self._render(reply, request), outcome.after_events):
                    h.write_chunk(wire.sse_frame("error", body))
                    h.end_stream()
            else:
                h.send_json(outcome.status, body, request_id, _error_headers(outcome))
        elif isinstance(outcome, DropFault):
            reply = outcome.reply or _CUT_SHORT
            message = self._render(reply, request)
            if outcome.after_events is not None and request.is_stream:
                h.start_stream(request_id)
                self._stream(h, reply, message, outcome.after_events)
            elif outcome.after_events is not None:
                h.send_json(200, message, request_id, truncate=True)
            h.hang_up(reset=outcome.reset)

    def _stream(self, h: Handler, reply: Reply, message: dict[str, Any], limit: int | None = None) -> bool:
        """Write the SSE events (the first `limit` of them); False if the fake is stopping."""
        events: Iterator[tuple[str, dict[str, Any]]] = wire.stream_events(message, reply.chunk_size)
        for n, (name, data) in enumerate(events):
            if limit is not None and n >= limit:
                break
            if n and reply.event_delay and self._stopping.wait(reply.event_delay):
                h.hang_up(reset=False)
                return False
            h.write_chunk(wire.sse_frame(name, data))
        return True


def _error_headers(fault: ErrorFault) -> dict[str, str]:
    headers: dict[str, str] = {}
    if fault.retry_after is not None:
        seconds = fault.retry_after
        headers["retry-after"] = str(int(seconds)) if float(seconds).is_integer() else str(seconds)
    if fault.should_retry is not None:
        headers["x-should-retry"] = "true" if fault.should_retry else "false"
    headers.update(fault.headers)
    return headers
