"""The scans context's tables: running scan counts per code and the daily visitor salts."""

from __future__ import annotations

import secrets
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime

from scanlet.storage.records import NewEvent, ScanBatch, ScanCommit
from scanlet.storage.sqlite.database import Database
from scanlet.storage.sqlite.eventlog import EventLog
from scanlet.storage.sqlite.lookups import pairs_for
from scanlet.storage.sqlite.recent import RecentAppends
from scanlet.storage.timefmt import format_time

__all__ = ("ScanStore",)

_SALT_PREFIX = "visitor-salt:"


class ScanStore:
    """``scan_counters``, ``device_event_ids`` and the visitor-hash salts kept in
    ``server_secrets``: the scans context's tables."""

    def __init__(self, db: Database, recent: RecentAppends | None = None) -> None:
        self._db = db
        #: Where committed appends go for the log's readers (``EventLog``'s memory).
        self._recent = recent

    async def load_counters(self) -> dict[str, int]:
        """Every code's scan count."""
        return {
            row[0]: int(row[1])
            for row in await self._db.fetch_all("SELECT slug, scans FROM scan_counters")
        }

    async def counts_for(self, slugs: Iterable[str]) -> dict[str, int]:
        """Scan counts for ``slugs`` (missing ones have no scans yet)."""
        found = await pairs_for(self._db, "scan_counters", "slug", "scans", slugs)
        return {slug: int(scans) for slug, scans in found.items()}

    async def claimed(self, ids: Iterable[str]) -> set[str]:
        """Those of ``ids`` claimed already (by a device ingest or an import)."""
        return set(await pairs_for(self._db, "device_event_ids", "id", "id", ids))

    async def record(self, batch: ScanBatch, recorded_at: datetime) -> ScanCommit:
        """One group commit: claim the device ids, append every new event, add to the
        counters, in one transaction."""
        stamp = format_time(recorded_at)
        appended: list[NewEvent] = []

        def store(conn: sqlite3.Connection) -> ScanCommit:
            nonlocal appended
            # Copies: the batch is the caller's, and a failed transaction must leave it as it was.
            events = appended = list(batch.entries)
            counts = dict(batch.counts)
            fresh: list[list[bool]] = []
            for device in batch.devices:
                new = ScanStore._claim_device_ids(conn, [item.id for item in device])
                fresh.append(new)
                for item, is_new in zip(device, new, strict=True):
                    if is_new:
                        events.append(item.entry)
                        if item.counted:
                            counts[item.slug] = counts.get(item.slug, 0) + 1
            if not events:
                return ScanCommit(None, fresh, counts)
            last_seq = EventLog.add(conn, events, stamp)
            ScanStore._add_to_counters(conn, counts)
            return ScanCommit(last_seq, fresh, counts)

        commit = await self._db.write(store)
        if commit.last_seq is not None and self._recent is not None:
            self._recent.add(commit.last_seq, appended, stamp)
        return commit

    @staticmethod
    def _claim_device_ids(conn: sqlite3.Connection, ids: Sequence[str]) -> list[bool]:
        """Record device event ids within the caller's write transaction: for each id, True
        if it is new, False if it was seen before (earlier in ``ids`` or in any batch)."""
        seen: set[str] = set()
        # One lookup per 500 ids and one executemany, rather than a statement per id: this
        # is most of what a 1000-event batch costs the database.
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            query = f"SELECT id FROM device_event_ids WHERE id IN ({marks})"
            seen.update(row[0] for row in conn.execute(query, chunk))
        fresh: list[bool] = []
        new_ids: list[tuple[str]] = []
        for event_id in ids:
            is_new = event_id not in seen
            fresh.append(is_new)
            if is_new:
                seen.add(event_id)
                new_ids.append((event_id,))
        conn.executemany("INSERT INTO device_event_ids (id) VALUES (?)", new_ids)
        return fresh

    @staticmethod
    def _add_to_counters(conn: sqlite3.Connection, increments: Mapping[str, int]) -> None:
        if increments:
            conn.executemany(
                "INSERT INTO scan_counters (slug, scans) VALUES (?, ?)"
                " ON CONFLICT (slug) DO UPDATE SET scans = scans + excluded.scans",
                list(increments.items()),
            )

    async def salt_for(self, day: date, *, keep_days: int = 2) -> bytes:
        """The visitor salt of ``day``, created on first use; salts older than ``keep_days``
        are deleted, which is what makes old visitor hashes impossible to link again.

        A salt alone does not make a hash key: that also takes the server key, which is
        kept outside the database (see ``VisitorHasher``), so this table and the backups
        holding it cannot recompute a visitor hash."""
        name = f"{_SALT_PREFIX}{day.isoformat()}"
        oldest = date.fromordinal(day.toordinal() - keep_days + 1).isoformat()

        def load_or_create(conn: sqlite3.Connection) -> bytes:
            row = conn.execute(
                "SELECT value FROM server_secrets WHERE name = ?", (name,)
            ).fetchone()
            if row is not None:
                return bytes(row[0])
            salt = secrets.token_bytes(32)
            conn.execute(
                "INSERT INTO server_secrets (name, value, created_at) VALUES (?, ?, ?)",
                (name, salt, day.isoformat()),
            )
            conn.execute(
                "DELETE FROM server_secrets WHERE name LIKE ? AND name < ?",
                (f"{_SALT_PREFIX}%", f"{_SALT_PREFIX}{oldest}"),
            )
            return salt

        return await self._db.write(load_or_create)
