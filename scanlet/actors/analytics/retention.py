"""Raw-scan retention: delete rows older than the configured number of days, in small batches.

Small batches keep each write transaction short, so the scan path's group commits never wait
long behind a purge. Rollups are untouched: the history of counts outlives the raw rows.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import anyio
import anyio.lowlevel
import structlog

from scanlet.storage.ports import RawScanReader
from scanlet.storage.timefmt import format_time

__all__ = ("RetentionPolicy", "purge_once", "run_retention")

log = structlog.get_logger("scanlet.analytics")


class RetentionPolicy:
    """Keeps raw scans for ``days`` days (None: forever) as seen by the clock ``now``."""

    def __init__(self, days: int | None, now: Callable[[], datetime]) -> None:
        self.days = days
        self._now = now

    def cutoff(self) -> str | None:
        """Stored-time text before which raw scans are not kept (None: keep everything)."""
        if self.days is None:
            return None
        return format_time(self._now() - timedelta(days=self.days))


async def purge_once(store: RawScanReader, policy: RetentionPolicy, *, batch: int = 500) -> int:
    """Delete every raw scan older than the policy's cutoff, ``batch`` rows per transaction."""
    cutoff = policy.cutoff()
    if cutoff is None:
        return 0
    total = 0
    while True:
        deleted = await store.delete_before(cutoff, batch=batch)
        total += deleted
        if deleted < batch:
            return total
        await anyio.lowlevel.checkpoint()  # let queued scans commit between batches


async def run_retention(
    store: RawScanReader, policy: RetentionPolicy, *, interval: float = 3600.0
) -> None:
    """Purge now and then every ``interval`` seconds until cancelled (a background task)."""
    while True:
        deleted = await purge_once(store, policy)
        if deleted:
            log.info("raw scans purged", deleted=deleted, days=policy.days)
        await anyio.sleep(interval)
