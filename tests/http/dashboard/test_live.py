"""The live count: the dashboard stream sends a code's total after each batch of its scans."""

from __future__ import annotations

import time

import anyio

from scanlet.actors.events import LogAppended, ScanRecorded, encode_event
from scanlet.http.dashboard.live import CountingStream
from scanlet.http.stream import StreamConfig
from scanlet.runtime import EventBus
from scanlet.storage.records import NewEvent
from tests.conftest import AnyStorage
from tests.http.test_stream import NOW, tail_of


async def scan(db: AnyStorage, bus: EventBus, slug: str) -> None:
    event = ScanRecorded(
        id=f"{slug}-{time.monotonic_ns()}", occurred_at=NOW, slug=slug, source="qr"
    )
    stored = NewEvent(
        event.id, "scan.recorded", slug, "2026-11-27T00:00:00.000000Z", encode_event(event)
    )
    last = await db.events.append([stored], NOW)
    bus.publish_nowait(LogAppended(last))


async def test_the_count_comes_first_then_after_each_batch_of_the_codes_scans(
    storage: AnyStorage,
) -> None:
    db = storage
    bus = EventBus()
    counts = iter(range(41, 100))

    async def count() -> int:
        return next(counts)

    async with anyio.create_task_group() as tasks:
        tail = await tail_of(db, bus, tasks)
        stream = CountingStream(
            db.events, tail, after=0, slug="menu", count=count, config=StreamConfig(heartbeat=60)
        )
        await follow_counts(db, bus, stream)
        bus.close()


async def follow_counts(db: AnyStorage, bus: EventBus, stream: CountingStream) -> None:
    frames = stream.frames()

    async def next_count() -> bytes:
        async for frame in frames:
            assert b"other" not in frame  # another code's scans are filtered out
            if frame.startswith(b"event: count"):
                return frame
        raise AssertionError("the stream ended")

    with anyio.fail_after(5):
        assert await next_count() == b"event: count\ndata: 41\n\n"
        await scan(db, bus, "other")
        await scan(db, bus, "menu")
        assert await next_count() == b"event: count\ndata: 42\n\n"
        await scan(db, bus, "menu")
        assert await next_count() == b"event: count\ndata: 43\n\n"
    await frames.aclose()  # type: ignore[attr-defined]
