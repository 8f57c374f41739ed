"""Rendering dashboard pages: templates, security headers, guards and HTML error pages.

Every dashboard response carries a strict Content-Security-Policy (scripts and styles only
from Scanlet's own static files, nothing inline), and every error a dashboard page meets is
shown as an HTML page, never as problem+json: that stays the API's shape.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Mapping
from importlib import resources
from typing import Any
from urllib.parse import parse_qsl, quote

import jinja2
import structlog
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from scanlet.actors.codes.errors import CodeNotFound
from scanlet.actors.codes.lookalike import shown_target, target_is_lookalike
from scanlet.http.code_address import address_code
from scanlet.http.dashboard.links import code_url, key_url
from scanlet.http.dashboard.session import User, auth, current_user
from scanlet.http.problems import Problem
from scanlet.http.scoping import visible_slug
from scanlet.http.services import services
from scanlet.runtime import ActorCrashed, ActorStopped, AskTimeout, MailboxFull
from scanlet.storage.cursors import InvalidCursor
from scanlet.storage.errors import StorageUnavailable

__all__ = (
    "SECURITY_HEADERS",
    "Page",
    "guarded",
    "redirect",
    "render",
    "static_file",
)

log = structlog.get_logger("scanlet.dashboard")

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
# nosniff, X-Frame-Options and Referrer-Policy come on every response from the app's
# middleware; the dashboard adds the policy for its pages' scripts, styles and images.
SECURITY_HEADERS = {"Content-Security-Policy": CSP}
#: Form bodies are a few fields; anything bigger is not one of ours.
MAX_FORM_BYTES = 64 * 1024

_PACKAGE = resources.files("scanlet.http.dashboard")
STATIC_TYPES = {
    "dashboard.css": "text/css; charset=utf-8",
    "dashboard.js": "text/javascript; charset=utf-8",
    "favicon.svg": "image/svg+xml",
}
_STATIC = {name: (_PACKAGE / "static" / name).read_bytes() for name in STATIC_TYPES}
# A content hash in each URL lets browsers cache the files for good and still see changes.
_VERSIONS = {name: hashlib.sha256(body).hexdigest()[:12] for name, body in _STATIC.items()}


def static_url(name: str) -> str:
    """The cache-busting URL of one of the dashboard's static files."""
    return f"/dashboard/static/{name}?v={_VERSIONS[name]}"


def static_file(name: str) -> tuple[bytes, str] | None:
    """The bytes and media type of a static file, or None when there is no such file."""
    if name not in _STATIC:
        return None
    return _STATIC[name], STATIC_TYPES[name]


_env = jinja2.Environment(
    loader=jinja2.PackageLoader("scanlet.http.dashboard", "templates"),
    # Titles, targets and tags are user input: escape everything unless marked safe.
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_env.globals["static"] = static_url
_env.filters["urlpart"] = lambda value: quote(str(value), safe="")
_env.globals["code_url"] = code_url
_env.globals["key_url"] = key_url
# Targets are shown by the codes context's rule: look-alike hosts in ASCII, with a warning.
_env.filters["shown_target"] = shown_target
_env.filters["lookalike"] = target_is_lookalike


def render(
    request: Request,
    template: str,
    status: int = 200,
    *,
    user: User | None = None,
    headers: Mapping[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    """The page ``template`` rendered with ``context``, with the dashboard's headers."""
    context.setdefault("notice", None)
    body = _env.get_template(template).render(request=request, user=user, **context)
    # no-store: pages carry CSRF tokens and private figures; nothing to keep in caches.
    return HTMLResponse(
        body,
        status_code=status,
        headers={**SECURITY_HEADERS, "Cache-Control": "no-store", **(headers or {})},
    )


def redirect(location: str) -> RedirectResponse:
    """A 303 See Other (after a form post, or to the sign-in page)."""
    return RedirectResponse(location, status_code=303, headers=SECURITY_HEADERS)


def error_page(
    request: Request,
    status: int,
    detail: str,
    *,
    user: User | None = None,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    """An HTML error page."""
    titles = {
        400: "Bad request",
        401: "Not signed in",
        403: "Not allowed",
        404: "Not found",
        413: "Too large",
        415: "Unsupported form",
        422: "Invalid input",
        503: "Busy",
    }
    return render(
        request,
        "error.html",
        status,
        user=user,
        headers=headers,
        title=titles.get(status, "Error"),
        code=status,
        detail=detail,
    )


def same_origin(request: Request) -> bool:
    """Whether a POST comes from a page of this site, by its Fetch Metadata and Origin."""
    # The CSRF token and SameSite cookies are the main guards; these headers are one more.
    # Browsers send Sec-Fetch-Site on every request; Origin may be "null" (Chromium sends
    # that for form posts under some referrer policies), which says nothing either way.
    site = request.headers.get("sec-fetch-site")
    if site is not None and site != "same-origin":
        return False
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return True
    return origin.split("://", 1)[-1] == request.headers.get("host", "")


async def read_form(request: Request) -> dict[str, str]:
    """The fields of an ``application/x-www-form-urlencoded`` body (the last of repeats)."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != "application/x-www-form-urlencoded":
        raise Problem(415, "Dashboard forms are sent as application/x-www-form-urlencoded.")
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise Problem(413, "The form is larger than any dashboard form can be.")
    try:
        # The code form's routing rows: up to 21 rules of 12 fields and 11 split arms.
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=400)
    except (UnicodeDecodeError, ValueError):
        raise Problem(400, "The form could not be read.") from None
    return dict(pairs)


Page = Callable[[Request, User], Awaitable[Response]]


def guarded(
    handler: Page,
    *,
    write: bool = False,
    resource: bool = False,
    raw_body: bool = False,
    admin: bool = False,
) -> Callable[[Request], Awaitable[Response]]:
    """Wrap a page: sign-in, scope and CSRF checks first, HTML error pages for failures.

    Without a session a page redirects to the sign-in form; a ``resource`` (image, stream)
    answers 401 instead. ``write`` pages need a write-scope key. Every POST needs the
    session's CSRF token in the ``csrf`` field; its form is left in ``request.state.form``.
    A ``raw_body`` POST (a file the page's script sends as it is) carries the token in an
    ``X-CSRF-Token`` header instead, and its body is left for the handler to read.
    ``admin`` pages (domains) need the admin role or scope.
    """

    async def run(request: Request) -> Response:
        try:
            user = await current_user(request)
            if user is None:
                if resource:
                    return Response("Sign in first.", 401, headers=SECURITY_HEADERS)
                if request.method != "GET":
                    return redirect("/dashboard/sign-in")
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                return redirect(f"/dashboard/sign-in?next={quote(target, safe='')}")
            if admin and not user.can_admin:
                return error_page(
                    request,
                    403,
                    f"{user.principal.name} acts as {user.principal.role.label}:"
                    " only admins manage this.",
                    user=user,
                )
            if write and not user.can_write:
                return error_page(
                    request,
                    403,
                    f"{user.principal.name} acts as {user.principal.role.label}:"
                    " it can look but not change.",
                    user=user,
                )
            if "slug" in request.path_params:
                # The code's key (its slug and ?domain=); outside a tag limit a code is as
                # absent as one that never was.
                key = address_code(request)
                await visible_slug(services(request), user.principal, key)
            if request.method == "POST":
                form = {} if raw_body else await read_form(request)
                token = request.headers.get("x-csrf-token") if raw_body else form.get("csrf")
                if not same_origin(request) or not auth(request).forms.check(
                    user.session.id, token
                ):
                    return error_page(
                        request,
                        403,
                        "The form has expired; reload the page and try again.",
                        user=user,
                    )
                request.state.form = form
            return await handler(request, user)
        except Problem as exc:
            return error_page(request, exc.status, exc.detail, headers=exc.headers)
        except CodeNotFound as exc:
            return error_page(request, 404, f"There is no code with slug {exc.slug!r}.")
        except InvalidCursor:
            return error_page(request, 400, "That page link is not valid; start again.")
        except (MailboxFull, ActorStopped, ActorCrashed, AskTimeout, StorageUnavailable) as exc:
            log.warning("dashboard unavailable", error=str(exc), path=request.url.path)
            return error_page(
                request, 503, "The server is busy; try again shortly.", headers={"Retry-After": "1"}
            )

    run.__name__ = getattr(handler, "__name__", "page")
    return run


def public(
    handler: Callable[[Request], Awaitable[Response]],
) -> Callable[[Request], Awaitable[Response]]:
    """Wrap a page that needs no session (sign-in): HTML error pages for failures."""

    async def run(request: Request) -> Response:
        try:
            return await handler(request)
        except Problem as exc:
            return error_page(request, exc.status, exc.detail, headers=exc.headers)

    run.__name__ = getattr(handler, "__name__", "page")
    return run
