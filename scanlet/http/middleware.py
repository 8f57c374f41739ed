"""Pure ASGI middleware: request context (ids, trace, metrics) and the body size limit.

Written against raw ASGI rather than ``BaseHTTPMiddleware`` because these wrap every request,
including the redirect hot path, and the raw form adds no extra task or buffering.
"""

from __future__ import annotations

import re
import secrets
import time

import anyio
import structlog
from prometheus_client import CollectorRegistry
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from scanlet.http.problems import Problem, problem_response
from scanlet.observability.histogram import LoopHistogram
from scanlet.observability.tracing import Tracing
from scanlet.runtime import TraceContext, current_trace

__all__ = (
    "MAX_HEADERS",
    "MAX_HEADER_BYTES",
    "MAX_URL_BYTES",
    "REQUEST_BUCKETS",
    "BodyLimitMiddleware",
    "BodyTimeout",
    "BodyTooLarge",
    "HttpMetrics",
    "RequestContextMiddleware",
    "RequestLimitsMiddleware",
    "oversized_request",
    "security_headers",
    "sending_headers",
    "too_large",
    "url_bytes",
)

# Request line and header limits, checked here whatever the server's own are (uvicorn with
# httptools has none for headers). A QR scan's URL is short and a browser sends a few KiB of
# headers at most; nginx refuses at 8 KiB per line by default, so these leave room above it.
MAX_URL_BYTES = 8192
MAX_HEADER_BYTES = 16384
MAX_HEADERS = 100

_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

SECURITY_HEADERS: list[tuple[bytes, bytes]] = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
]
# One year, the value RFC 6797's examples and the browsers' preload lists use. Without
# includeSubDomains: Scanlet's origin is often a name under a domain that serves other
# sites (qr.example.com), or a domain whose subdomains do (example.com), and forcing HTTPS
# on all of them for a year is the domain owner's call, made at the proxy if wanted.
_HSTS = (b"strict-transport-security", b"max-age=31536000")


def security_headers(public_base_url: str) -> list[tuple[bytes, bytes]]:
    """The headers every response carries: ``SECURITY_HEADERS``, plus HSTS when the public
    base URL is https. Built once at start-up; each response only appends the list.

    HSTS goes out even on requests that reached Scanlet over plain HTTP from a
    TLS-terminating proxy: browsers ignore it unless it came over HTTPS (RFC 6797, 8.1).
    """
    if public_base_url.lower().startswith("https://"):
        return [*SECURITY_HEADERS, _HSTS]
    return list(SECURITY_HEADERS)


def sending_headers(send: Send, headers: list[tuple[bytes, bytes]]) -> Send:
    """``send``, with ``headers`` appended to the response's start message."""

    async def send_with_headers(message: Message) -> None:
        if message["type"] == "http.response.start":
            message["headers"] = [*message.get("headers", ()), *headers]
        await send(message)

    return send_with_headers


#: Fine between 1 and 5 ms, where a redirect's p99 lives (its figure read from the buckets
#: is only as good as they are), then coarser up to the slowest pages.
REQUEST_BUCKETS = (
    0.0005,
    0.001,
    0.0015,
    0.002,
    0.0025,
    0.003,
    0.004,
    0.005,
    0.0075,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1,
    2.5,
    5,
)


class HttpMetrics:
    """The HTTP request histogram, labelled by route template, never by a concrete path."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.duration = LoopHistogram(
            "scanlet_http_request_duration_seconds",
            "Time from request start to the end of the response body.",
            ["route", "method", "status"],
            buckets=REQUEST_BUCKETS,
            registry=registry,
        )


class RequestContextMiddleware:
    """Binds a request id and W3C trace context, returns them, and times the request."""

    def __init__(self, app: ASGIApp, metrics: HttpMetrics, tracing: Tracing) -> None:
        self.app = app
        self.metrics = metrics
        self.tracing = tracing

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        incoming_id = traceparent = None
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                incoming_id = value.decode("latin-1")
            elif name == b"traceparent":
                traceparent = value.decode("latin-1")
        request_id = (
            incoming_id
            if incoming_id and _REQUEST_ID_RE.match(incoming_id)
            else secrets.token_hex(8)
        )
        parent = TraceContext.parse(traceparent)
        trace = parent.child() if parent else TraceContext.new()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                # Read the trace now, not before: with OpenTelemetry on, the server span
                # replaces it with the exported span's ids.
                current = current_trace.get() or trace
                message["headers"] = [
                    *message.get("headers", ()),
                    (b"x-request-id", request_id.encode()),
                    (b"traceparent", current.traceparent().encode()),
                ]
            await send(message)

        token = current_trace.set(trace)
        structlog.contextvars.bind_contextvars(request_id=request_id)
        try:
            with self.tracing.http_span(scope):
                await self.app(scope, receive, send_wrapper)
        finally:
            structlog.contextvars.unbind_contextvars("request_id")
            current_trace.reset(token)
            route = scope.get("scanlet.route", "unmatched")
            self.metrics.duration.observe(
                time.perf_counter() - started, route, scope["method"], str(status)
            )


def url_bytes(scope: Scope) -> int:
    """The length of the request's path and query, as the limits count it."""
    return len(scope.get("raw_path") or scope["path"]) + len(scope.get("query_string", b""))


def oversized_request(scope: Scope) -> Problem | None:
    """A 414 when the path and query are too long, a 431 when the headers are; else None."""
    headers = scope["headers"]
    header_bytes = sum(len(name) + len(value) for name, value in headers)
    return too_large(url_bytes(scope), len(headers), header_bytes)


def too_large(url: int, header_count: int, header_bytes: int) -> Problem | None:
    """The request-size rule itself, for callers that have counted already (the scan front
    counts header bytes while it reads the headers): 414, 431 or None."""
    if url > MAX_URL_BYTES:
        return Problem(
            414,
            f"The URL is longer than the limit of {MAX_URL_BYTES} bytes.",
            title="URI too long",
            type_name="uri-too-long",
        )
    if header_count > MAX_HEADERS or header_bytes > MAX_HEADER_BYTES:
        return Problem(
            431,
            f"The request headers exceed the limit of {MAX_HEADERS} headers or "
            f"{MAX_HEADER_BYTES} bytes.",
            title="Request header fields too large",
            type_name="headers-too-large",
        )
    return None


class RequestLimitsMiddleware:
    """Refuses over-long URLs (414) and oversized header sets (431) before any route runs."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            problem = oversized_request(scope)
            if problem is not None:
                await problem_response(problem)(scope, receive, send)
                return
        await self.app(scope, receive, send)


class BodyTooLarge(Problem):
    """Raised while reading a request body that exceeds the configured limit."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"The request body is larger than the limit of {limit} bytes.")


class BodyTimeout(Problem):
    """Raised when a request body has not arrived in full within the configured deadline."""

    def __init__(self, seconds: float) -> None:
        super().__init__(
            408,
            f"The request body did not arrive within {seconds:g} seconds.",
            title="Request timeout",
            type_name="request-timeout",
            # The rest of a late body may still come: the connection cannot carry another
            # request after it.
            headers={"Connection": "close"},
        )


class BodyLimitMiddleware:
    """Refuses bodies over ``limit`` bytes, by header up front or by counting as they arrive,
    and bodies that take longer than ``timeout`` seconds from the request's start (408).

    Without the deadline a client could send headers announcing a body and then nothing:
    each such request held its slot for as long as the connection lived.
    """

    def __init__(self, app: ASGIApp, limit: int, timeout: float = 10.0) -> None:
        self.app = app
        self.limit = limit
        self.timeout = timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        limit = self.limit
        timeout = self.timeout
        deadline = anyio.current_time() + timeout
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = 0
                if declared > limit:
                    scope["scanlet.body_too_large"] = True
                break
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            if scope.get("scanlet.body_too_large"):
                raise BodyTooLarge(limit)
            with anyio.move_on_after(deadline - anyio.current_time()):
                message = await receive()
                if message["type"] == "http.request":
                    received += len(message.get("body", b""))
                    if received > limit:
                        raise BodyTooLarge(limit)
                return message
            raise BodyTimeout(timeout)

        await self.app(scope, limited_receive, send)
