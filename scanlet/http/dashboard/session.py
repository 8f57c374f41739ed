"""Dashboard sessions: a random token in a cookie, its hash on the server, the key re-checked
on every request.

The cookie holds only a random token (never the API key); the database keeps its SHA-256
(``storage/sessions.py``), so a copy of the database or a backup cannot be turned into a
cookie, and signing out deletes the row, which ends the session even for a copied cookie.
Each request looks the key or the user up again, so revoking or expiring a key or disabling
a user ends their dashboard sessions at once, and a role is always the current one.

CSRF tokens are HMACs of the session's id (or, before sign-in, of a nonce in a separate
cookie) under a key derived from the server key file, which is not in the database either:
they need no server-side state, and reading the database does not let anyone make one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import timedelta

from starlette.requests import Request
from starlette.responses import Response

from scanlet.actors.access.lockout import SignInLockout
from scanlet.actors.access.roles import Principal, Role
from scanlet.http.services import installed, services
from scanlet.storage.ports import SessionRepository
from scanlet.storage.records import StoredSession
from scanlet.storage.server_key import ServerKey

__all__ = (
    "CSRF_PURPOSE",
    "LOGIN_COOKIE",
    "SESSION_COOKIE",
    "DashboardAuth",
    "FormTokens",
    "User",
    "auth",
    "current_user",
)

SESSION_COOKIE = "scanlet_session"
LOGIN_COOKIE = "scanlet_login"
#: How long a session lasts after sign-in; the key's own expiry also applies.
SESSION_MAX_AGE = timedelta(hours=12)
#: How long a session may go unused before it ends.
SESSION_IDLE = timedelta(hours=2)
#: The server key's purpose label for the form-token key derived from it.
CSRF_PURPOSE = "dashboard-csrf"


@dataclass(frozen=True, slots=True)
class User:
    """Who is signed in (a user, or a key for automation) as the dashboard sees it on this
    request."""

    principal: Principal
    session: StoredSession
    csrf: str

    @property
    def can_write(self) -> bool:
        """Whether they may change codes (editor role, write scope, or above)."""
        return self.principal.may(Role.EDITOR)

    @property
    def can_admin(self) -> bool:
        """Whether they may manage the server's settings, such as domains (admin role or
        scope, or above, and not limited to tags or domains: a domain spans every code)."""
        return self.principal.may(Role.ADMIN) and not self.principal.limited


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


class FormTokens:
    """CSRF tokens: HMACs of a nonce under a key that is not stored in the database."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    @classmethod
    def from_server_key(cls, server_key: ServerKey) -> FormTokens:
        """Tokens keyed by the server key's ``dashboard-csrf`` subkey."""
        return cls(server_key.derive(CSRF_PURPOSE))

    def token(self, nonce: str, purpose: str = "csrf") -> str:
        """The form token bound to a session id (or login nonce) and a purpose."""
        # The purpose prefix keeps a login token from passing for a session's, and back.
        message = purpose.encode() + b"|" + nonce.encode()
        return _b64(hmac.new(self._key, message, hashlib.sha256).digest())

    def check(self, nonce: str, token: str | None, purpose: str = "csrf") -> bool:
        """Whether ``token`` is the form token of ``nonce``."""
        return token is not None and hmac.compare_digest(token, self.token(nonce, purpose))


@dataclass(frozen=True, slots=True)
class DashboardAuth:
    """What the dashboard feature builds at start-up: sessions, form tokens and the
    sign-in lockout."""

    sessions: SessionRepository
    forms: FormTokens
    lockout: SignInLockout

    @property
    def cookie_max_age(self) -> int:
        """The session cookie's Max-Age in seconds (the server ends it by then anyway)."""
        return int(self.sessions.max_age.total_seconds())


def auth(request: Request) -> DashboardAuth:
    """The dashboard's sessions and form tokens, made by the feature at start-up."""
    return installed(services(request).dashboard, "dashboard")


async def current_user(request: Request) -> User | None:
    """The signed-in user of ``request``, if its session is live and its key still valid."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    svc = services(request)
    now = svc.clock.now()
    dashboard = auth(request)
    session = await dashboard.sessions.find(cookie, now=now)
    if session is None:
        return None
    # Looked up on every request so that a revoked or expired key, a disabled user or a
    # changed role applies to open sessions at once.
    principal = await svc.access.by_session(session, now=now)
    if principal is None:
        return None
    return User(principal=principal, session=session, csrf=dashboard.forms.token(session.id))


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
