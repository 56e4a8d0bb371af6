"""Who may talk to the dashboard: the token, the Host and Origin headers, and the CSRF token of a POST.

The dashboard shows what agents did in the user's code and can restore files, so a page from any other
site must not reach it (a cross-site request, or DNS rebinding through a name that resolves to
127.0.0.1), and neither may another local user (the random token, carried by a cookie after the first
visit). An ASGI middleware, so every route, static file and stream is covered the same way.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import socket
from collections.abc import Iterable
from urllib.parse import parse_qsl, quote, urlencode

from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from agentls.dashboard.codes import Codes

#: Headers on every answer (no inline scripts or styles: the page has none).
SECURITY_HEADERS = [
    (b"content-security-policy",
     b"default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; "
     b"frame-ancestors 'none'; base-uri 'none'; form-action 'self'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-resource-policy", b"same-origin"),
]
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
#: ``Sec-Fetch-Site`` values let through: the page itself, and the user typing the URL. Not ``same-site``:
#: a page served by anything else on localhost (another port) is same-site.
FETCH_SITES = {"same-origin", "none"}
#: Characters a redirect's path keeps as they are (the rest is percent-encoded).
_PATH_SAFE = "/%:@!$&'()*+,;=-._~"
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")


def allowed_hosts(host: str, port: int) -> set[str]:
    """The Host header values the server answers: loopback names, plus (for another ``--host``) that
    address, this machine's names and any IP literal (a rebinding attack comes through a DNS name)."""
    names = set(LOOPBACK_NAMES)
    if host not in ("127.0.0.1", "::1", "localhost"):
        names |= {_bracket(host), socket.gethostname().lower(), socket.getfqdn().lower()}
    return {f"{name}:{port}" for name in names}


def _bracket(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def _is_ip_literal(host: str) -> bool:
    name = host.rsplit(":", 1)[0].strip("[]")
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


class Guard:
    """Token, cookie, Host, Origin and CSRF checks in front of the app (``docs/dashboard.md``)."""

    def __init__(self, app: ASGIApp, *, token: str, csrf: str, hosts: Iterable[str], any_ip: bool = False,
                 codes: Codes | None = None) -> None:
        self.app = app
        self.token = token
        #: One-time sign-in codes (``codes.py``), the other way in besides the token.
        self.codes = codes
        self.csrf = csrf
        self.hosts = {h.lower() for h in hosts}
        self.any_ip = any_ip
        port = next(iter(self.hosts)).rsplit(":", 1)[1] if self.hosts else "0"
        #: Cookies do not separate ports: two dashboards on one machine must not share one.
        self.cookie = f"agentls_dashboard_{port}"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, receive, send)
            return
        if scope["type"] != "http":  # the page uses no websocket: nothing else is answered
            await send({"type": "websocket.close", "code": 1008})
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        host = headers.get("host", "").lower()
        if host not in self.hosts and not (self.any_ip and _is_ip_literal(host)):
            await _refuse(send, 421, "this dashboard does not answer for that host name")
            return
        origin = headers.get("origin")
        if origin is not None and origin.lower() != f"http://{host}":
            await _refuse(send, 403, "cross-origin requests are refused")
            return
        if headers.get("sec-fetch-site", "none") not in FETCH_SITES:
            await _refuse(send, 403, "requests from other sites are refused")
            return
        query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        params = dict(query)
        given, code = params.get("token"), params.get("code")
        if code is not None and scope["method"] == "GET":
            if self.codes is None or not self.codes.redeem(code):
                await _refuse(send, 401, "this sign-in link was used or has expired: open the dashboard again")
                return
            await self._redirect(send, _local_path(scope) + _query_without(query, "code"))
            return
        if given is not None:
            if not hmac.compare_digest(given.encode(), self.token.encode()):
                await _refuse(send, 401, "wrong access token: use the URL `agentls dashboard` printed")
                return
            if scope["method"] == "GET":  # first visit: a cookie, and the token out of the address bar
                await self._redirect(send, _local_path(scope) + _query_without(query, "token"))
                return
        elif not self._authorised(headers):
            await _refuse(send, 401, "no access token: open the URL `agentls dashboard` printed")
            return
        if scope["method"] in UNSAFE_METHODS and not hmac.compare_digest(
                headers.get("x-csrf-token", "").encode(), self.csrf.encode()):
            await _refuse(send, 403, "missing or wrong CSRF token: reload the page")
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *SECURITY_HEADERS]
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _authorised(self, headers: dict[str, str]) -> bool:
        bearer = headers.get("authorization", "")
        if bearer.startswith("Bearer ") and hmac.compare_digest(bearer[7:].encode(), self.token.encode()):
            return True
        # Starlette's lenient parser: another app's malformed cookie on 127.0.0.1 (cookies ignore ports)
        # must not hide ours, as http.cookies would.
        value = cookie_parser(headers.get("cookie", "")).get(self.cookie)
        return value is not None and hmac.compare_digest(value.encode(), self.token.encode())

    async def _redirect(self, send: Send, location: str) -> None:
        cookie = f"{self.cookie}={self.token}; Path=/; HttpOnly; SameSite=Strict"
        await send({"type": "http.response.start", "status": 303,
                    "headers": [(b"location", location.encode("latin-1")), (b"set-cookie", cookie.encode()),
                                (b"cache-control", b"no-store"), (b"content-length", b"0"), *SECURITY_HEADERS]})
        await send({"type": "http.response.body", "body": b""})


def _query_without(query: list[tuple[str, str]], name: str) -> str:
    rest = urlencode([(k, v) for k, v in query if k != name])
    return f"?{rest}" if rest else ""


def _local_path(scope: Scope) -> str:
    """The request's path as sent (still percent-encoded), as a path on this server: never ``//host``."""
    raw = scope.get("raw_path") or scope["path"].encode("utf-8")
    path = quote(raw.decode("latin-1"), safe=_PATH_SAFE)
    return "/" + path.lstrip("/")


async def _refuse(send: Send, status: int, message: str) -> None:
    body = json.dumps({"error": message}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"cache-control", b"no-store"), *SECURITY_HEADERS]})
    await send({"type": "http.response.body", "body": body})
