"""One-time sign-in codes: what a browser is opened with, instead of the access token.

A browser started with a URL keeps it in its command line for as long as it runs, and every local user can
read that (``/proc/PID/cmdline``). So the URL a browser is opened with carries a code that is good once and
for ``CODE_TTL_S``, traded for the same cookie as the token; the token itself is printed, not passed on.
Codes are signed (HMAC-SHA256), so whoever holds the key mints them without asking the dashboard: the
dashboard for the browser it opens, and the language server that started it, which passes the key in the
child's environment (readable by the same user only) and mints a code each time the editor opens the page.

No third-party imports: the language server uses ``mint``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time

#: The environment variable a parent passes its key in (hex).
KEY_ENV = "AGENTLS_DASHBOARD_KEY"
#: How long a code is good for, in seconds.
CODE_TTL_S = 120


def _sign(key: bytes, body: str) -> str:
    digest = hmac.new(key, body.encode("ascii"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def mint(key: bytes, now: float | None = None) -> str:
    """A fresh code: ``EXPIRY.NONCE.SIGNATURE``."""
    expiry = int((time.time() if now is None else now) + CODE_TTL_S)
    body = f"{expiry}.{secrets.token_urlsafe(12)}"
    return f"{body}.{_sign(key, body)}"


class Codes:
    """Redeems codes signed with ``key``, each once."""

    def __init__(self, key: bytes) -> None:
        self.key = key
        self._used: dict[str, int] = {}

    def mint(self) -> str:
        return mint(self.key)

    def redeem(self, code: str, now: float | None = None) -> bool:
        """True the first time a well-signed, unexpired code is given; False after, and for anything else."""
        now = time.time() if now is None else now
        expiry_text, _, rest = code.partition(".")
        nonce, _, signature = rest.partition(".")
        if not (expiry_text.isdigit() and len(expiry_text) < 12 and nonce and signature):
            return False
        expiry = int(expiry_text)
        if not now <= expiry <= now + CODE_TTL_S + 5:
            return False
        if not hmac.compare_digest(signature.encode("ascii", "replace"),
                                   _sign(self.key, f"{expiry_text}.{nonce}").encode("ascii")):
            return False
        self._used = {n: e for n, e in self._used.items() if e >= now}  # expired codes fail on their expiry
        if nonce in self._used:
            return False
        self._used[nonce] = expiry
        return True
