"""Webhook tables: endpoints, the delivery outbox and the log of delivery attempts.

Written by the webhooks context only: the registry creates and removes endpoints, the log
follower fills the outbox, the delivery workers record attempts and empty it. Writes are
static functions run inside the caller's ``Database.write`` transaction; reads go through a
``WebhookStore``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import msgspec

from scanlet.storage.cursors import decode_cursor, encode_cursor, seq_part
from scanlet.storage.ports import PositionMoved
from scanlet.storage.records import (
    AttemptOutcome,
    AttemptPage,
    AttemptResult,
    DeliveryRow,
    EndpointRow,
    NewAttempt,
    NewDelivery,
)
from scanlet.storage.rows import ATTEMPT_COLUMNS as _ATTEMPT_COLUMNS
from scanlet.storage.rows import ATTEMPTS_KEPT, encode_list, webhook_endpoint
from scanlet.storage.rows import DELIVERY_COLUMNS as _DELIVERY_COLUMNS
from scanlet.storage.rows import attempt_row as _attempt
from scanlet.storage.rows import delivery_row as _delivery
from scanlet.storage.sqlite.database import Database
from scanlet.storage.sqlite.eventlog import EventLog
from scanlet.storage.sqlite.positions import PositionStore
from scanlet.storage.timefmt import format_time

__all__ = ("WebhookStore",)

_ENDPOINT_COLUMNS = (
    "id, url, event_types, secret, created_at, failures, disabled_at, disabled_reason, after_seq,"
    " owner, tags, domains"
)


def _endpoint(row: Any) -> EndpointRow:
    return webhook_endpoint(row, int(row[8]), row[9], row[10], row[11])


class WebhookStore:
    """The webhook tables: reads through the reader pool, writes as transaction helpers."""

    def __init__(self, db: Database) -> None:
        self._db = db

    # --- reads ----------------------------------------------------------------------------

    async def endpoints(self) -> list[EndpointRow]:
        """Every endpoint, oldest first."""
        sql = f"SELECT {_ENDPOINT_COLUMNS} FROM webhook_endpoints ORDER BY created_at, id"
        return [_endpoint(row) for row in await self._db.fetch_all(sql)]

    async def endpoint(self, endpoint_id: str) -> EndpointRow | None:
        """One endpoint, or None."""
        sql = f"SELECT {_ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE id = ?"
        row = await self._db.fetch_one(sql, (endpoint_id,))
        return _endpoint(row) if row else None

    async def next_delivery(self, endpoint_id: str) -> DeliveryRow | None:
        """The oldest pending delivery of an endpoint (its order is the log's), or None."""
        sql = (
            f"SELECT {_DELIVERY_COLUMNS} FROM webhook_outbox WHERE endpoint_id = ?"
            " ORDER BY id LIMIT 1"
        )
        row = await self._db.fetch_one(sql, (endpoint_id,))
        return _delivery(row) if row else None

    async def outbox_depth(self) -> int:
        """Pending deliveries across all endpoints."""
        row = await self._db.fetch_one("SELECT COUNT(*) FROM webhook_outbox")
        return int(row[0]) if row else 0

    async def attempts(
        self, endpoint_id: str, *, limit: int, cursor: str | None = None
    ) -> AttemptPage:
        """Recorded attempts of an endpoint, newest first (InvalidCursor for a bad cursor)."""
        sql = f"SELECT {_ATTEMPT_COLUMNS} FROM webhook_attempts WHERE endpoint_id = ?"
        params: list[object] = [endpoint_id]
        if cursor is not None:
            sql += " AND id < ?"
            (attempt,) = decode_cursor(cursor, 1)
            params.append(seq_part(attempt))
        sql += " ORDER BY id DESC LIMIT ?"
        params.append(limit + 1)
        rows = [_attempt(row) for row in await self._db.fetch_all(sql, params)]
        more = len(rows) > limit
        rows = rows[:limit]
        return AttemptPage(rows, encode_cursor(rows[-1].id) if more else None)

    async def has_enabled_endpoints(self) -> bool:
        """Whether any endpoint is enabled (read on the loop: asked before every batch the
        outbox follower reads, and most installations have none)."""
        return bool(self._db.read_now(WebhookStore._enabled_endpoints))

    # --- writes ---------------------------------------------------------------------------

    async def create_endpoint(self, row: EndpointRow) -> EndpointRow:
        """Store a new endpoint that receives the events committed after this moment; the
        row as stored (its ``after_position`` is the log's end in the same transaction)."""

        def store(conn: sqlite3.Connection) -> EndpointRow:
            stored = msgspec.structs.replace(row, after_position=EventLog.newest_seq(conn))
            WebhookStore._insert_endpoint(conn, stored)
            return stored

        return await self._db.write(store)

    async def delete_endpoint(self, endpoint_id: str) -> bool:
        """Remove an endpoint with its deliveries and attempts; False if there was none."""
        return await self._db.write(lambda conn: WebhookStore._delete_endpoint(conn, endpoint_id))

    async def enqueue(
        self,
        name: str,
        expected: int,
        position: int,
        plan: Callable[[list[EndpointRow]], list[NewDelivery]],
        now: datetime,
    ) -> int:
        """In one transaction: read the enabled endpoints, put what ``plan`` makes of them in
        the outbox, and move the follower ``name`` from ``expected`` to ``position``; how
        many were added (``PositionMoved``, nothing done, if it was not at ``expected``)."""

        def commit(conn: sqlite3.Connection) -> int:
            PositionStore.move(conn, name, expected, position)
            endpoints = WebhookStore._enabled_endpoints(conn)
            deliveries = plan(endpoints) if endpoints else []
            if deliveries:
                WebhookStore._enqueue(conn, deliveries, now)
            return len(deliveries)

        return await self._db.write(commit)

    async def skip_unless_endpoints(self, name: str, expected: int, position: int) -> bool:
        """Move the follower ``name`` from ``expected`` to ``position`` if, in that same
        transaction, no endpoint is enabled; whether it did (``PositionMoved`` if it was not
        at ``expected``). (An endpoint created later starts after the log's end at its
        creation, so it misses nothing.)"""

        def skip(conn: sqlite3.Connection) -> bool:
            if WebhookStore._enabled_endpoints(conn):
                if PositionStore.stored(conn, name) != expected:
                    raise PositionMoved()
                return False
            PositionStore.move(conn, name, expected, position)
            return True

        return await self._db.write(skip)

    async def record_attempt(
        self, attempt: NewAttempt, failures: int, outcome: AttemptOutcome
    ) -> AttemptResult:
        """Record an attempt and its consequence in one transaction (nothing if the endpoint
        was deleted meanwhile): the endpoint disabled with its event, or the delivery
        rescheduled, or taken out of the outbox."""
        endpoint_id, delivery_id = attempt.endpoint_id, attempt.delivery_id

        def record(conn: sqlite3.Connection) -> AttemptResult:
            found = conn.execute(
                "SELECT 1 FROM webhook_endpoints WHERE id = ?", (endpoint_id,)
            ).fetchone()
            if found is None:
                return AttemptResult(0)  # deleted meanwhile: nothing to record against
            WebhookStore._record_attempt(conn, attempt)
            conn.execute(
                "UPDATE webhook_endpoints SET failures = ? WHERE id = ?", (failures, endpoint_id)
            )
            disable = outcome.disable
            if disable is not None:
                dropped = WebhookStore._disable_endpoint(
                    conn, endpoint_id, disable.at, disable.reason
                )
                seq = EventLog.add(conn, [disable.entry], format_time(disable.at))
                return AttemptResult(dropped, seq)
            if outcome.due is None:
                conn.execute("DELETE FROM webhook_outbox WHERE id = ?", (delivery_id,))
                return AttemptResult(1)
            conn.execute(
                "UPDATE webhook_outbox SET attempts = ?, next_attempt_at = ? WHERE id = ?",
                (attempt.attempt, format_time(outcome.due), delivery_id),
            )
            return AttemptResult(0)

        return await self._db.write(record)

    # --- the transactions' parts -----------------------------------------------------------

    @staticmethod
    def _insert_endpoint(conn: sqlite3.Connection, row: EndpointRow) -> None:
        """Store a new endpoint."""
        conn.execute(
            "INSERT INTO webhook_endpoints"
            " (id, url, event_types, secret, created_at, after_seq, owner, tags, domains)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                row.id,
                row.url,
                encode_list(row.event_types),
                row.secret,
                format_time(row.created_at),
                row.after_position,
                row.owner,
                None if row.tags is None else encode_list(row.tags),
                None if row.domains is None else encode_list(row.domains),
            ),
        )

    @staticmethod
    def _delete_endpoint(conn: sqlite3.Connection, endpoint_id: str) -> bool:
        """Remove an endpoint with its pending deliveries and attempts; False if none."""
        gone = conn.execute("DELETE FROM webhook_endpoints WHERE id = ?", (endpoint_id,))
        conn.execute("DELETE FROM webhook_outbox WHERE endpoint_id = ?", (endpoint_id,))
        conn.execute("DELETE FROM webhook_attempts WHERE endpoint_id = ?", (endpoint_id,))
        return gone.rowcount == 1

    @staticmethod
    def _enabled_endpoints(conn: sqlite3.Connection) -> list[EndpointRow]:
        """Endpoints still enabled, read inside the caller's transaction."""
        cur = conn.execute(
            f"SELECT {_ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE disabled_at IS NULL"
        )
        return [_endpoint(row) for row in cur.fetchall()]

    @staticmethod
    def _enqueue(
        conn: sqlite3.Connection, deliveries: Sequence[NewDelivery], now: datetime
    ) -> None:
        """Put deliveries in the outbox, due at once."""
        at = format_time(now)
        conn.executemany(
            "INSERT INTO webhook_outbox (endpoint_id, event_seq, event_id, event_type, body,"
            " created_at, attempts, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, 0, ?)",
            [
                (d.endpoint_id, d.event_seq, d.event_id, d.event_type, d.body, at, at)
                for d in deliveries
            ],
        )

    @staticmethod
    def _record_attempt(conn: sqlite3.Connection, attempt: NewAttempt) -> None:
        """Log an attempt and prune the endpoint's oldest beyond ``ATTEMPTS_KEPT``."""
        cur = conn.execute(
            "INSERT INTO webhook_attempts (endpoint_id, delivery_id, event_id, event_type,"
            " attempt, attempted_at, status_code, error, duration_ms, outcome)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                attempt.endpoint_id,
                attempt.delivery_id,
                attempt.event_id,
                attempt.event_type,
                attempt.attempt,
                format_time(attempt.attempted_at),
                attempt.status_code,
                attempt.error,
                attempt.duration_ms,
                attempt.outcome,
            ),
        )
        newest = cur.lastrowid or 0
        if newest > ATTEMPTS_KEPT:
            conn.execute(
                "DELETE FROM webhook_attempts WHERE endpoint_id = ? AND id <= ?"
                " AND id NOT IN (SELECT id FROM webhook_attempts WHERE endpoint_id = ?"
                " ORDER BY id DESC LIMIT ?)",
                (attempt.endpoint_id, newest, attempt.endpoint_id, ATTEMPTS_KEPT),
            )

    @staticmethod
    def _disable_endpoint(
        conn: sqlite3.Connection, endpoint_id: str, at: datetime, reason: str
    ) -> int:
        """Disable an endpoint and drop its pending deliveries; returns how many were dropped."""
        conn.execute(
            "UPDATE webhook_endpoints SET disabled_at = ?, disabled_reason = ? WHERE id = ?",
            (format_time(at), reason, endpoint_id),
        )
        return conn.execute(
            "DELETE FROM webhook_outbox WHERE endpoint_id = ?", (endpoint_id,)
        ).rowcount
