"""``GET /api/v1/stream``: committed events as Server-Sent Events, resumable by seq.

Every message is read from the event log, never taken from the bus: the process's
``LogTail`` reads what each commit appended once and holds it for every open stream, and a
stream reads the log itself only to replay what the tail no longer holds. A stream keeps the
seq of the last event it looked at, so replaying after ``Last-Event-ID`` and then following
live is one loop, and nothing is lost or repeated at the seam.

Memory stays bounded per client: one batch of events at a time, and a client that does not
take a message within ``send_timeout`` seconds is disconnected; it reconnects with
``Last-Event-ID`` and resumes from the log. Open streams are capped (``StreamLimits``), and
each re-checks its credentials every ``recheck`` seconds, closing when they no longer hold
(a revoked or expired key, an ended dashboard session).
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import anyio
import anyio.lowlevel
import msgspec
import structlog
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.types import Receive, Send
from starlette.types import Scope as AsgiScope

from scanlet.actors.access.keys import Scope
from scanlet.actors.access.roles import Principal
from scanlet.actors.codes.validation import MAX_SLUG_LENGTH
from scanlet.actors.events import CODE_EVENT_TYPES
from scanlet.actors.webhooks.signing import EVENT_TYPES, event_body
from scanlet.http.auth import bearer_token
from scanlet.http.endpoint import Endpoint, Param, Reply
from scanlet.http.log_tail import LogTail, TailEntry
from scanlet.http.params import invalid, query_str
from scanlet.http.problems import FieldError, Problem
from scanlet.http.scoping import sees_slug, visible_slug
from scanlet.http.services import Services, installed, services
from scanlet.http.stream_limits import StreamLimits, StreamSlot
from scanlet.storage.ports import EventLogReader
from scanlet.storage.records import StoredEvent

__all__ = (
    "EventStream",
    "EventStreamResponse",
    "StillAllowed",
    "StreamConfig",
    "StreamHub",
    "sse_frame",
    "stream_endpoints",
    "stream_hub",
)

log = structlog.get_logger("scanlet.stream")

#: Tells EventSource clients how long to wait before reconnecting (milliseconds).
RECONNECT_MS = 1000

#: Whether the credentials a stream was opened with still hold.
StillAllowed = Callable[[], Awaitable[bool]]
#: Whether the events of a slug may be shown (a limited key sees only its codes').
SlugVisible = Callable[[str], Awaitable[bool]]

_NAME = "(?:" + "|".join(re.escape(name) for name in EVENT_TYPES) + ")"
#: ``types`` as ``_types`` reads it: comma-separated event types, spaces and empty items
#: ignored, at least one type.
TYPES_PATTERN = rf"^[\s,]*{_NAME}(?:\s*,[\s,]*{_NAME})*[\s,]*$"
MAX_TYPES_LENGTH = 1024
#: ``Last-Event-ID`` as ``_last_event_id`` reads it: a seq of at most 18 digits, or nothing.
LAST_EVENT_ID_PATTERN = r"^[ \t]*(?:[0-9]{1,18}[ \t]*)?$"


@dataclass(frozen=True)
class StreamConfig:
    """Stream timings (injectable for tests): heartbeat, slow-client and re-check limits in
    seconds, and the replay batch size."""

    heartbeat: float = 15.0
    send_timeout: float = 30.0
    recheck: float = 5.0
    batch: int = 200
    #: Once the server stops, a send may wait this long before its client is dropped: a
    #: client that does not read would otherwise hold the drain (and a restart's handover)
    #: for ``send_timeout`` or to the drain's own deadline.
    closing_send_timeout: float = 1.0


def sse_frame(event: StoredEvent) -> bytes:
    """One SSE message: ``id:`` the seq, ``event:`` the type, ``data:`` the webhook body."""
    return b"id: %d\nevent: %s\ndata: %s\n\n" % (
        event.seq,
        event.type.encode(),
        event_body(event),
    )


def _entry(event: StoredEvent) -> TailEntry:
    return TailEntry(event.position, event.type, event.slug, sse_frame(event))


class SseMessage(msgspec.Struct, frozen=True):
    """One message of the stream as a Server-Sent Events reader sees it (OpenAPI describes a
    text/event-stream response by its messages): ``id`` is the event's seq, ``event`` its
    type, ``data`` the webhook body as JSON text; the first message only sets ``retry``."""

    data: str = ""
    id: str | None = None
    event: str | None = None
    retry: int | None = None


@dataclass
class StreamHub:
    """What every stream of the process shares: timings, the log's tail and the caps."""

    log: EventLogReader
    tail: LogTail
    limits: StreamLimits
    config: StreamConfig = field(default_factory=StreamConfig)


class EventStream:
    """The frames of one client's stream: replay after ``after``, then live, with heartbeats.

    ``allowed`` is asked every ``config.recheck`` seconds; the stream ends when it says no.
    """

    def __init__(
        self,
        log: EventLogReader,
        tail: LogTail,
        *,
        after: int,
        types: frozenset[str] | None = None,
        slug: str | None = None,
        config: StreamConfig = StreamConfig(),  # frozen: one shared default is safe
        allowed: StillAllowed | None = None,
        visible: SlugVisible | None = None,
    ) -> None:
        self._log = log
        self._tail = tail
        self.position = after
        self._types = types
        self._slug = slug
        self._config = config
        self._allowed = allowed
        self._visible = visible
        # Each slug's answer, asked once; a code event may change the code's tags, so it
        # asks again for that slug.
        self._seen: dict[str, bool] = {}

    @property
    def tail(self) -> LogTail:
        return self._tail

    def _wanted(self, entry: TailEntry) -> bool:
        if self._types is not None and entry.type not in self._types:
            return False
        return self._slug is None or entry.slug == self._slug

    async def _shown(self, entries: list[TailEntry]) -> bytes:
        """The frames of the entries this stream sends."""
        if self._visible is None:
            return b"".join(entry.frame for entry in entries if self._wanted(entry))
        frames = []
        for entry in entries:
            if not self._wanted(entry) or entry.slug is None:
                continue  # under a tag limit, events of no code (webhook.disabled) are not shown
            if entry.type in CODE_EVENT_TYPES:
                self._seen.pop(entry.slug, None)
            shown = self._seen.get(entry.slug)
            if shown is None:
                shown = self._seen[entry.slug] = await self._visible(entry.slug)
            if shown:
                frames.append(entry.frame)
        return b"".join(frames)

    async def _next(self) -> list[TailEntry]:
        entries = self._tail.entries_after(self.position)
        if entries is None:
            events = await self._log.read_after(self.position, self._config.batch)
            entries = [_entry(event) for event in events]
            # Behind the tail's memory: SQLite's reads run on the loop and a send to a client
            # that is gone returns at once under uvicorn, so a turn a batch is what lets the
            # loop serve (and deliver the cancel that ends the stream) through a backlog.
            await anyio.lowlevel.checkpoint()
        return entries[: self._config.batch]

    async def frames(self) -> AsyncIterator[bytes]:
        """Yield SSE chunks until the tail closes (shutdown), the credentials lapse or the
        consumer stops."""
        config = self._config
        tail = self._tail
        tail.followers += 1
        try:
            yield b"retry: %d\n\n" % RECONNECT_MS
            now = time.monotonic()
            last_sent, next_check = now, now + config.recheck
            while True:
                now = time.monotonic()
                if now >= next_check:
                    if self._allowed is not None and not await self._allowed():
                        log.info("stream closed: its credentials no longer hold")
                        return
                    next_check = now + config.recheck
                # The position advances past every event read, wanted or not, so a filter
                # never makes the stream read the same stretch of the log twice.
                entries = await self._next()
                if entries:
                    self.position = entries[-1].position
                    chunk = await self._shown(entries)
                    if chunk:
                        yield chunk
                        last_sent = time.monotonic()
                    continue
                wake = min(last_sent + config.heartbeat, next_check)
                if not await tail.wait_past(self.position, wake - time.monotonic()):
                    return
                if time.monotonic() >= last_sent + config.heartbeat:
                    yield b": heartbeat\n\n"
                    last_sent = time.monotonic()
        finally:
            tail.followers -= 1


class EventStreamResponse(StreamingResponse):
    """A ``text/event-stream`` response that drops clients too slow to take a message, and
    gives its ``slot`` under the stream caps back when it ends, however it ends."""

    def __init__(
        self, stream: EventStream, config: StreamConfig, slot: StreamSlot | None = None
    ) -> None:
        super().__init__(
            stream.frames(),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )
        self.config = config
        self.tail = stream.tail
        self.slot = slot

    async def __call__(self, scope: AsgiScope, receive: Receive, send: Send) -> None:
        """Stream until the end; release the slot whatever happened."""
        try:
            await super().__call__(scope, receive, send)
        finally:
            if self.slot is not None:
                self.slot.release()

    async def stream_response(self, send: Send) -> None:
        """Send each chunk within ``send_timeout`` seconds (``closing_send_timeout`` once
        the server stops), else end the response."""
        await send(
            {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
        )
        iterator = self.body_iterator
        watchdog = _SendWatchdog(self.config.send_timeout)
        try:
            with anyio.CancelScope() as stream:
                watchdog.watch(stream)
                watchdog.shorten_on(self.tail, self.config.closing_send_timeout)
                async for chunk in iterator:
                    assert isinstance(chunk, bytes)
                    watchdog.since = time.monotonic()
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
                    watchdog.since = None
        finally:
            watchdog.stop()
            aclose = getattr(iterator, "aclose", None)
            if aclose is not None:
                with anyio.CancelScope(shield=True):
                    await aclose()
        if watchdog.too_slow:
            log.warning("stream client too slow; disconnected")
            return
        await send({"type": "http.response.body", "body": b"", "more_body": False})


class _SendWatchdog:
    """Cancels a stream's scope once one of its sends has taken ``seconds``.

    A loop timer that looks again as each send's deadline comes, rather than a cancel scope
    around each send: entering and leaving one (which also looks the running async library
    up) for every message of every open stream was about a third of what a stream cost the
    loop (py-spy, 300 streams). Not a task either: a task group would wrap the send's own
    errors (a client gone) in an exception group, which Starlette no longer recognises.
    """

    __slots__ = ("_forget", "_scope", "_timer", "seconds", "since", "too_slow")

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        #: When the send under way began (``time.monotonic``); None: none is.
        self.since: float | None = None
        self.too_slow = False
        self._scope: anyio.CancelScope | None = None
        self._timer: asyncio.Handle | None = None
        self._forget: Callable[[], None] | None = None

    def watch(self, scope: anyio.CancelScope) -> None:
        self._scope = scope
        self._timer = asyncio.get_running_loop().call_later(self.seconds, self._look)

    def shorten_on(self, tail: LogTail, seconds: float) -> None:
        """Allow a send only ``seconds`` once ``tail`` closes (the server stopping)."""

        def shorten() -> None:
            self.seconds = min(self.seconds, seconds)
            if self._timer is not None:
                self._timer.cancel()
                self._timer = asyncio.get_running_loop().call_soon(self._look)

        self._forget = tail.on_close(shorten)

    def _look(self) -> None:
        since, now = self.since, time.monotonic()
        if since is not None and now - since >= self.seconds:
            self.too_slow = True
            self._timer = None
            assert self._scope is not None
            self._scope.cancel()
            return
        wait = self.seconds if since is None else since + self.seconds - now
        self._timer = asyncio.get_running_loop().call_later(wait, self._look)

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._forget is not None:
            self._forget()
            self._forget = None


def _types(request: Request) -> frozenset[str] | None:
    raw = query_str(request, "types", max_length=MAX_TYPES_LENGTH)
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
    # HTTP's optional whitespace around a field value is spaces and tabs, nothing else.
    raw = None if raw is None else raw.strip(" \t")
    if not raw:
        return None
    if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
        msg = "expected the id of an event this stream sent (a non-negative integer)"
        raise Problem(
            422, f"Last-Event-ID: {msg}.", errors=[FieldError(["header", "Last-Event-ID"], msg)]
        )
    return int(raw)


def stream_hub(svc: Services) -> StreamHub:
    """The process's stream hub (the integrations feature makes it)."""
    return installed(svc.stream, "integrations")


def key_still_valid(svc: Services, token: str) -> StillAllowed:
    """A re-check for a stream opened with ``token``: are the key and its user still valid?"""

    async def check() -> bool:
        return await svc.access.by_token(token, now=svc.clock.now()) is not None

    return check


async def stream_events(request: Request) -> Response:
    """Live events as SSE; with ``Last-Event-ID`` the missed ones first."""
    svc = services(request)
    hub = stream_hub(svc)
    types = _types(request)
    slug = query_str(request, "slug", max_length=MAX_SLUG_LENGTH)
    last_event_id = _last_event_id(request)
    principal: Principal = request.state.principal
    if slug is not None:
        await visible_slug(svc, principal, slug)
    token = bearer_token(request)
    assert token is not None  # the endpoint's scope check needed it
    slot = hub.limits.acquire(principal.id)
    try:
        after = None if last_event_id is None else await hub.log.position_of(last_event_id)
        if after is None:
            # No Last-Event-ID, or one the log does not know: from now on.
            after = await hub.log.last_position()
    except BaseException:
        slot.release()
        raise
    stream = EventStream(
        hub.log,
        hub.tail,
        after=after,
        types=types,
        slug=slug,
        config=hub.config,
        allowed=key_still_valid(svc, token),
        visible=sees_slug(svc, principal) if principal.limited else None,
    )
    return EventStreamResponse(stream, hub.config, slot)


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
                "keep up is disconnected (and may resume the same way); a stream whose key "
                "is revoked or expires is closed within a few seconds. Open streams are "
                "capped in total and per key: over a cap, 429 with `Retry-After`."
            ),
            params=[
                Param(
                    "types",
                    "query",
                    {
                        "type": "string",
                        "pattern": TYPES_PATTERN,
                        "maxLength": MAX_TYPES_LENGTH,
                    },
                    "Comma-separated event types to receive (default: all).",
                ),
                Param(
                    "slug",
                    "query",
                    {"type": "string", "maxLength": MAX_SLUG_LENGTH},
                    "Only events about this slug.",
                ),
                Param(
                    "Last-Event-ID",
                    "header",
                    {"type": "string", "pattern": LAST_EVENT_ID_PATTERN},
                    "Resume after this event (its seq); empty means from now.",
                ),
            ],
            replies=[
                Reply(200, "An endless event stream.", SseMessage, media_type="text/event-stream")
            ],
            extra_problems=[429],
        )
    ]
