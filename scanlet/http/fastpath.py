"""The scan path's common case as raw ASGI, in front of the Starlette app.

Most requests a QR server sees are ``GET /{slug}`` for a live code. Taking those through
Starlette's middleware, exception handlers and a router that tries every other route first
cost more than recording the scan (measured in-process: about 9 us per request for a bare
Starlette redirect, 60 us for the same through the full stack). This front answers exactly
that case: a live code, a plain GET, no tracing asked for. Everything else (HEAD, unknown or
inactive slugs, a used-up code, a request carrying ``traceparent``, tracing switched on) goes
to the full app, which owns every rule; the front decides only whether it can skip the
ceremony, never how a scan is judged.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

import structlog
from starlette.types import ASGIApp, Receive, Scope, Send

from scanlet.actors.codes.index import Route
from scanlet.actors.events import Source
from scanlet.actors.scans.messages import RecordScan
from scanlet.actors.scans.privacy import client_address
from scanlet.http.middleware import (
    MAX_HEADER_BYTES,
    MAX_HEADERS,
    MAX_URL_BYTES,
    SECURITY_HEADERS,
    HttpMetrics,
)
from scanlet.http.problems import Problem, problem_response
from scanlet.http.ratelimit import ScanLimits, limit_key
from scanlet.http.redirect import trusted_country
from scanlet.observability.tracing import Tracing
from scanlet.runtime import ActorError, MailboxFull
from scanlet.storage.errors import StorageUnavailable

__all__ = ("ScanFastPath", "ServicesBox")

log = structlog.get_logger("scanlet.http")


class ServicesBox:
    """Filled by the lifespan once the services exist (the middleware is built before)."""

    services: Any = None


_NO_STORE = (b"cache-control", b"private, max-age=0")
_EMPTY = (b"content-length", b"0")
_LINK, _QR = "/{slug}", "/q/{slug}"
_UNAVAILABLE = StorageUnavailable("the scans actor is not available")


class ScanFastPath:
    """Answers live-code scans directly; hands every other request to ``app``."""

    def __init__(
        self,
        app: ASGIApp,
        state: ServicesBox,
        metrics: HttpMetrics,
        tracing: Tracing,
        limits: ScanLimits | None = None,
    ) -> None:
        self.app = app
        # Only the optional per-address redirect limit is checked here; unknown slugs (and
        # their limiter) are the full app's business, so a live-code scan never pays for it.
        self._redirect_limit = limits.redirect if limits is not None else None
        self.state = state
        self.tracing_enabled = tracing.enabled
        self._duration = metrics.duration
        self._observers: dict[tuple[str, int], Any] = {}
        # SCANLET_COUNTRY_HEADER as ASGI spells header names (b"" when unset: never matches).
        self._country_header: bytes | None = None

    def _observe(self, route: str, status: int, seconds: float) -> None:
        observe = self._observers.get((route, status))
        if observe is None:
            observe = self._observers[(route, status)] = self._duration.observer(
                route, "GET", str(status)
            )
        observe(seconds)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] != "GET"
            or self.tracing_enabled
            # Oversized requests: the full app's limits middleware answers 414/431.
            or len(scope["query_string"]) > MAX_URL_BYTES
            or len(scope["headers"]) > MAX_HEADERS
        ):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        path: str = scope["path"]
        if path.startswith("/q/"):
            slug, template = path[3:], _QR
        else:
            slug, template = path[1:], _LINK
        svc = getattr(self.state, "services", None)
        route = svc.index.resolve(slug) if svc is not None and slug else None
        if route is None or svc is None:
            await self.app(scope, receive, send)
            return
        now = svc.clock.now()
        if route.gone_reason(now) is not None:
            await self.app(scope, receive, send)
            return
        user_agent = referrer = forwarded = country = None
        country_header = self._country_header
        if country_header is None:
            country_header = self._country_header = svc.settings.country_header.encode()
        size = 0
        for name, value in scope["headers"]:
            size += len(name) + len(value)
            if name == b"user-agent":
                user_agent = value.decode("latin-1")
            elif name == b"referer":
                referrer = value.decode("latin-1")
            elif name == b"x-forwarded-for":
                forwarded = value.decode("latin-1")
            elif name == country_header:
                country = value.decode("latin-1")
            elif name == b"traceparent":
                # The caller wants this request traced: the full path does that.
                await self.app(scope, receive, send)
                return
        if size > MAX_HEADER_BYTES:
            await self.app(scope, receive, send)
            return
        try:
            await self._scan(
                scope,
                receive,
                send,
                svc,
                slug,
                template,
                route,
                now,
                started,
                user_agent,
                referrer,
                forwarded,
                country,
            )
        except Exception:
            # The full app's error middleware is not in front of this path: answer the same
            # problem it would, once, and keep the traceback in the log.
            log.exception("unhandled error on the scan path", path=path)
            failure = Problem(500, "An unexpected error occurred; it has been logged.")
            await problem_response(failure)(scope, receive, send)

    async def _scan(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        svc: Any,
        slug: str,
        template: str,
        route: Route,
        now: datetime,
        started: float,
        user_agent: str | None,
        referrer: str | None,
        forwarded: str | None,
        country: str | None,
    ) -> None:
        client = scope.get("client")
        peer = client[0] if client else None
        trusted = svc.trusted_networks
        # Without trusted proxies the server's peer address is the client, as given.
        address = client_address(peer, forwarded, trusted) if trusted else (peer or "")
        redirect_limit = self._redirect_limit
        # Keyed exactly as the full path keys it (canonical address), so both share a bucket.
        if redirect_limit is not None and redirect_limit.take(
            limit_key(client_address(peer, forwarded, trusted))
        ):
            # Over the limit: the full path answers 429 (HTML or problem+json); taking from
            # an empty bucket again there changes nothing.
            await self.app(scope, receive, send)
            return
        source: Source = "qr" if template is _QR else "link"
        if country is not None:
            country = trusted_country(peer, country, trusted)
        message = RecordScan(
            slug, source, now, address, user_agent, referrer, route.max_scans, country
        )
        try:
            recorded = await svc.scans.ask(message, wait=False)
        except MailboxFull as exc:
            retry = {"Retry-After": str(max(1, round(exc.retry_after)))}
            busy = Problem(503, "The server is busy; try again shortly.", headers=retry)
            await problem_response(busy)(scope, receive, send)
            self._observe(template, 503, time.perf_counter() - started)
            return
        except ActorError:
            recorded = _UNAVAILABLE
        except Exception:
            # The scans actor crashed on this batch (its supervisor restarts it): a fault of
            # the service, not of the request, so 503 like any unavailable actor.
            log.exception("scan not recorded: the scans actor failed", path=scope["path"])
            recorded = _UNAVAILABLE
        if isinstance(recorded, StorageUnavailable):
            down = Problem(
                503, "The service is temporarily unavailable.", headers={"Retry-After": "1"}
            )
            await problem_response(down)(scope, receive, send)
            self._observe(template, 503, time.perf_counter() - started)
            return
        if recorded is False:
            # Used up between the index check and the commit: the full path says 410.
            await self.app(scope, receive, send)
            return
        status = route.redirect_status
        location = (b"location", route.location.encode("latin-1"))
        headers = [location, _NO_STORE, _EMPTY, *SECURITY_HEADERS]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": b""})
        self._observe(template, status, time.perf_counter() - started)
