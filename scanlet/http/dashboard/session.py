"""Dashboard sessions: a signed cookie naming the API key, re-checked on every request.

The cookie holds ``{key id, nonce, issued at}`` signed with HMAC-SHA256 under a secret kept
in ``server_secrets``; it never holds the key's secret. Each request looks the key up again,
so revoking or expiring a key ends its dashboard sessions at once, and a key's scope is
always the current one. CSRF tokens are HMACs of the session's nonce (or, before sign-in, of
a nonce in a separate cookie), so they need no server-side state either.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from scanlet.http.services import services
from scanlet.storage.keys import ApiKey, Scope
from scanlet.storage.timefmt import parse_time

__all__ = (
    "LOGIN_COOKIE",
    "SESSION_COOKIE",
    "SESSION_SECRET_NAME",
    "Session",
    "SessionSigner",
    "User",
    "current_user",
)

SESSION_COOKIE = "scanlet_session"
LOGIN_COOKIE = "scanlet_login"
SESSION_SECRET_NAME = "dashboard-session-key"
#: How long a session lasts after sign-in (seconds); the key's own expiry also applies.
SESSION_MAX_AGE = 12 * 3600


class Session(msgspec.Struct, frozen=True):
    """What a session cookie says: which key signed in, a nonce, and when (Unix seconds)."""

    k: str
    n: str
    t: int


@dataclass(frozen=True, slots=True)
class User:
    """The signed-in key as the dashboard sees it on this request."""

    key: ApiKey
    session: Session
    csrf: str

    @property
    def can_write(self) -> bool:
        """Whether the key may change codes (write scope or above)."""
        return Scope.parse(self.key.scope) >= Scope.WRITE


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SessionSigner:
    """Signs and checks session cookies and CSRF tokens with one server secret."""

    def __init__(self, secret: bytes, *, max_age: int = SESSION_MAX_AGE) -> None:
        self._secret = secret
        self.max_age = max_age

    def _mac(self, purpose: str, message: bytes) -> bytes:
        # A purpose prefix keeps a signature made for one use from being valid for another.
        return hmac.new(self._secret, purpose.encode() + b"|" + message, hashlib.sha256).digest()

    def issue(self, key_id: str, *, now: float | None = None) -> tuple[str, Session]:
        """A fresh cookie value for ``key_id`` and the session it encodes."""
        session = Session(k=key_id, n=secrets.token_urlsafe(16), t=int(now or time.time()))
        payload = msgspec.json.encode(session)
        return f"{_b64(payload)}.{_b64(self._mac('session', payload))}", session

    def verify(self, cookie: str, *, now: float | None = None) -> Session | None:
        """The session of a cookie this server signed and that has not expired, else None."""
        body, sep, mac = cookie.partition(".")
        if not sep or len(cookie) > 512:
            return None
        try:
            payload, given = _unb64(body), _unb64(mac)
        except (binascii.Error, ValueError):
            return None
        if not hmac.compare_digest(given, self._mac("session", payload)):
            return None
        try:
            session = msgspec.json.decode(payload, type=Session)
        except msgspec.DecodeError:
            return None
        age = (now or time.time()) - session.t
        return session if 0 <= age <= self.max_age else None

    def csrf_token(self, nonce: str, purpose: str = "csrf") -> str:
        """The form token bound to a session (or login) nonce."""
        return _b64(self._mac(purpose, nonce.encode()))

    def check_csrf(self, nonce: str, token: str | None, purpose: str = "csrf") -> bool:
        """Whether ``token`` is the form token of ``nonce``."""
        return token is not None and hmac.compare_digest(token, self.csrf_token(nonce, purpose))


def signer(request: Request) -> SessionSigner:
    """The signer the dashboard feature created at start-up."""
    value: SessionSigner = services(request).extras["dashboard"]
    return value


async def current_user(request: Request) -> User | None:
    """The signed-in user of ``request``, if its session is valid and its key still is."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    sign = signer(request)
    session = sign.verify(cookie)
    if session is None:
        return None
    svc = services(request)
    now = svc.clock.now()
    # Looked up on every request so that a revocation, an expiry or a scope change in the
    # keys table applies to open sessions at once. Keys are few; the list is small.
    for key in await svc.keys.list():
        if key.id != session.k:
            continue
        if key.revoked or (key.expires_at is not None and parse_time(key.expires_at) <= now):
            return None
        return User(key=key, session=session, csrf=sign.csrf_token(session.n))
    return None


def cookie_secure(request: Request) -> bool:
    """Mark cookies Secure when the dashboard is reached over HTTPS (directly or by proxy)."""
    base = services(request).settings.public_base_url
    return request.url.scheme == "https" or base.startswith("https://")


def set_cookie(request: Request, response: Response, name: str, value: str, max_age: int) -> None:
    """Set an HttpOnly, SameSite=Strict cookie for the whole site."""
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="strict",
        secure=cookie_secure(request),
    )


def clear_cookie(request: Request, response: Response, name: str) -> None:
    """Remove a cookie set by :func:`set_cookie`."""
    response.delete_cookie(
        name, path="/", httponly=True, samesite="strict", secure=cookie_secure(request)
    )
