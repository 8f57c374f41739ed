"""Signing in with an API key and signing out.

The key is typed into a form and sent in a POST body, never in a URL; what the browser keeps
is only the session cookie (a random token; HttpOnly, SameSite=Strict). The sign-in form has
its own CSRF token, bound to a nonce cookie, so another site cannot sign a browser in to its
key. Signing out deletes the session on the server, so a copy of the cookie stops working.
"""

from __future__ import annotations

import secrets
from urllib.parse import quote, unquote, urlsplit

from starlette.requests import Request
from starlette.responses import Response

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


def _form(request: Request, nonce: str, *, status: int = 200, error: str | None = None) -> Response:
    response = render(
        request,
        "sign_in.html",
        status,
        title="Sign in",
        csrf=auth(request).forms.token(nonce, "login"),
        next=safe_next(request.query_params.get("next")),
        error=error,
        notice=_NOTICES.get(request.query_params.get("done", "")),
    )
    set_cookie(request, response, LOGIN_COOKIE, nonce, _LOGIN_MAX_AGE)
    return response


async def sign_in_form(request: Request) -> Response:
    """The sign-in form (or the overview, when already signed in)."""
    if await current_user(request) is not None:
        return redirect(safe_next(request.query_params.get("next")))
    nonce = request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(16)
    if len(nonce) > 64:
        nonce = secrets.token_urlsafe(16)
    return _form(request, nonce)


async def sign_in(request: Request) -> Response:
    """Check the key; set the session cookie and go on, or show the form with the error."""
    form = await read_form(request)
    nonce = request.cookies.get(LOGIN_COOKIE, "")
    dashboard = auth(request)
    if (
        not nonce
        or not same_origin(request)
        or not dashboard.forms.check(nonce, form.get("csrf"), "login")
    ):
        return _form(
            request,
            secrets.token_urlsafe(16),
            status=403,
            error="The form has expired; please try again.",
        )
    svc = services(request)
    token = form.get("key", "").strip()
    key = await svc.keys.authenticate(token, now=svc.clock.now()) if token else None
    if key is None:
        return _form(
            request,
            nonce,
            status=401,
            error="That key is not valid, has expired or was revoked.",
        )
    previous = request.cookies.get(SESSION_COOKIE)
    if previous:
        # Signing in again (another key, say) ends the session the browser had.
        await dashboard.sessions.end(previous)
    token, _ = await dashboard.sessions.create(key.id, now=svc.clock.now())
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
