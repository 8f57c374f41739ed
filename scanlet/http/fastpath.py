"""The raw ASGI front: live-code scans go straight to the scan path, past Starlette.

Most requests a QR server sees are ``GET /{slug}`` for a live code. Taking those through
Starlette's middleware, exception handlers and a router that tries every other route first
cost more than recording the scan (measured in-process: about 9 us per request for a bare
Starlette redirect, 60 us for the same through the full stack). The front only decides
*which entrance* serves a request; how a scan is judged and answered is ``ScanPath``'s, the
same code the Starlette route calls. Everything that is not a scan of a live code, and every
request asking to be traced, goes to the full app.
"""

from __future__ import annotations

import time
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from scanlet.actors.codes.keys import slug_of_key
from scanlet.actors.events import Source
from scanlet.http.middleware import HttpMetrics, too_large, url_bytes
from scanlet.http.scan_path import (
    COMPACT_TEMPLATE,
    LINK_TEMPLATE,
    QR_TEMPLATE,
    ScanPath,
    peer_of,
    read_request,
)
from scanlet.observability.tracing import Tracing

__all__ = ("ScanFastPath",)


class ScanFastPath:
    """Answers live-code scans through ``scan_path``; hands every other request to ``app``."""

    def __init__(
        self,
        app: ASGIApp,
        scan_path: ScanPath,
        metrics: HttpMetrics,
        tracing: Tracing,
        security_headers: list[tuple[bytes, bytes]],
    ) -> None:
        self.app = app
        self.scan_path = scan_path
        # The app's security headers (middleware.security_headers), built once: each answer
        # only appends them, as the full app does to every response.
        self._security = security_headers
        self.tracing_enabled = tracing.enabled
        self._duration = metrics.duration
        self._observers: dict[tuple[str, str, int], Any] = {}

    def _observe(self, route: str, method: str, status: int, seconds: float) -> None:
        key = (route, method, status)
        observe = self._observers.get(key)
        if observe is None:
            observe = self._observers[key] = self._duration.observer(route, method, str(status))
        observe(seconds)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.tracing_enabled or not self.scan_path.ready:
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        path: str = scope["path"]
        source: Source
        scan_path = self.scan_path
        fold = False
        if path.startswith("/q/"):
            slug, template, source = path[3:], QR_TEMPLATE, "qr"
        elif path.startswith("/Q/"):
            # The compact payload: the slug in capitals, looked up ignoring case.
            slug, template, source, fold = path[3:], COMPACT_TEMPLATE, "qr", True
        else:
            slug, template, source = path[1:], LINK_TEMPLATE, "link"
        if not slug:
            await self.app(scope, receive, send)
            return
        key, domain = scan_path.locate(scope, slug)
        if fold:
            # Ignoring case within the Host's domain: the one key ever taken with that form.
            found = scan_path.index.canonical(key)
            if found is None:
                await self.app(scope, receive, send)
                return
            key, slug = found, slug_of_key(found)
        route = scan_path.index.resolve(key)
        if route is None or (method != "GET" and method != "HEAD"):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        facts = read_request(
            scope["headers"], peer_of(scope), scan_path.trusted, scan_path.header_kinds
        )
        if facts.traced or too_large(url_bytes(scope), len(scope["headers"]), facts.header_bytes):
            # Traced requests, and oversized ones (414/431 from the limits middleware): the
            # full stack answers them.
            await self.app(scope, receive, send)
            return
        reply = await scan_path.answer(scope, slug, source, facts, route, located=(key, domain))
        await send(
            {
                "type": "http.response.start",
                "status": reply.status,
                "headers": [*reply.headers, *self._security],
            }
        )
        await send({"type": "http.response.body", "body": reply.body})
        self._observe(template, method, reply.status, time.perf_counter() - started)
