"""``GET /api/v1/stream``: committed events as Server-Sent Events, resumable by seq.

Every message is read from the event log, never taken from the bus: the bus's
``LogAppended`` is only a doorbell saying "read the log again". A stream keeps the seq of
the last event it looked at, so replaying after ``Last-Event-ID`` and then following live is
one loop, and nothing is lost or repeated at the seam. The doorbell subscription is opened
before the first read, so an event committed between a read and the wait still rings.

Memory stays bounded per client: one batch of events at a time, and a client that does not
take a message within ``send_timeout`` seconds is disconnected; it reconnects with
``Last-Event-ID`` and resumes from the log.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import anyio
import structlog
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.types import Send

from scanlet.actors.events import LogAppended
from scanlet.actors.webhooks.signing import EVENT_TYPES, event_body
from scanlet.http.endpoint import Endpoint, Param, Reply
from scanlet.http.params import invalid, query_str
from scanlet.http.problems import FieldError, Problem
from scanlet.http.services import services
from scanlet.runtime import EventBus, SlowPolicy
from scanlet.storage.eventlog import EventLog, StoredEvent
from scanlet.storage.keys import Scope

__all__ = ("EventStream", "EventStreamResponse", "StreamConfig", "stream_endpoints")

log = structlog.get_logger("scanlet.stream")

#: Tells EventSource clients how long to wait before reconnecting (milliseconds).
RECONNECT_MS = 1000


@dataclass(frozen=True)
class StreamConfig:
    """Stream timings (injectable for tests): heartbeat and slow-client limits in seconds."""

    heartbeat: float = 15.0
    send_timeout: float = 30.0
    batch: int = 200


def sse_frame(event: StoredEvent) -> bytes:
    """One SSE message: ``id:`` the seq, ``event:`` the type, ``data:`` the webhook body."""
    return b"id: %d\nevent: %s\ndata: %s\n\n" % (
        event.seq,
        event.type.encode(),
        event_body(event),
    )


class EventStream:
    """The frames of one client's stream: replay after ``after``, then live, with heartbeats."""

    def __init__(
        self,
        log: EventLog,
        bus: EventBus,
        *,
        after: int,
        types: frozenset[str] | None = None,
        slug: str | None = None,
        config: StreamConfig = StreamConfig(),  # frozen: one shared default is safe
    ) -> None:
        self._log = log
        self._bus = bus
        self.position = after
        self._types = types
        self._slug = slug
        self._config = config

    def _wanted(self, event: StoredEvent) -> bool:
        if self._types is not None and event.type not in self._types:
            return False
        return self._slug is None or event.slug == self._slug

    async def frames(self) -> AsyncIterator[bytes]:
        """Yield SSE chunks until the bus closes (shutdown) or the consumer stops."""
        config = self._config
        doorbell = self._bus.subscribe(
            LogAppended, capacity=1, policy=SlowPolicy.DROP, name="stream"
        )
        try:
            yield b"retry: %d\n\n" % RECONNECT_MS
            last_sent = time.monotonic()
            while True:
                # The position advances past every event read, wanted or not, so a filter
                # never makes the stream read the same stretch of the log twice.
                events = await self._log.read_after(self.position, config.batch)
                if events:
                    self.position = events[-1].seq
                    chunk = b"".join(sse_frame(e) for e in events if self._wanted(e))
                    if chunk:
                        yield chunk
                        last_sent = time.monotonic()
                    continue
                rang = closed = False
                with anyio.move_on_after(last_sent + config.heartbeat - time.monotonic()):
                    try:
                        await doorbell.receive()
                        rang = True
                    except anyio.EndOfStream:
                        closed = True
                if closed:
                    return
                if not rang:
                    # Also re-reads the log afterwards: events other processes commit are
                    # never rung on this process's bus.
                    yield b": heartbeat\n\n"
                    last_sent = time.monotonic()
        finally:
            doorbell.close()


class EventStreamResponse(StreamingResponse):
    """A ``text/event-stream`` response that drops clients too slow to take a message."""

    def __init__(self, stream: EventStream, send_timeout: float) -> None:
        super().__init__(
            stream.frames(),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )
        self.send_timeout = send_timeout

    async def stream_response(self, send: Send) -> None:
        """Send each chunk within ``send_timeout`` seconds, else end the response."""
        await send(
            {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
        )
        iterator = self.body_iterator
        try:
            async for chunk in iterator:
                assert isinstance(chunk, bytes)
                with anyio.move_on_after(self.send_timeout) as slow:
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
                if slow.cancelled_caught:
                    log.warning("stream client too slow; disconnected")
                    return
        finally:
            aclose = getattr(iterator, "aclose", None)
            if aclose is not None:
                with anyio.CancelScope(shield=True):
                    await aclose()
        await send({"type": "http.response.body", "body": b"", "more_body": False})


def _types(request: Request) -> frozenset[str] | None:
    raw = query_str(request, "types", max_length=1024)
    if raw is None:
        return None
    names = frozenset(name.strip() for name in raw.split(",") if name.strip())
    unknown = sorted(names - set(EVENT_TYPES))
    if not names or unknown:
        shown = unknown[0] if unknown else raw
        raise invalid("types", f"unknown event type {shown!r}; known: {', '.join(EVENT_TYPES)}")
    return names


def _last_event_id(request: Request) -> int | None:
    raw = request.headers.get("last-event-id")
    if raw is None or not raw.strip():
        return None
    raw = raw.strip()
    if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
        msg = "expected the id of an event this stream sent (a non-negative integer)"
        raise Problem(
            422, f"Last-Event-ID: {msg}.", errors=[FieldError(["header", "Last-Event-ID"], msg)]
        )
    return int(raw)


async def stream_events(request: Request) -> Response:
    """Live events as SSE; with ``Last-Event-ID`` the missed ones first."""
    svc = services(request)
    config: StreamConfig = svc.extras.get("stream", StreamConfig())
    types = _types(request)
    slug = query_str(request, "slug", max_length=64)
    event_log = EventLog(svc.db)
    after = _last_event_id(request)
    if after is None:
        after = await event_log.last_seq()
    stream = EventStream(
        event_log, svc.system.bus, after=after, types=types, slug=slug, config=config
    )
    return EventStreamResponse(stream, config.send_timeout)


def stream_endpoints() -> list[Endpoint]:
    """The stream route."""
    return [
        Endpoint(
            "GET",
            "/api/v1/stream",
            stream_events,
            "Stream live events (Server-Sent Events)",
            "stream",
            scope=Scope.READ,
            description=(
                "Each message has `id:` = the event's log seq, `event:` = its type and "
                "`data:` = `{type, id, seq, occurred_at, data}` (the webhook body). A comment "
                "heartbeat comes every 15 s of silence. Reconnect with `Last-Event-ID` to "
                "get, first, every event committed since that one. A client too slow to "
                "keep up is disconnected (and may resume the same way)."
            ),
            params=[
                Param(
                    "types",
                    "query",
                    {"type": "string"},
                    "Comma-separated event types to receive (default: all).",
                ),
                Param("slug", "query", {"type": "string"}, "Only events about this slug."),
                Param(
                    "Last-Event-ID",
                    "header",
                    {"type": "string", "pattern": "^[0-9]+$"},
                    "Resume after this event (its seq).",
                ),
            ],
            replies=[Reply(200, "An endless event stream.", media_type="text/event-stream")],
        )
    ]
