"""The ``users`` table and the failed sign-ins, on PostgreSQL (the rules: ``actors.access``)."""

from __future__ import annotations

from datetime import datetime

from scanlet.storage.ports import LastOwner
from scanlet.storage.postgres.audit import write_audit
from scanlet.storage.postgres.database import Connection, PgDatabase
from scanlet.storage.records import AuditEntry, UserRow
from scanlet.storage.rows import (
    USER_COLUMNS,
    USER_INSERT_COLUMNS,
    encode_list,
    user_row,
    user_values,
)
from scanlet.storage.timefmt import format_time

__all__ = ("SignInFailureStore", "UserStore")

_OWNERS = "SELECT COUNT(*) FROM users WHERE role = 'owner' AND disabled_at IS NULL"


async def _owners_locked(conn: Connection) -> int:
    # Changes to users are rare: one at a time across every instance, so two admins demoting
    # the last two owners at once cannot both see "one other owner is left".
    await conn.execute("LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE")
    return int(await conn.fetchval(_OWNERS))


class UserStore:
    """Users in the ``users`` table (the ``UserRepository`` port)."""

    def __init__(self, db: PgDatabase) -> None:
        self._db = db

    async def insert(
        self, row: UserRow, password_hash: str | None, *, audit: AuditEntry | None = None
    ) -> bool:
        """Store a new user (and ``audit``); False when the email is taken."""

        async def insert(conn: Connection) -> bool:
            status = await conn.execute(
                f"INSERT INTO users ({USER_INSERT_COLUMNS})"
                " VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (email) DO NOTHING",
                *user_values(row, password_hash),
            )
            if status == "INSERT 0 0":
                return False
            await write_audit(conn, audit)
            return True

        return await self._db.write(insert)

    async def list(self) -> list[UserRow]:
        """Every user, oldest first."""
        rows = await self._db.fetch(f"SELECT {USER_COLUMNS} FROM users ORDER BY created_at, id")
        return [user_row(row) for row in rows]

    async def get(self, user_id: str) -> UserRow | None:
        """A user by id, or None."""
        row = await self._db.fetchrow(f"SELECT {USER_COLUMNS} FROM users WHERE id = $1", user_id)
        return None if row is None else user_row(row)

    async def find_by_email(self, email: str) -> tuple[UserRow, str | None] | None:
        """A user by (lower-case) email with their password hash, or None."""
        row = await self._db.fetchrow(
            f"SELECT {USER_COLUMNS}, password_hash FROM users WHERE email = $1", email
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

        async def save(conn: Connection) -> bool:
            before = await _owners_locked(conn)
            status = await conn.execute(
                "UPDATE users SET role = $2, tags = $3, domains = $7,"
                " disabled_at = CASE WHEN $4 THEN COALESCE(disabled_at, $5) END,"
                " password_hash = COALESCE($6, password_hash) WHERE id = $1",
                row.id,
                row.role,
                encode_list(row.tags),
                row.disabled,
                format_time(now),
                password_hash,
                encode_list(row.domains),
            )
            if status == "UPDATE 0":
                return False
            if before > 0 and int(await conn.fetchval(_OWNERS)) == 0:
                raise LastOwner(row.id)  # rolls the transaction back
            if end_sessions:
                await conn.execute("DELETE FROM dashboard_sessions WHERE user_id = $1", row.id)
            await write_audit(conn, audit)
            return True

        return await self._db.write(save)

    async def delete(self, user_id: str, *, now: datetime, audit: AuditEntry | None = None) -> bool:
        """Delete a user and their sessions; their keys are revoked and kept."""

        async def delete(conn: Connection) -> bool:
            before = await _owners_locked(conn)
            await conn.execute("DELETE FROM dashboard_sessions WHERE user_id = $1", user_id)
            await conn.execute(
                "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $2), user_id = NULL"
                " WHERE user_id = $1",
                user_id,
                format_time(now),
            )
            status = await conn.execute("DELETE FROM users WHERE id = $1", user_id)
            if status == "DELETE 0":
                return False
            if before > 0 and int(await conn.fetchval(_OWNERS)) == 0:
                raise LastOwner(user_id)
            await write_audit(conn, audit)
            return True

        return await self._db.write(delete)


class SignInFailureStore:
    """Failed sign-ins in ``sign_in_failures`` (the ``SignInFailures`` port)."""

    def __init__(self, db: PgDatabase) -> None:
        self._db = db

    async def count(self, account: bytes, address: bytes, since: str) -> tuple[int, int]:
        """Failures since ``since`` for the account and for the address."""
        row = await self._db.fetchrow(
            "SELECT (SELECT COUNT(*) FROM sign_in_failures WHERE account = $1 AND at > $3),"
            " (SELECT COUNT(*) FROM sign_in_failures WHERE address = $2 AND at > $3)",
            account,
            address,
            since,
        )
        assert row is not None
        return int(row[0]), int(row[1])

    async def record(self, account: bytes, address: bytes, at: str, *, forget_before: str) -> None:
        """Note a failure; rows older than ``forget_before`` go in the same transaction."""

        async def record(conn: Connection) -> None:
            await conn.execute("DELETE FROM sign_in_failures WHERE at <= $1", forget_before)
            await conn.execute(
                "INSERT INTO sign_in_failures (at, account, address) VALUES ($1, $2, $3)",
                at,
                account,
                address,
            )

        await self._db.write(record)
