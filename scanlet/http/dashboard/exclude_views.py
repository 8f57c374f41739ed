"""``/dashboard/exclude-me``: this browser's scans are the owner's own (test scans, the
office printer's proofs), recorded as ``excluded`` and left out of every figure.

A signed-in page with a form (CSRF-checked like every dashboard post), not a link: a
cookie that hides scans from the figures must not be set by a page elsewhere tricking a
visitor's browser into a GET.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from scanlet.http.dashboard.pages import redirect, render
from scanlet.http.dashboard.session import User, cookie_secure
from scanlet.http.scan_path import EXCLUDE_COOKIE

__all__ = ("EXCLUDE_MAX_AGE", "exclude_me", "exclude_me_form")

#: 400 days, the longest a browser keeps a cookie (Chrome caps Max-Age there, RFC 6265bis).
EXCLUDE_MAX_AGE = 400 * 24 * 3600


async def exclude_me_form(request: Request, user: User) -> Response:
    """Whether this browser is excluded, and the button that changes it."""
    excluded = request.cookies.get(EXCLUDE_COOKIE) == "1"
    return render(request, "exclude_me.html", user=user, excluded=excluded, title="Your own scans")


async def exclude_me(request: Request, user: User) -> Response:
    """Set (``exclude=1``) or clear the cookie, then show the page again."""
    response = redirect("/dashboard/exclude-me")
    if request.state.form.get("exclude") == "1":
        # Lax, not Strict like the session: a scan is a navigation from a camera app or
        # another site, and Strict cookies stay behind on those.
        response.set_cookie(
            EXCLUDE_COOKIE,
            "1",
            max_age=EXCLUDE_MAX_AGE,
            path="/",
            httponly=True,
            samesite="lax",
            secure=cookie_secure(request),
        )
    else:
        response.delete_cookie(
            EXCLUDE_COOKIE, path="/", httponly=True, samesite="lax", secure=cookie_secure(request)
        )
    return response
