"""Webhook tables on PostgreSQL: endpoints, the outbox and the delivery attempts.

An endpoint starts at a log position like a follower: it receives the events past the
fence of the transaction that created it (see ``eventlog``), so it may also receive a few
committed just before, by transactions still running elsewhere then; never fewer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import msgspec

from scanlet.storage.cursors import decode_cursor, encode_cursor, seq_part
from scanlet.storage.postgres.database import Connection, PgDatabase
from scanlet.storage.postgres.eventlog import LOG_FENCE, EventLog, join_position
from scanlet.storage.postgres.positions import PositionStore
from scanlet.storage.records import (
    AttemptOutcome,
    AttemptPage,
    AttemptResult,
    DeliveryRow,
    EndpointRow,
    NewAttempt,
    NewDelivery,
)
from scanlet.storage.rows import (
    ATTEMPT_COLUMNS,
    ATTEMPTS_KEPT,
    DELIVERY_COLUMNS,
    attempt_row,
    delivery_row,
    encode_list,
    webhook_endpoint,
)
from scanlet.storage.timefmt import format_time

__all__ = ("WebhookStore",)

_ENDPOINT_COLUMNS = (
    "id, url, event_types, secret, created_at, failures, disabled_at, disabled_reason,"
    " after_xid, after_seq, owner, tags, domains"
)


def _endpoint(row: Any) -> EndpointRow:
    return webhook_endpoint(row, join_position(row[8], row[9]), row[10], row[11], row[12])


class WebhookStore:
    """The webhook tables."""

    def __init__(self, db: PgDatabase) -> None:
        self._db = db

    async def endpoints(self) -> list[EndpointRow]:
        """Every endpoint, oldest first."""
        rows = await self._db.fetch(
            f"SELECT {_ENDPOINT_COLUMNS} FROM webhook_endpoints ORDER BY created_at, id"
        )
        return [_endpoint(row) for row in rows]

    async def endpoint(self, endpoint_id: str) -> EndpointRow | None:
        """One endpoint, or None."""
        row = await self._db.fetchrow(
            f"SELECT {_ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE id = $1", endpoint_id
        )
        return _endpoint(row) if row else None

    async def next_delivery(self, endpoint_id: str) -> DeliveryRow | None:
        """The oldest pending delivery of an endpoint, or None."""
        row = await self._db.fetchrow(
            f"SELECT {DELIVERY_COLUMNS} FROM webhook_outbox WHERE endpoint_id = $1"
            " ORDER BY id LIMIT 1",
            endpoint_id,
        )
        return delivery_row(row) if row else None

    async def outbox_depth(self) -> int:
        """Pending deliveries across all endpoints."""
        return int(await self._db.fetchval("SELECT COUNT(*) FROM webhook_outbox"))

    async def attempts(
        self, endpoint_id: str, *, limit: int, cursor: str | None = None
    ) -> AttemptPage:
        """Recorded attempts of an endpoint, newest first."""
        args: list[object] = [endpoint_id]
        sql = f"SELECT {ATTEMPT_COLUMNS} FROM webhook_attempts WHERE endpoint_id = $1"
        if cursor is not None:
            (attempt,) = decode_cursor(cursor, 1)
            args.append(seq_part(attempt))
            sql += " AND id < $2"
        args.append(limit + 1)
        sql += f" ORDER BY id DESC LIMIT ${len(args)}"
        rows = [attempt_row(row) for row in await self._db.fetch(sql, *args)]
        more = len(rows) > limit
        rows = rows[:limit]
        return AttemptPage(rows, encode_cursor(rows[-1].id) if more else None)

    async def has_enabled_endpoints(self) -> bool:
        """Whether any endpoint is enabled."""
        return bool(
            await self._db.fetchval(
                "SELECT EXISTS (SELECT 1 FROM webhook_endpoints WHERE disabled_at IS NULL)"
            )
        )

    async def create_endpoint(self, row: EndpointRow) -> EndpointRow:
        """Store a new endpoint that receives the events past the log's fence now."""

        async def store(conn: Connection) -> EndpointRow:
            fence = int(await conn.fetchval(f"SELECT {LOG_FENCE}"))
            stored = msgspec.structs.replace(row, after_position=join_position(fence, 0))
            await conn.execute(
                "INSERT INTO webhook_endpoints"
                " (id, url, event_types, secret, created_at, after_xid, after_seq, owner, tags,"
                " domains) VALUES ($1, $2, $3, $4, $5, $6, 0, $7, $8, $9)",
                row.id,
                row.url,
                encode_list(row.event_types),
                row.secret,
                format_time(row.created_at),
                fence,
                row.owner,
                None if row.tags is None else encode_list(row.tags),
                None if row.domains is None else encode_list(row.domains),
            )
            return stored

        return await self._db.write(store)

    async def delete_endpoint(self, endpoint_id: str) -> bool:
        """Remove an endpoint with its deliveries and attempts; False if there was none."""

        async def delete(conn: Connection) -> bool:
            gone = await conn.execute("DELETE FROM webhook_endpoints WHERE id = $1", endpoint_id)
            await conn.execute("DELETE FROM webhook_outbox WHERE endpoint_id = $1", endpoint_id)
            await conn.execute("DELETE FROM webhook_attempts WHERE endpoint_id = $1", endpoint_id)
            return gone == "DELETE 1"

        return await self._db.write(delete)

    async def enqueue(
        self,
        name: str,
        expected: int,
        position: int,
        plan: Callable[[list[EndpointRow]], list[NewDelivery]],
        now: datetime,
    ) -> int:
        """In one transaction: check the follower ``name`` is still at ``expected``, read
        the enabled endpoints, put what ``plan`` makes of them in the outbox, and move the
        follower to ``position``; how many were added."""

        async def commit(conn: Connection) -> int:
            await PositionStore.claim(conn, name, expected)
            endpoints = await _enabled_endpoints(conn)
            deliveries = plan(endpoints) if endpoints else []
            if deliveries:
                await _enqueue(conn, deliveries, now)
            await PositionStore.save(conn, name, position)
            return len(deliveries)

        return await self._db.write(commit)

    async def skip_unless_endpoints(self, name: str, expected: int, position: int) -> bool:
        """Move the follower ``name`` from ``expected`` to ``position`` if, in that same
        transaction, no endpoint is enabled; whether it did."""

        async def skip(conn: Connection) -> bool:
            await PositionStore.claim(conn, name, expected)
            # An endpoint created meanwhile starts at a fence no older than ``position``
            # (the fence only grows), so it wants nothing this skips.
            enabled = await conn.fetchval(
                "SELECT EXISTS (SELECT 1 FROM webhook_endpoints WHERE disabled_at IS NULL)"
            )
            if enabled:
                return False
            await PositionStore.save(conn, name, position)
            return True

        return await self._db.write(skip)

    async def record_attempt(
        self, attempt: NewAttempt, failures: int, outcome: AttemptOutcome
    ) -> AttemptResult:
        """Record an attempt and its consequence in one transaction (nothing if the endpoint
        was deleted meanwhile)."""
        endpoint_id, delivery_id = attempt.endpoint_id, attempt.delivery_id

        async def record(conn: Connection) -> AttemptResult:
            found = await conn.fetchval(
                "SELECT 1 FROM webhook_endpoints WHERE id = $1 FOR UPDATE", endpoint_id
            )
            if found is None:
                return AttemptResult(0)
            await _record_attempt(conn, attempt)
            await conn.execute(
                "UPDATE webhook_endpoints SET failures = $2 WHERE id = $1", endpoint_id, failures
            )
            disable = outcome.disable
            if disable is not None:
                await conn.execute(
                    "UPDATE webhook_endpoints SET disabled_at = $2, disabled_reason = $3"
                    " WHERE id = $1",
                    endpoint_id,
                    format_time(disable.at),
                    disable.reason,
                )
                dropped = await conn.execute(
                    "DELETE FROM webhook_outbox WHERE endpoint_id = $1", endpoint_id
                )
                seq = await EventLog.add(conn, [disable.entry], format_time(disable.at))
                return AttemptResult(int(dropped.rsplit(" ", 1)[1]), seq)
            if outcome.due is None:
                await conn.execute("DELETE FROM webhook_outbox WHERE id = $1", delivery_id)
                return AttemptResult(1)
            await conn.execute(
                "UPDATE webhook_outbox SET attempts = $2, next_attempt_at = $3 WHERE id = $1",
                delivery_id,
                attempt.attempt,
                format_time(outcome.due),
            )
            return AttemptResult(0)

        return await self._db.write(record)


async def _enabled_endpoints(conn: Connection) -> list[EndpointRow]:
    # FOR SHARE: an endpoint being disabled meanwhile (record_attempt locks it FOR UPDATE,
    # then drops its outbox rows) either waits for these deliveries to commit and drops them
    # too, or is seen disabled here; read plainly, deliveries could be queued for an endpoint
    # whose outbox was just emptied, and stay there (and in the outbox gauge) for good.
    rows = await conn.fetch(
        f"SELECT {_ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE disabled_at IS NULL FOR SHARE"
    )
    return [_endpoint(row) for row in rows]


async def _enqueue(conn: Connection, deliveries: Sequence[NewDelivery], now: datetime) -> None:
    at = format_time(now)
    await conn.execute(
        "INSERT INTO webhook_outbox (endpoint_id, event_seq, event_id, event_type, body,"
        " created_at, attempts, next_attempt_at)"
        " SELECT e, s, i, t, b, $6, 0, $6 FROM unnest($1::text[], $2::bigint[], $3::text[],"
        " $4::text[], $5::bytea[]) WITH ORDINALITY AS d(e, s, i, t, b, n) ORDER BY n",
        [d.endpoint_id for d in deliveries],
        [d.event_seq for d in deliveries],
        [d.event_id for d in deliveries],
        [d.event_type for d in deliveries],
        [d.body for d in deliveries],
        at,
    )


async def _record_attempt(conn: Connection, attempt: NewAttempt) -> None:
    newest = await conn.fetchval(
        "INSERT INTO webhook_attempts (endpoint_id, delivery_id, event_id, event_type,"
        " attempt, attempted_at, status_code, error, duration_ms, outcome)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
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
    )
    if int(newest) > ATTEMPTS_KEPT:
        await conn.execute(
            "DELETE FROM webhook_attempts WHERE endpoint_id = $1 AND id <= $2"
            " AND id NOT IN (SELECT id FROM webhook_attempts WHERE endpoint_id = $1"
            " ORDER BY id DESC LIMIT $3)",
            attempt.endpoint_id,
            int(newest),
            ATTEMPTS_KEPT,
        )
