"""Signing in with an email and a password (or, for automation, an API key) and signing out.

The password or key is typed into a form and sent in a POST body, never in a URL; what the
browser keeps is only the session cookie (a random token; HttpOnly, SameSite=Strict). The
sign-in form has its own CSRF token, bound to a nonce cookie, so another site cannot sign a
browser in to its account. Failed password sign-ins count towards the lockout
(``actors.access.lockout``) and all get the same answer, whether the account exists, is
disabled or the password is wrong. Signing out deletes the session on the server, so a copy
of the cookie stops working.
"""

from __future__ import annotations

import secrets
from urllib.parse import quote, unquote, urlsplit

from starlette.requests import Request
from starlette.responses import Response

from scanlet.actors.access.users import FIRST_OWNER_HINT
from scanlet.actors.scans.privacy import client_address
from scanlet.http.dashboard.pages import read_form, redirect, render, same_origin
from scanlet.http.dashboard.session import (
    LOGIN_COOKIE,
    SESSION_COOKIE,
    User,
    auth,
    clear_cookie,
    current_user,
    set_cookie,
)
from scanlet.http.ratelimit import limit_key
from scanlet.http.services import services

__all__ = ("safe_next", "sign_in", "sign_in_form", "sign_out")

_LOGIN_MAX_AGE = 3600
_NOTICES = {"signed-out": "You are signed out."}


_OVERVIEW = "/dashboard"
# Characters a path keeps unencoded when it is written out again (RFC 3986 pchar and "/").
_PATH_SAFE = "/!$&'()*+,;=:@~"


def safe_next(value: str | None) -> str:
    """Where to go after signing in: a dashboard path of this site, else the overview.

    The path is judged in the form the browser will request: percent-decoded, dot segments
    resolved and repeated slashes collapsed, so ``/dashboard/../menu`` and
    ``/dashboard/%2e%2e/menu`` (a short link, which redirects anywhere) are refused. What is
    followed is that normal form, with the query kept and any fragment dropped:
    ``/dashboard//codes/./x?q=1`` -> ``/dashboard/codes/x?q=1``.
    """
    if not value or not value.isprintable() or "\\" in value:
        return _OVERVIEW
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or not parts.path.startswith("/"):
        return _OVERVIEW
    decoded = unquote(parts.path)
    if not decoded.isprintable() or "\\" in decoded:
        return _OVERVIEW
    path = _normalised(decoded)
    if path != _OVERVIEW and not path.startswith(_OVERVIEW + "/"):
        return _OVERVIEW
    return quote(path, safe=_PATH_SAFE) + (f"?{parts.query}" if parts.query else "")


def _normalised(path: str) -> str:
    """``path`` with "." and ".." resolved and empty segments dropped (RFC 3986 5.2.4; ".."
    stops at the root): ``/a//b/./c/../d/`` -> ``/a/b/d``."""
    segments: list[str] = []
    for segment in path.split("/"):
        if segment == "..":
            if segments:
                segments.pop()
        elif segment not in ("", "."):
            segments.append(segment)
    return "/" + "/".join(segments)


async def _form(
    request: Request,
    nonce: str,
    *,
    status: int = 200,
    error: str | None = None,
    key_error: str | None = None,
    email: str = "",
    headers: dict[str, str] | None = None,
) -> Response:
    first_run = not await services(request).storage.users.list()
    response = render(
        request,
        "sign_in.html",
        status,
        headers=headers,
        title="Sign in",
        csrf=auth(request).forms.token(nonce, "login"),
        next=safe_next(request.query_params.get("next")),
        error=error,
        key_error=key_error,
        email=email,
        first_owner=FIRST_OWNER_HINT if first_run else None,
        notice=_NOTICES.get(request.query_params.get("done", "")),
    )
    set_cookie(request, response, LOGIN_COOKIE, nonce, _LOGIN_MAX_AGE)
    return response


def _address(request: Request) -> str:
    """What the lockout counts a client as: its address (X-Forwarded-For believed only from
    trusted proxies, as for scans), an IPv6 client by its /64."""
    peer = request.client.host if request.client else None
    forwarded = ",".join(request.headers.getlist("x-forwarded-for")) or None
    return limit_key(client_address(peer, forwarded, services(request).trusted_networks))


async def sign_in_form(request: Request) -> Response:
    """The sign-in form (or the overview, when already signed in)."""
    if await current_user(request) is not None:
        return redirect(safe_next(request.query_params.get("next")))
    nonce = request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(16)
    if len(nonce) > 64:
        nonce = secrets.token_urlsafe(16)
    return await _form(request, nonce)


async def sign_in(request: Request) -> Response:
    """Check the email and password (or the key); set the session cookie and go on, or show
    the form with the error."""
    form = await read_form(request)
    nonce = request.cookies.get(LOGIN_COOKIE, "")
    dashboard = auth(request)
    if (
        not nonce
        or not same_origin(request)
        or not dashboard.forms.check(nonce, form.get("csrf"), "login")
    ):
        return await _form(
            request,
            secrets.token_urlsafe(16),
            status=403,
            error="The form has expired; please try again.",
        )
    svc = services(request)
    now = svc.clock.now()
    if "key" in form:
        token = form.get("key", "").strip()
        principal = await svc.access.by_token(token, now=now) if token else None
        if principal is None:
            return await _form(
                request,
                nonce,
                status=401,
                key_error="That key is not valid, has expired or was revoked.",
            )
        key_id, user_id = principal.id, None
    else:
        email, password = form.get("email", ""), form.get("password", "")
        address = _address(request)
        if await dashboard.lockout.locked(email, address, now=now):
            return await _form(
                request,
                nonce,
                status=429,
                email=email,
                error="Too many failed sign-ins; try again in 15 minutes.",
                headers={"Retry-After": str(dashboard.lockout.retry_after)},
            )
        user = await svc.users.check_password(email, password)
        if user is None:
            await dashboard.lockout.failed(email, address, now=now)
            return await _form(
                request,
                nonce,
                status=401,
                email=email,
                error="That email and password do not match an active account.",
            )
        key_id, user_id = None, user.id
    previous = request.cookies.get(SESSION_COOKIE)
    if previous:
        # Signing in again (as somebody else, say) ends the session the browser had.
        await dashboard.sessions.end(previous)
    token, _ = await dashboard.sessions.create(key_id, user_id=user_id, now=now)
    response = redirect(safe_next(form.get("next")))
    set_cookie(request, response, SESSION_COOKIE, token, dashboard.cookie_max_age)
    clear_cookie(request, response, LOGIN_COOKIE)
    return response


async def sign_out(request: Request, user: User) -> Response:
    """End the session on the server, then forget the cookie."""
    await auth(request).sessions.end(request.cookies.get(SESSION_COOKIE, ""))
    response = redirect("/dashboard/sign-in?done=signed-out")
    clear_cookie(request, response, SESSION_COOKIE)
    return response
