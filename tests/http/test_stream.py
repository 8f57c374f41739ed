"""The live stream: log events as SSE, filtered, with heartbeats, resumable by Last-Event-ID."""

import itertools
import threading
import time
from collections.abc import AsyncGenerator, AsyncIterator, Iterator, MutableMapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import anyio
import anyio.lowlevel
import httpx
import msgspec
import pytest
import uvicorn
from prometheus_client import CollectorRegistry
from starlette.testclient import TestClient

from scanlet.actors.access.keys import ApiKeys, Scope
from scanlet.actors.events import CodeDeleted, LogAppended, ScanRecorded, encode_event
from scanlet.assembly import create_app
from scanlet.assembly.integrations import IntegrationsFeature
from scanlet.config import Settings, load_settings
from scanlet.http.log_tail import WAKE_CHUNK, LogTail
from scanlet.http.stream import EventStream, EventStreamResponse, StreamConfig, sse_frame
from scanlet.runtime import EventBus
from scanlet.storage.opening import open_storage
from scanlet.storage.records import NewEvent
from tests.conftest import AnyStorage, nth_position
from tests.dbquery import query
from tests.processes import free_port

NOW = datetime(2026, 11, 27, tzinfo=UTC)
Message = dict[str, Any]


def seqs(db_settings: Settings) -> list[str]:
    """Every event's seq (its SSE id), in seq order."""
    return [str(seq) for (seq,) in query(db_settings, "SELECT seq FROM events ORDER BY seq")]


async def append(db: AnyStorage, bus: EventBus, *slugs: str, kind: str = "scan.recorded") -> None:
    """Commit one event per slug, then ring the doorbell as writers do."""
    events = []
    for slug in slugs:
        event: ScanRecorded | CodeDeleted
        if kind == "scan.recorded":
            event = ScanRecorded(
                id=f"{slug}-{time.monotonic_ns()}", occurred_at=NOW, slug=slug, source="qr"
            )
        else:
            event = CodeDeleted(id=f"{slug}-{time.monotonic_ns()}", occurred_at=NOW, slug=slug)
        events.append(
            NewEvent(event.id, kind, slug, "2026-11-27T00:00:00.000000Z", encode_event(event))
        )
    last = await db.events.append(events, NOW)
    bus.publish_nowait(LogAppended(last))


async def tail_of(db: AnyStorage, bus: EventBus, tasks: anyio.abc.TaskGroup) -> LogTail:
    """The log's tail, running in ``tasks`` until the bus closes (as the app runs it)."""
    tail = LogTail(db.events, bus, sse_frame, debounce=0)
    await tasks.start(tail.run)
    return tail


def parse(text: str) -> list[Message]:
    """SSE text -> messages ({id, event, data}) and comments ({comment})."""
    messages: list[Message] = []
    for block in text.split("\n\n"):
        if not block.strip():
            continue
        message: Message = {}
        for line in block.split("\n"):
            if line.startswith(":"):
                message["comment"] = line[1:].strip()
            else:
                name, _, value = line.partition(": ")
                message[name] = msgspec.json.decode(value) if name == "data" else value
        messages.append(message)
    return messages


class Reader:
    """Collects a stream's frames in a task; ``wait_for`` n event messages."""

    def __init__(self, stream: EventStream) -> None:
        self.stream = stream
        self.text = ""
        self._changed = anyio.Event()

    async def run(self) -> None:
        async for chunk in self.stream.frames():
            self.text += chunk.decode()
            self._changed.set()
            self._changed = anyio.Event()

    def events(self) -> list[Message]:
        return [m for m in parse(self.text) if "id" in m]

    async def wait_for(self, count: int, *, comment: str | None = None) -> list[Message]:
        with anyio.fail_after(5):
            while len(self.events()) < count or (
                comment is not None
                and not any(m.get("comment") == comment for m in parse(self.text))
            ):
                await self._changed.wait()
        return self.events()


async def test_live_events_arrive_with_seq_type_and_the_webhook_body(
    storage: AnyStorage, db_settings: Settings
) -> None:
    db = storage
    bus = EventBus()
    await append(db, bus, "old")
    async with anyio.create_task_group() as tasks:
        tail = await tail_of(db, bus, tasks)
        reader = Reader(EventStream(db.events, tail, after=await nth_position(db, 1)))
        tasks.start_soon(reader.run)
        await append(db, bus, "a", "b")
        events = await reader.wait_for(2)
        bus.close()
    assert [m["id"] for m in events] == seqs(db_settings)[1:]
    assert [m["event"] for m in events] == ["scan.recorded"] * 2
    data = events[0]["data"]
    assert list(data) == ["type", "id", "seq", "occurred_at", "data"]
    assert str(data["seq"]) == events[0]["id"]
    assert data["data"]["slug"] == "a"
    assert reader.text.startswith("retry: ")


async def test_a_resume_replays_what_was_missed_then_follows_live_without_repeats(
    storage: AnyStorage, db_settings: Settings
) -> None:
    db = storage
    bus = EventBus()
    await append(db, bus, "a", "b", "c", "d")
    async with anyio.create_task_group() as tasks:
        tail = await tail_of(db, bus, tasks)
        after = await nth_position(db, 2)
        stream = EventStream(db.events, tail, after=after, config=StreamConfig(batch=1))
        reader = Reader(stream)
        tasks.start_soon(reader.run)
        await reader.wait_for(2)
        await append(db, bus, "e")
        await append(db, bus, "f")
        events = await reader.wait_for(4)
        bus.close()
    assert [m["id"] for m in events] == seqs(db_settings)[2:]


async def test_filters_keep_only_the_asked_types_and_slug(
    storage: AnyStorage, db_settings: Settings
) -> None:
    db = storage
    bus = EventBus()
    async with anyio.create_task_group() as tasks:
        tail = await tail_of(db, bus, tasks)
        stream = EventStream(
            db.events, tail, after=0, types=frozenset({"scan.recorded"}), slug="menu"
        )
        reader = Reader(stream)
        tasks.start_soon(reader.run)
        await append(db, bus, "menu", "other", "menu")
        await append(db, bus, "menu", kind="code.deleted")
        await append(db, bus, "menu")
        events = await reader.wait_for(3)
        bus.close()
    every = seqs(db_settings)
    assert [m["id"] for m in events] == [every[0], every[2], every[4]]
    assert stream.position == await nth_position(db, 5)


async def test_a_quiet_stream_sends_heartbeat_comments(storage: AnyStorage) -> None:
    db = storage
    bus = EventBus()
    async with anyio.create_task_group() as tasks:
        tail = await tail_of(db, bus, tasks)
        config = StreamConfig(heartbeat=0.01)
        reader = Reader(EventStream(db.events, tail, after=0, config=config))
        tasks.start_soon(reader.run)
        await reader.wait_for(0, comment="heartbeat")
        bus.close()


async def test_streams_are_woken_a_chunk_at_each_turn_of_the_loop(storage: AnyStorage) -> None:
    # Woken all at once, every open stream sends before a waiting redirect gets the loop.
    db = storage
    bus = EventBus()
    count = 3 * WAKE_CHUNK + 1
    woken: list[int] = []
    seen_at_turns: list[int] = []
    async with anyio.create_task_group() as tasks:
        tail = await tail_of(db, bus, tasks)
        tail.followers = count  # as each stream's frames() counts itself in

        async def stream(n: int) -> None:
            assert await tail.wait_past(tail.head, 60)
            woken.append(n)

        for n in range(count):
            tasks.start_soon(stream, n)
        # One more that stops waiting (its stream closed): waking it must not fail.
        with anyio.move_on_after(0.01):
            await tail.wait_past(tail.head, 60)
        await anyio.wait_all_tasks_blocked()
        assert woken == []
        await append(db, bus, "a")
        with anyio.fail_after(5):
            while len(woken) < count:
                await anyio.lowlevel.checkpoint()
                seen_at_turns.append(len(woken))
        bus.close()
    steps = [b - a for a, b in zip([0, *seen_at_turns], seen_at_turns, strict=False)]
    assert max(steps) == WAKE_CHUNK
    assert sum(steps) == count
    assert sorted(woken) == list(range(count))


async def test_streams_not_yet_woken_when_the_tail_stops_are_woken_at_once(
    storage: AnyStorage,
) -> None:
    db = storage
    bus = EventBus()
    count = 4 * WAKE_CHUNK
    woken: list[int] = []
    async with anyio.create_task_group() as tasks:
        tail = LogTail(db.events, bus, sse_frame, debounce=0)
        async with anyio.create_task_group() as tail_group:
            await tail_group.start(tail.run)
            tail.followers = count

            async def stream(n: int) -> None:
                # Woken by the tail: its deadline is far away.
                await tail.wait_past(tail.head, 60)
                woken.append(n)

            for n in range(count):
                tasks.start_soon(stream, n)
            await anyio.wait_all_tasks_blocked()
            await append(db, bus, "a")
            with anyio.fail_after(5):
                while not woken:
                    await anyio.lowlevel.checkpoint()
            assert len(woken) < count  # stopped half-way through its chunks
            tail_group.cancel_scope.cancel()
        with anyio.fail_after(2):
            while len(woken) < count:
                await anyio.lowlevel.checkpoint()
        bus.close()
    assert sorted(woken) == list(range(count))


async def test_a_wait_ends_after_its_seconds_without_events(storage: AnyStorage) -> None:
    bus = EventBus()
    async with anyio.create_task_group() as tasks:
        tail = await tail_of(storage, bus, tasks)
        started = time.monotonic()
        with anyio.fail_after(5):
            assert await tail.wait_past(tail.head, 0.05)
        assert time.monotonic() - started >= 0.04
        bus.close()
    # Closed, it says so at once.
    assert not await tail.wait_past(0, 60)


async def test_with_nobody_following_the_tail_takes_one_ring_a_debounce(
    storage: AnyStorage,
) -> None:
    # Every group commit of the scan path rings the doorbell. With no stream open, each
    # ring woke the tail to do nothing: some 500 a second under load, 6.6 us each.
    bus = EventBus()
    async with anyio.create_task_group() as tasks:
        tail = LogTail(storage.events, bus, sse_frame, debounce=60)
        await tasks.start(tail.run)
        for position in range(1, 52):
            bus.publish_nowait(LogAppended(position))
            for _ in range(5):
                await anyio.lowlevel.checkpoint()
        # The first ring is taken, the next waits in the one-slot doorbell, the rest drop.
        assert bus.dropped_by_subscriber() == {"tail": 49}
        assert tail.entries_after(0) is None  # forgotten: a follower starts from the log
        tasks.cancel_scope.cancel()


async def test_a_closed_tail_ends_its_streams_once_they_have_sent_the_log(
    storage: AnyStorage,
) -> None:
    # The server's drain closes the tail while the bus still runs: a stream sends what it
    # has not sent yet and ends, and one opened afterwards replays the log and ends too.
    db = storage
    bus = EventBus()
    ended = anyio.Event()
    async with anyio.create_task_group() as tasks:
        tail = await tail_of(db, bus, tasks)
        reader = Reader(EventStream(db.events, tail, after=await db.events.last_position()))

        async def follow() -> None:
            await reader.run()
            ended.set()

        tasks.start_soon(follow)
        await append(db, bus, "a")
        await reader.wait_for(1)
        tail.close()
        with anyio.fail_after(5):
            await ended.wait()
        late = Reader(EventStream(db.events, tail, after=0))
        with anyio.fail_after(5):
            await late.run()
        bus.close()
    assert [m["data"]["data"]["slug"] for m in reader.events()] == ["a"]
    assert [m["data"]["data"]["slug"] for m in late.events()] == ["a"]


async def test_a_stream_catching_up_through_the_log_gives_the_loop_a_turn_each_batch(
    storage: AnyStorage,
) -> None:
    # A stream far behind reads the log on the loop (SQLite's reads are synchronous there),
    # and a send to a client that is gone returns at once under uvicorn: without a turn
    # each batch, such a stream held the loop (every redirect, and the cancel that would
    # end it) through the whole backlog.
    db = storage
    bus = EventBus()
    batch, batches = 50, 6
    for start in range(0, batch * batches, 100):
        await append(db, bus, *(f"s{i}" for i in range(start, start + 100)))
    ticks = 0
    turns_per_batch: list[int] = []

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await anyio.lowlevel.checkpoint()

    async with anyio.create_task_group() as tasks:
        tail = await tail_of(db, bus, tasks)
        tasks.start_soon(ticker)
        stream = EventStream(db.events, tail, after=0, config=StreamConfig(batch=batch))
        received = 0
        frames = cast(AsyncGenerator[bytes, None], stream.frames())  # an async generator
        async for chunk in frames:  # a consumer that never waits, as a gone client's sends
            received += chunk.count(b"\nevent: ")
            turns_per_batch.append(ticks)
            if received >= batch * batches:
                break
        await frames.aclose()
        bus.close()
        tasks.cancel_scope.cancel()
    assert received == batch * batches
    # The ticker ran between every two of the log's batches (the first chunk is the retry
    # line, the next six one batch each).
    progress = turns_per_batch[1:]
    assert len(progress) == batches
    assert all(later > earlier for earlier, later in itertools.pairwise(progress))


async def test_a_stream_quiet_for_longer_than_the_send_timeout_is_kept(
    storage: AnyStorage,
) -> None:
    # The watchdog times sends, not the silences between them.
    db = storage
    bus = EventBus()
    sent: list[MutableMapping[str, Any]] = []
    arrived = anyio.Event()
    async with anyio.create_task_group() as tasks:
        tail = await tail_of(db, bus, tasks)
        stream = EventStream(db.events, tail, after=await db.events.last_position())
        response = EventStreamResponse(stream, StreamConfig(send_timeout=0.05))

        async def send(message: MutableMapping[str, Any]) -> None:
            sent.append(message)
            if b"late" in message.get("body", b""):
                arrived.set()

        tasks.start_soon(response.stream_response, send)
        await anyio.sleep(0.3)
        await append(db, bus, "late")
        with anyio.fail_after(5):
            await arrived.wait()
        bus.close()
    bodies = [m for m in sent if m["type"] == "http.response.body"]
    # retry:, the event, then the end once the tail closed: never cut off as too slow.
    assert bodies[-1] == {"type": "http.response.body", "body": b"", "more_body": False}


async def test_a_client_gone_mid_send_is_the_servers_own_error(storage: AnyStorage) -> None:
    # Starlette turns an OSError from send into a client disconnect: it must come out as
    # itself, not wrapped in an exception group.
    db = storage
    bus = EventBus()
    await append(db, bus, "a")
    await nth_position(db, 1)
    tail = LogTail(db.events, bus, sse_frame)
    response = EventStreamResponse(
        EventStream(db.events, tail, after=0), StreamConfig(send_timeout=5)
    )

    async def gone(message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.body":
            raise OSError("connection reset")

    with anyio.fail_after(5), pytest.raises(OSError, match="connection reset"):
        await response.stream_response(gone)


async def test_a_client_too_slow_to_take_a_message_is_disconnected(storage: AnyStorage) -> None:
    db = storage
    bus = EventBus()
    await append(db, bus, "a")
    await nth_position(db, 1)  # past PostgreSQL's fence, so the stream has it to send
    tail = LogTail(db.events, bus, sse_frame)
    response = EventStreamResponse(
        EventStream(db.events, tail, after=0), StreamConfig(send_timeout=0.05)
    )
    sent: list[MutableMapping[str, Any]] = []

    async def stuck_send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)
        if message["type"] == "http.response.body":
            await anyio.sleep_forever()

    with anyio.fail_after(5):
        await response.stream_response(stuck_send)
    assert sent[0]["type"] == "http.response.start"
    assert len(sent) == 2  # the start and the one message it never took
    assert bus.dropped_by_subscriber() == {}


async def test_once_the_server_stops_a_stuck_send_is_dropped_soon(storage: AnyStorage) -> None:
    """A client that does not read held the drain (and a restart's handover) to its
    deadline: once the tail closes, a send may take ``closing_send_timeout`` only."""
    db = storage
    bus = EventBus()
    await append(db, bus, "a")
    await nth_position(db, 1)
    tail = LogTail(db.events, bus, sse_frame)
    config = StreamConfig(send_timeout=60, closing_send_timeout=0.05)
    response = EventStreamResponse(EventStream(db.events, tail, after=0), config)
    sent: list[MutableMapping[str, Any]] = []
    stuck = anyio.Event()

    async def stuck_send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)
        if message["type"] == "http.response.body":
            stuck.set()
            await anyio.sleep_forever()

    with anyio.fail_after(10):
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(response.stream_response, stuck_send)
            await stuck.wait()
            tail.close()
    assert len(sent) == 2  # the start and the one message it never took: no end sent


# --- over HTTP -------------------------------------------------------------------------


@pytest.fixture
async def served(scanlet_db: str, tmp_path: Path) -> AsyncIterator[tuple[str, dict[str, str]]]:
    """The app under a real uvicorn on a free port (streams need a real server), with an
    admin key; a key limited to the tag ``agency-x`` is in ``LIMITED`` of the headers."""
    settings = load_settings(
        {
            "SCANLET_DB": scanlet_db,
            "SCANLET_BASE_URL": "http://qr.test",
            "SCANLET_SECRET_FILE": str(tmp_path / "scanlet.key"),
        },
        isatty=False,
    )
    async with open_storage(settings) as storage:
        key = await ApiKeys(storage.keys).create("admin", Scope.ADMIN, now=datetime.now(UTC))
        agency = await ApiKeys(storage.keys).create(
            "agency", Scope.READ, now=datetime.now(UTC), tags=["agency-x"]
        )
    app = create_app(settings, registry=CollectorRegistry(), features=[IntegrationsFeature()])
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host="127.0.0.1",
            port=port,
            log_config=None,
            ws="none",
            lifespan="on",
            timeout_graceful_shutdown=1,
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    with anyio.fail_after(10):
        while not server.started:  # noqa: ASYNC110 - uvicorn offers no event to wait on
            await anyio.sleep(0.01)
    try:
        yield (
            f"http://127.0.0.1:{port}",
            {"Authorization": f"Bearer {key.token}", LIMITED: f"Bearer {agency.token}"},
        )
    finally:
        server.should_exit = True
        await anyio.to_thread.run_sync(thread.join, 10)


#: Where ``served`` puts the Authorization header of its key limited to ``agency-x``.
LIMITED = "x-test-limited-authorization"


class HttpReader:
    """Reads one streamed response's SSE messages as they come."""

    def __init__(self, response: httpx.Response) -> None:
        self._chunks = response.aiter_text()
        self._text = ""

    async def events(self, count: int) -> list[Message]:
        with anyio.fail_after(5):
            while True:
                events = [m for m in parse(self._text) if "id" in m]
                if len(events) >= count:
                    return events
                self._text += await anext(self._chunks)


async def test_over_http_a_reconnect_with_last_event_id_gets_what_was_missed(
    served: tuple[str, dict[str, str]],
) -> None:
    base, auth = served
    async with httpx.AsyncClient(base_url=base, headers=auth) as client:

        async def create(slug: str) -> None:
            response = await client.post(
                "/api/v1/codes", json={"target": "https://example.com/", "slug": slug}
            )
            assert response.status_code == 201

        async with client.stream("GET", "/api/v1/stream?types=code.created") as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            await create("first")
            (first,) = await HttpReader(response).events(1)
        await create("missed")
        await client.get("/missed")  # a scan.recorded, filtered out below
        await create("also-missed")
        headers = {"Last-Event-ID": first["id"]}
        async with client.stream(
            "GET", "/api/v1/stream?types=code.created", headers=headers
        ) as response:
            reader = HttpReader(response)
            replayed = await reader.events(2)
            await create("live")
            events = await reader.events(3)
    assert first["data"]["data"]["code"]["slug"] == "first"
    assert [m["data"]["data"]["code"]["slug"] for m in replayed] == ["missed", "also-missed"]
    assert [m["data"]["data"]["code"]["slug"] for m in events][2] == "live"
    assert [int(m["id"]) for m in events] == sorted({int(m["id"]) for m in events})


async def test_over_http_a_limited_keys_stream_of_every_code_shows_only_its_codes(
    served: tuple[str, dict[str, str]],
) -> None:
    base, headers = served
    auth = {"Authorization": headers["Authorization"]}
    limited = {"Authorization": headers[LIMITED]}
    async with (
        httpx.AsyncClient(base_url=base, headers=auth) as admin,
        httpx.AsyncClient(base_url=base, headers=limited) as agency,
        agency.stream("GET", "/api/v1/stream") as response,
    ):
        assert response.status_code == 200
        for slug, tags in [("theirs", ["agency-y"]), ("ours", ["agency-x"]), ("bare", [])]:
            made = await admin.post(
                "/api/v1/codes",
                json={"target": "https://example.com/", "slug": slug, "tags": tags},
            )
            assert made.status_code == 201
        for path in ("/theirs", "/nope", "/bare", "/ours"):
            await admin.get(path)  # scans of each (an orphan for /nope)
        await admin.patch("/api/v1/codes/theirs", json={"title": "not for the agency"})
        await admin.patch("/api/v1/codes/ours", json={"title": "the last one"})
        events = await HttpReader(response).events(3)
    shown = [
        (m["event"], m["data"]["data"].get("slug") or m["data"]["data"]["code"]["slug"])
        for m in events
    ]
    assert shown == [
        ("code.created", "ours"),
        ("scan.recorded", "ours"),
        ("code.updated", "ours"),
    ]


@pytest.fixture
def client(scanlet_db: str, tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, str]]]:
    settings = load_settings(
        {"SCANLET_DB": scanlet_db, "SCANLET_SECRET_FILE": str(tmp_path / "scanlet.key")},
        isatty=False,
    )
    app = create_app(settings, registry=CollectorRegistry(), features=[IntegrationsFeature()])
    with TestClient(app) as test_client:
        store = app.state.services.keys
        created = test_client.portal.call(  # type: ignore[union-attr]
            lambda: store.create("r", Scope.READ, now=datetime.now(UTC))
        )
        yield test_client, {"Authorization": f"Bearer {created.token}"}


@pytest.mark.parametrize(
    ("query", "headers", "loc"),
    [
        ("types=scan.teleported", {}, ["query", "types"]),
        ("types=,", {}, ["query", "types"]),
        ("slug=" + "x" * 65, {}, ["query", "slug"]),
        ("", {"Last-Event-ID": "abc"}, ["header", "Last-Event-ID"]),
        ("", {"Last-Event-ID": "-1"}, ["header", "Last-Event-ID"]),
    ],
)
def test_bad_stream_parameters_are_422(
    client: tuple[TestClient, dict[str, str]], query: str, headers: dict[str, str], loc: list[str]
) -> None:
    test_client, auth = client
    response = test_client.get(f"/api/v1/stream?{query}", headers={**auth, **headers})
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == loc


def test_the_stream_needs_a_key(client: tuple[TestClient, dict[str, str]]) -> None:
    assert client[0].get("/api/v1/stream").status_code == 401


async def test_a_tag_limited_stream_shows_only_the_events_of_visible_codes(
    storage: AnyStorage,
) -> None:
    db = storage
    bus = EventBus()
    visible = {"ours": True, "theirs": False}
    asked: list[str] = []

    async def sees(slug: str) -> bool:
        asked.append(slug)
        return visible.get(slug, False)

    async with anyio.create_task_group() as tasks:
        tail = await tail_of(db, bus, tasks)
        stream = EventStream(db.events, tail, after=await db.events.last_position(), visible=sees)
        reader = Reader(stream)
        tasks.start_soon(reader.run)
        await append(db, bus, "theirs", "ours", "theirs", "ours")
        await reader.wait_for(2)
        # A code event may move a code in or out of the limit: the slug is asked again.
        visible["theirs"] = True
        await append(db, bus, "theirs", kind="code.deleted")
        events = await reader.wait_for(3)
        bus.close()
    assert [m["data"]["data"]["slug"] for m in events] == ["ours", "ours", "theirs"]
    assert asked == ["theirs", "ours", "theirs"]
