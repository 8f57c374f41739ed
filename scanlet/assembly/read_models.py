"""What ``scanlet rebuild`` and ``scanlet export scans`` do, apart from argument parsing: the
analytics read models assembled with their adapters, outside a running server."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from datetime import datetime
from typing import TextIO, TypeVar

from scanlet.actors.analytics.actor import rebuild
from scanlet.actors.analytics.export import encode_batches
from scanlet.actors.analytics.projection import AnalyticsProjection
from scanlet.actors.analytics.retention import RetentionPolicy
from scanlet.adapters.geoip import open_countries
from scanlet.adapters.user_agents import describe_agent
from scanlet.clock import SystemClock
from scanlet.config import Settings
from scanlet.storage.opening import open_storage
from scanlet.storage.records import RawScanQuery
from scanlet.storage.timefmt import format_time

__all__ = ("export_scans", "rebuild_read_models")

T = TypeVar("T")


async def rebuild_read_models(
    settings: Settings, remaining: Callable[[int], None] | None = None
) -> int:
    """Rebuild the analytics read models of ``settings.db``; returns the last applied seq.
    ``remaining`` hears how many events are left to apply as it goes (a progress bar).

    Safe beside a running server: each batch checks the stored position in its transaction,
    so the server's follower and this one never apply the same event twice.
    """
    async with AsyncExitStack() as stack:
        storage = await stack.enter_async_context(open_storage(settings, create=False))
        countries = open_countries(settings.geoip_db, stack)
        policy = RetentionPolicy(settings.raw_retention_days, SystemClock().now)
        projection = AnalyticsProjection(describe_agent, countries, policy.cutoff)
        position = await rebuild(
            storage.events,
            storage.positions,
            storage.analytics,
            projection,
            remaining=remaining,
        )
        return storage.events.seq_at(position)


async def export_scans(
    settings: Settings,
    slug: str | None,
    start: datetime | None,
    end: datetime | None,
    fmt: str,
    out: TextIO | None = None,
    written: Callable[[int], None] | None = None,
    total: Callable[[int], None] | None = None,
) -> int:
    """Write matching raw scans to ``out`` (stdout), oldest first; returns the exit code.
    ``total`` hears how many scans match, first; ``written`` the number of scans of each
    batch once it is written (a progress bar)."""
    stream = out or sys.stdout
    query = RawScanQuery(
        slug=slug,
        start=format_time(start) if start else None,
        end=format_time(end) if end else None,
    )
    async with AsyncExitStack() as stack:
        storage = await stack.enter_async_context(open_storage(settings, create=False))
        projection = AnalyticsProjection(describe_agent, open_countries(settings.geoip_db, stack))
        raw_scans = storage.raw_scans(projection.raw_scan)
        if total is not None:
            total(await raw_scans.count(query))
        batches = raw_scans.stream(query, newest_first=False)
        if written is not None:
            batches = _counted(batches, written)
        try:
            async for chunk in encode_batches(batches, fmt):
                stream.write(chunk)
            stream.flush()
        except BrokenPipeError:
            return 0  # the reader went away (`| head`): nothing more to say
    return 0


async def _counted(
    batches: AsyncIterator[list[T]], written: Callable[[int], None]
) -> AsyncIterator[list[T]]:
    """``batches`` as they are, each counted once the next is asked for (so once the one
    before has been written out)."""
    size = 0
    async for batch in batches:
        if size:
            written(size)
        size = len(batch)
        yield batch
    if size:
        written(size)
