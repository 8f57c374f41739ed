"""What ``scanlet export archive`` does apart from argument parsing: the database read
through its ports and written as the archive's lines, streamed (the scans a batch of the
log at a time, so memory stays flat whatever the log's length)."""

from __future__ import annotations

from collections.abc import Callable
from typing import BinaryIO

import anyio

from scanlet.actors.events import SCAN_EVENT_TYPES
from scanlet.clock import SystemClock
from scanlet.config import Settings
from scanlet.importing.archive import (
    code_line,
    domain_line,
    header_line,
    key_line,
    scan_line,
    webhook_line,
)
from scanlet.storage.opening import open_storage

__all__ = ("export_archive",)

#: Events read from the log per batch.
BATCH = 1000
#: Seconds between reads while the log's readable end has not reached the last event.
FENCE_WAIT = 0.05


async def export_archive(
    settings: Settings, out: BinaryIO, progress: Callable[[int], None] = lambda n: None
) -> int:
    """Write the archive of ``settings``' database to ``out``; the number of scans."""
    async with open_storage(settings, create=False) as storage:
        out.write(header_line(SystemClock().now()))
        # Before the codes: an import registers each domain before the codes living on it.
        for domain in await storage.domains.all():
            out.write(domain_line(domain))
        for row in sorted(await storage.codes.all(), key=lambda r: (r.created_at, r.slug)):
            logo = await storage.codes.logo(row.slug) if row.logo and not row.deleted else None
            out.write(code_line(row, logo))
        for endpoint in await storage.webhooks.endpoints():
            out.write(webhook_line(endpoint))
        for key in await storage.keys.list():
            out.write(key_line(key))
        # Read up to the last event committed when the export began. On PostgreSQL the
        # log is readable only up to the oldest transaction still running (anywhere on
        # the server): an empty read before that event means "not yet", not "the end".
        last = await storage.events.last_seq()
        position, seen, scans = 0, 0, 0
        while seen < last:
            events = await storage.events.read_after(position, BATCH)
            if not events:
                await anyio.sleep(FENCE_WAIT)
                continue
            position = events[-1].position
            seen = max(seen, max(event.seq for event in events))
            lines = [
                line
                for line in (scan_line(e) for e in events if e.type in SCAN_EVENT_TYPES)
                if line is not None
            ]
            out.write(b"".join(lines))
            scans += len(lines)
            progress(len(lines))
        out.flush()
        return scans
