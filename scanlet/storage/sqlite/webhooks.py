"""Webhook tables: endpoints, the delivery outbox and the log of delivery attempts.

Written by the webhooks context only: the registry creates and removes endpoints, the log
follower fills the outbox, the delivery workers record attempts and empty it. Writes are
static functions run inside the caller's ``Database.write`` transaction; reads go through a
``WebhookStore``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import msgspec

from scanlet.storage.cursors import decode_cursor, encode_cursor, seq_part
from scanlet.storage.records import (
    AttemptPage,
    AttemptRow,
    DeliveryRow,
    EndpointRow,
    NewAttempt,
    NewDelivery,
)
from scanlet.storage.sqlite.database import Database
from scanlet.storage.timefmt import format_time, parse_time

__all__ = ("WebhookStore",)

#: Attempts kept per endpoint; older ones are pruned as new ones are recorded.
ATTEMPTS_KEPT = 1000

_types_decoder = msgspec.json.Decoder(tuple[str, ...])


_ENDPOINT_COLUMNS = (
    "id, url, event_types, secret, created_at, after_seq, failures, disabled_at, disabled_reason"
)
_DELIVERY_COLUMNS = (
    "id, endpoint_id, event_seq, event_id, event_type, body, created_at, attempts, next_attempt_at"
)
_ATTEMPT_COLUMNS = (
    "id, delivery_id, event_id, event_type, attempt, attempted_at, status_code, error,"
    " duration_ms, outcome"
)


def _endpoint(row: Any) -> EndpointRow:
    disabled = row[7]
    return EndpointRow(
        id=str(row[0]),
        url=str(row[1]),
        event_types=_types_decoder.decode(str(row[2])),
        secret=str(row[3]),
        created_at=parse_time(str(row[4])),
        after_seq=int(row[5]),
        failures=int(row[6]),
        disabled_at=parse_time(str(disabled)) if disabled is not None else None,
        disabled_reason=None if row[8] is None else str(row[8]),
    )


def _delivery(row: Any) -> DeliveryRow:
    return DeliveryRow(
        id=int(row[0]),
        endpoint_id=str(row[1]),
        event_seq=int(row[2]),
        event_id=str(row[3]),
        event_type=str(row[4]),
        body=bytes(row[5]),
        created_at=parse_time(str(row[6])),
        attempts=int(row[7]),
        next_attempt_at=parse_time(str(row[8])),
    )


def _attempt(row: Any) -> AttemptRow:
    return AttemptRow(
        id=int(row[0]),
        delivery_id=int(row[1]),
        event_id=str(row[2]),
        event_type=str(row[3]),
        attempt=int(row[4]),
        attempted_at=parse_time(str(row[5])),
        status_code=None if row[6] is None else int(row[6]),
        error=None if row[7] is None else str(row[7]),
        duration_ms=float(row[8]),
        outcome=str(row[9]),
    )


class WebhookStore:
    """The webhook tables: reads through the reader pool, writes as transaction helpers."""

    def __init__(self, db: Database) -> None:
        self._db = db

    # --- reads ----------------------------------------------------------------------------

    async def endpoints(self) -> list[EndpointRow]:
        """Every endpoint, oldest first."""
        sql = f"SELECT {_ENDPOINT_COLUMNS} FROM webhook_endpoints ORDER BY created_at, id"
        async with self._db.reader() as conn, conn.execute(sql) as cur:
            return [_endpoint(row) for row in await cur.fetchall()]

    async def endpoint(self, endpoint_id: str) -> EndpointRow | None:
        """One endpoint, or None."""
        sql = f"SELECT {_ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE id = ?"
        async with self._db.reader() as conn, conn.execute(sql, (endpoint_id,)) as cur:
            row = await cur.fetchone()
        return _endpoint(row) if row else None

    async def next_delivery(self, endpoint_id: str) -> DeliveryRow | None:
        """The oldest pending delivery of an endpoint (its order is the log's), or None."""
        sql = (
            f"SELECT {_DELIVERY_COLUMNS} FROM webhook_outbox WHERE endpoint_id = ?"
            " ORDER BY id LIMIT 1"
        )
        async with self._db.reader() as conn, conn.execute(sql, (endpoint_id,)) as cur:
            row = await cur.fetchone()
        return _delivery(row) if row else None

    async def outbox_depth(self) -> int:
        """Pending deliveries across all endpoints."""
        async with (
            self._db.reader() as conn,
            conn.execute("SELECT COUNT(*) FROM webhook_outbox") as cur,
        ):
            row = await cur.fetchone()
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
        async with self._db.reader() as conn, conn.execute(sql, params) as cur:
            rows = [_attempt(row) for row in await cur.fetchall()]
        more = len(rows) > limit
        rows = rows[:limit]
        return AttemptPage(rows, encode_cursor(rows[-1].id) if more else None)

    # --- writes (inside the caller's transaction) -----------------------------------------

    @staticmethod
    def insert_endpoint(conn: sqlite3.Connection, row: EndpointRow) -> None:
        """Store a new endpoint."""
        conn.execute(
            f"INSERT INTO webhook_endpoints ({_ENDPOINT_COLUMNS})"
            " VALUES (?, ?, ?, ?, ?, ?, 0, NULL, NULL)",
            (
                row.id,
                row.url,
                msgspec.json.encode(row.event_types).decode(),
                row.secret,
                format_time(row.created_at),
                row.after_seq,
            ),
        )

    @staticmethod
    def delete_endpoint(conn: sqlite3.Connection, endpoint_id: str) -> bool:
        """Remove an endpoint with its pending deliveries and attempts; False if none."""
        gone = conn.execute("DELETE FROM webhook_endpoints WHERE id = ?", (endpoint_id,))
        conn.execute("DELETE FROM webhook_outbox WHERE endpoint_id = ?", (endpoint_id,))
        conn.execute("DELETE FROM webhook_attempts WHERE endpoint_id = ?", (endpoint_id,))
        return gone.rowcount == 1

    @staticmethod
    def enabled_endpoints(conn: sqlite3.Connection) -> list[EndpointRow]:
        """Endpoints still enabled, read inside the caller's transaction."""
        cur = conn.execute(
            f"SELECT {_ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE disabled_at IS NULL"
        )
        return [_endpoint(row) for row in cur.fetchall()]

    @staticmethod
    def enqueue(conn: sqlite3.Connection, deliveries: Sequence[NewDelivery], now: datetime) -> None:
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
    def record_attempt(conn: sqlite3.Connection, attempt: NewAttempt) -> None:
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
    def remove_delivery(conn: sqlite3.Connection, delivery_id: int) -> None:
        """Take a delivered (or given-up) delivery out of the outbox."""
        conn.execute("DELETE FROM webhook_outbox WHERE id = ?", (delivery_id,))

    @staticmethod
    def reschedule(
        conn: sqlite3.Connection, delivery_id: int, attempts: int, due: datetime
    ) -> None:
        """Record a failed attempt's count and when to try again."""
        conn.execute(
            "UPDATE webhook_outbox SET attempts = ?, next_attempt_at = ? WHERE id = ?",
            (attempts, format_time(due), delivery_id),
        )

    @staticmethod
    def set_failures(conn: sqlite3.Connection, endpoint_id: str, failures: int) -> None:
        """Store an endpoint's count of consecutive failed attempts."""
        conn.execute(
            "UPDATE webhook_endpoints SET failures = ? WHERE id = ?", (failures, endpoint_id)
        )

    @staticmethod
    def disable_endpoint(
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
