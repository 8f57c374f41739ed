"""The raw front: live-code scans go straight to the scan path, past Starlette.

Most requests a QR server sees are ``GET /{slug}`` for a live code. Taking those through
Starlette's middleware, exception handlers and a router that tries every other route first
cost more than recording the scan (measured in-process: about 9 us per request for a bare
Starlette redirect, 60 us for the same through the full stack). The front only decides
*which entrance* serves a request; how a scan is judged and answered is ``ScanPath``'s, the
same code the Starlette route calls. Everything that is not a scan of a live code, and every
request asking to be traced, goes to the full app.

The front has two doors, one per server interface: ASGI (``__call__``: uvicorn, and tests
calling the app) and RSGI (``rsgi``: granian, see ``scanlet.http.rsgi``). Each only reads
its server's request into the same ``_scan`` and sends back what it decided.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from starlette.types import ASGIApp, Receive, Scope, Send

from scanlet.actors.codes.keys import slug_of_key
from scanlet.actors.events import Source
from scanlet.http.middleware import HttpMetrics, too_large, url_bytes
from scanlet.http.rsgi import as_bytes, rsgi_host
from scanlet.http.scan_path import (
    COMPACT_TEMPLATE,
    LINK_TEMPLATE,
    QR_TEMPLATE,
    HeaderFields,
    ScanPath,
    ScanReply,
    peer_of,
    read_request,
)
from scanlet.observability.tracing import Tracing

if TYPE_CHECKING:
    from granian._granian import RSGIHTTPProtocol as RsgiProtocol
    from granian.rsgi import Scope as RsgiScope

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
        self._security_text = [
            (name.decode("latin-1"), value.decode("latin-1")) for name, value in security_headers
        ]
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
        """The ASGI entrance (uvicorn, and tests calling the app)."""
        if scope["type"] != "http" or self.tracing_enabled or not self.scan_path.ready:
            await self.app(scope, receive, send)
            return
        method: str = scope["method"]
        headers: list[tuple[bytes, bytes]] = scope["headers"]
        taken = await self._scan(
            scope,
            method,
            scope["path"],
            self.scan_path.host_of(scope),
            headers,
            len(headers),
            peer_of(scope),
            url_bytes(scope),
        )
        if taken is None:
            await self.app(scope, receive, send)
            return
        reply, template, started = taken
        await send(
            {
                "type": "http.response.start",
                "status": reply.status,
                "headers": [*reply.headers, *self._security],
            }
        )
        await send({"type": "http.response.body", "body": reply.body})
        self._observe(template, method, reply.status, time.perf_counter() - started)

    async def rsgi(self, scope: RsgiScope, protocol: RsgiProtocol) -> bool:
        """The RSGI entrance (granian): answers a live-code scan and says True, else says
        False and leaves the request to the caller."""
        if self.tracing_enabled or not self.scan_path.ready:
            return False
        method = scope.method
        fields = scope.headers.items()
        host = None
        if self.scan_path.index.domains.hosts:
            text = scope.headers.get("host")
            host = None if text is None else as_bytes(text)
        path = scope.path
        query = scope.query_string
        asgi_like = {
            "method": method,
            "path": path,
            "query_string": as_bytes(query) if query else b"",
        }
        taken = await self._scan(
            asgi_like,
            method,
            path,
            host,
            fields,
            len(fields),
            rsgi_host(scope.client),
            len(path) + len(query),
        )
        if taken is None:
            return False
        reply, template, started = taken
        headers = reply.text_headers
        if headers is None:
            # With the security headers: a reply is only ever sent by its own ScanPath's
            # entrances, and the app builds one of each.
            headers = reply.text_headers = [
                *(
                    (name.decode("latin-1"), value.decode("latin-1"))
                    for name, value in reply.headers
                ),
                *self._security_text,
            ]
        protocol.response_bytes(reply.status, headers, reply.body)
        self._observe(template, method, reply.status, time.perf_counter() - started)
        return True

    async def _scan(
        self,
        scope: Scope,
        method: str,
        path: str,
        host: bytes | None,
        headers: HeaderFields,
        header_count: int,
        peer: str | None,
        url_size: int,
    ) -> tuple[ScanReply, str, float] | None:
        """Whichever entrance: the reply to a scan of a live code, its route template and
        when it started; None for any other request (the full app's to answer). ``scope``
        holds at least the method, path and query string."""
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
            return None
        key, domain = scan_path.locate_host(host, slug)
        if fold:
            # Ignoring case within the Host's domain: the one key ever taken with that form.
            found = scan_path.index.canonical(key)
            if found is None:
                return None
            key, slug = found, slug_of_key(found)
        route = scan_path.index.resolve(key)
        if route is None or (method != "GET" and method != "HEAD"):
            return None
        started = time.perf_counter()
        facts = read_request(headers, peer, scan_path.trusted, scan_path.header_kinds)
        if facts.traced or too_large(url_size, header_count, facts.header_bytes):
            # Traced requests, and oversized ones (414/431 from the limits middleware): the
            # full stack answers them.
            return None
        reply = await scan_path.answer(scope, slug, source, facts, route, located=(key, domain))
        return reply, template, started
