"""The ``users`` table and the failed sign-ins, on SQLite (the rules: ``actors.access``)."""

from __future__ import annotations

import sqlite3
from datetime import datetime

from scanlet.storage.ports import LastOwner
from scanlet.storage.records import AuditEntry, UserRow
from scanlet.storage.rows import (
    USER_COLUMNS,
    USER_INSERT_COLUMNS,
    encode_list,
    user_row,
    user_values,
)
from scanlet.storage.sqlite.audit import write_audit
from scanlet.storage.sqlite.database import Database
from scanlet.storage.timefmt import format_time

__all__ = ("SignInFailureStore", "UserStore")

_OWNERS = "SELECT COUNT(*) FROM users WHERE role = 'owner' AND disabled_at IS NULL"


def _owners(conn: sqlite3.Connection) -> int:
    return int(conn.execute(_OWNERS).fetchone()[0])


class UserStore:
    """Users in the ``users`` table (the ``UserRepository`` port)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def insert(
        self, row: UserRow, password_hash: str | None, *, audit: AuditEntry | None = None
    ) -> bool:
        """Store a new user (and ``audit``); False when the email is taken."""

        def insert(conn: sqlite3.Connection) -> bool:
            cur = conn.execute(
                f"INSERT INTO users ({USER_INSERT_COLUMNS})"
                " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (email) DO NOTHING",
                user_values(row, password_hash),
            )
            if cur.rowcount == 0:
                return False
            write_audit(conn, audit)
            return True

        return await self._db.write(insert)

    async def list(self) -> list[UserRow]:
        """Every user, oldest first."""
        rows = await self._db.fetch_all(f"SELECT {USER_COLUMNS} FROM users ORDER BY created_at, id")
        return [user_row(row) for row in rows]

    async def get(self, user_id: str) -> UserRow | None:
        """A user by id, or None."""
        sql = f"SELECT {USER_COLUMNS} FROM users WHERE id = ?"
        row = await self._db.fetch_one(sql, (user_id,))
        return None if row is None else user_row(row)

    async def find_by_email(self, email: str) -> tuple[UserRow, str | None] | None:
        """A user by (lower-case) email with their password hash, or None."""
        row = await self._db.fetch_one(
            f"SELECT {USER_COLUMNS}, password_hash FROM users WHERE email = ?", (email,)
        )
        return None if row is None else (user_row(row), row[7])

    async def save(
        self,
        row: UserRow,
        *,
        now: datetime,
        password_hash: str | None = None,
        end_sessions: bool = False,
        audit: AuditEntry | None = None,
    ) -> bool:
        """Store role, limits, disabled state (and a new hash); see ``UserRepository.save``."""
        disabled_at = format_time(now)

        def save(conn: sqlite3.Connection) -> bool:
            before = _owners(conn)
            cur = conn.execute(
                "UPDATE users SET role = ?, tags = ?, domains = ?,"
                " disabled_at = CASE WHEN ? THEN COALESCE(disabled_at, ?) END,"
                " password_hash = COALESCE(?, password_hash) WHERE id = ?",
                (
                    row.role,
                    encode_list(row.tags),
                    encode_list(row.domains),
                    row.disabled,
                    disabled_at,
                    password_hash,
                    row.id,
                ),
            )
            if cur.rowcount == 0:
                return False
            if before > 0 and _owners(conn) == 0:
                raise LastOwner(row.id)  # rolls the transaction back
            if end_sessions:
                conn.execute("DELETE FROM dashboard_sessions WHERE user_id = ?", (row.id,))
            write_audit(conn, audit)
            return True

        return await self._db.write(save)

    async def delete(self, user_id: str, *, now: datetime, audit: AuditEntry | None = None) -> bool:
        """Delete a user and their sessions; their keys are revoked and kept."""
        stamp = format_time(now)

        def delete(conn: sqlite3.Connection) -> bool:
            before = _owners(conn)
            conn.execute("DELETE FROM dashboard_sessions WHERE user_id = ?", (user_id,))
            conn.execute(
                "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?), user_id = NULL"
                " WHERE user_id = ?",
                (stamp, user_id),
            )
            if conn.execute("DELETE FROM users WHERE id = ?", (user_id,)).rowcount == 0:
                return False
            if before > 0 and _owners(conn) == 0:
                raise LastOwner(user_id)
            write_audit(conn, audit)
            return True

        return await self._db.write(delete)


class SignInFailureStore:
    """Failed sign-ins in ``sign_in_failures`` (the ``SignInFailures`` port)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def count(self, account: bytes, address: bytes, since: str) -> tuple[int, int]:
        """Failures since ``since`` for the account and for the address."""
        row = await self._db.fetch_one(
            "SELECT (SELECT COUNT(*) FROM sign_in_failures WHERE account = ? AND at > ?),"
            " (SELECT COUNT(*) FROM sign_in_failures WHERE address = ? AND at > ?)",
            (account, since, address, since),
        )
        assert row is not None
        return int(row[0]), int(row[1])

    async def record(self, account: bytes, address: bytes, at: str, *, forget_before: str) -> None:
        """Note a failure; rows older than ``forget_before`` go in the same transaction."""

        def record(conn: sqlite3.Connection) -> None:
            conn.execute("DELETE FROM sign_in_failures WHERE at <= ?", (forget_before,))
            conn.execute(
                "INSERT INTO sign_in_failures (at, account, address) VALUES (?, ?, ?)",
                (at, account, address),
            )

        await self._db.write(record)
