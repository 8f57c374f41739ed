"""The scans context's tables on PostgreSQL: counters, device event ids, visitor salts.

A group commit takes row locks on the device ids and counters it writes, always in sorted
order: instances committing at once then queue on a shared row instead of deadlocking.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime

from scanlet.storage.postgres.database import Connection, PgDatabase
from scanlet.storage.postgres.eventlog import EventLog
from scanlet.storage.records import ScanBatch, ScanCommit
from scanlet.storage.timefmt import format_time

__all__ = ("ScanStore",)

_SALT_PREFIX = "visitor-salt:"


class ScanStore:
    """``scan_counters``, ``device_event_ids`` and the visitor salts in ``server_secrets``."""

    def __init__(self, db: PgDatabase) -> None:
        self._db = db

    async def load_counters(self) -> dict[str, int]:
        """Every code's scan count."""
        rows = await self._db.fetch("SELECT slug, scans FROM scan_counters")
        return {row[0]: int(row[1]) for row in rows}

    async def counts_for(self, slugs: Iterable[str]) -> dict[str, int]:
        """Scan counts for ``slugs`` (missing ones have no scans yet)."""
        rows = await self._db.fetch(
            "SELECT slug, scans FROM scan_counters WHERE slug = ANY($1::text[])",
            list(dict.fromkeys(slugs)),
        )
        return {row[0]: int(row[1]) for row in rows}

    async def claimed(self, ids: Iterable[str]) -> set[str]:
        """Those of ``ids`` claimed already (by a device ingest or an import, of any
        instance)."""
        rows = await self._db.fetch(
            "SELECT id FROM device_event_ids WHERE id = ANY($1::text[])", list(dict.fromkeys(ids))
        )
        return {row[0] for row in rows}

    async def record(self, batch: ScanBatch, recorded_at: datetime) -> ScanCommit:
        """One group commit: claim the device ids, append every new event, add to the
        counters, in one transaction."""
        stamp = format_time(recorded_at)

        async def store(conn: Connection) -> ScanCommit:
            # Copies: the batch is the caller's, and a failed transaction must leave it as it
            # was (it may also run again after a deadlock).
            events = list(batch.entries)
            counts = dict(batch.counts)
            fresh: list[list[bool]] = []
            for device in batch.devices:
                new = await _claim_device_ids(conn, [item.id for item in device])
                fresh.append(new)
                for item, is_new in zip(device, new, strict=True):
                    if is_new:
                        events.append(item.entry)
                        if item.counted:
                            counts[item.slug] = counts.get(item.slug, 0) + 1
            if not events:
                return ScanCommit(None, fresh, counts)
            last_seq = await EventLog.add(conn, events, stamp)
            totals = await _add_to_counters(conn, counts)
            return ScanCommit(last_seq, fresh, counts, totals)

        return await self._db.write(store)

    async def salt_for(self, day: date, *, keep_days: int = 2) -> bytes:
        """The visitor salt of ``day``, created on first use (by whichever instance comes
        first: the others then read that one); salts older than ``keep_days`` are deleted."""
        name = f"{_SALT_PREFIX}{day.isoformat()}"
        oldest = date.fromordinal(day.toordinal() - keep_days + 1).isoformat()

        async def load_or_create(conn: Connection) -> bytes:
            await conn.execute(
                "INSERT INTO server_secrets (name, value, created_at) VALUES ($1, $2, $3)"
                " ON CONFLICT (name) DO NOTHING",
                name,
                secrets.token_bytes(32),
                day.isoformat(),
            )
            await conn.execute(
                "DELETE FROM server_secrets WHERE name LIKE $1 AND name < $2",
                f"{_SALT_PREFIX}%",
                f"{_SALT_PREFIX}{oldest}",
            )
            value = await conn.fetchval("SELECT value FROM server_secrets WHERE name = $1", name)
            return bytes(value)

        return await self._db.write(load_or_create)


async def _claim_device_ids(conn: Connection, ids: Sequence[str]) -> list[bool]:
    """Record device event ids in the caller's transaction: for each id, True if it is new,
    False if it was seen before (earlier in ``ids``, or by any instance, ever). An id that
    another instance is inserting right now waits for that transaction: a duplicate if it
    commits, new if it rolls back."""
    inserted = await conn.fetch(
        "INSERT INTO device_event_ids (id) SELECT DISTINCT i FROM unnest($1::text[]) AS i"
        " ORDER BY i ON CONFLICT DO NOTHING RETURNING id",
        list(ids),
    )
    new_ids = {row[0] for row in inserted}
    fresh: list[bool] = []
    for event_id in ids:
        is_new = event_id in new_ids
        fresh.append(is_new)
        new_ids.discard(event_id)
    return fresh


async def _add_to_counters(conn: Connection, increments: Mapping[str, int]) -> dict[str, int]:
    """Add to the counters; each one's total afterwards, other instances' scans included
    (the same statement: no extra round trip)."""
    if not increments:
        return {}
    slugs = sorted(increments)
    rows = await conn.fetch(
        "INSERT INTO scan_counters (slug, scans)"
        " SELECT * FROM unnest($1::text[], $2::bigint[]) AS u(slug, n) ORDER BY slug"
        " ON CONFLICT (slug) DO UPDATE SET scans = scan_counters.scans + excluded.scans"
        " RETURNING slug, scans",
        slugs,
        [increments[slug] for slug in slugs],
    )
    return {row[0]: int(row[1]) for row in rows}
