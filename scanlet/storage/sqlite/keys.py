"""API keys: creation, lookup by presented token, listing and revocation.

A token reads ``slk_<id>_<secret>``. The id finds the row; the secret is 32 random bytes, so a
fast SHA-256 is enough to store it safely (a slow password hash protects low-entropy secrets,
which these are not) and keeps each authenticated request cheap.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from scanlet.storage.records import ApiKey, CreatedKey
from scanlet.storage.sqlite.database import Database
from scanlet.storage.timefmt import format_time, parse_time

__all__ = ("ApiKeyStore", "Scope")

TOKEN_PREFIX = "slk_"


class Scope(enum.IntEnum):
    """What a key may do; each scope includes the ones below it."""

    READ = 1
    WRITE = 2
    ADMIN = 3

    @classmethod
    def parse(cls, name: str) -> Scope:
        """``"read"`` -> ``Scope.READ``; raises ValueError for anything else."""
        try:
            return cls[name.upper()]
        except KeyError:
            raise ValueError(f"unknown scope {name!r}: expected read, write or admin") from None

    @property
    def label(self) -> str:
        """The lower-case name used in the CLI, the API and the database."""
        return self.name.lower()


def _hash(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


def split_token(token: str) -> tuple[str, str] | None:
    """``slk_<id>_<secret>`` -> ``(id, secret)``, or None when it is not shaped like a token."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    key_id, sep, secret = token[len(TOKEN_PREFIX) :].partition("_")
    if not sep or not key_id or not secret:
        return None
    return key_id, secret


class ApiKeyStore:
    """Keys in the ``api_keys`` table."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(
        self, name: str, scope: Scope, *, now: datetime, expires_days: int | None = None
    ) -> CreatedKey:
        """Create a key and return it with its one-time token."""
        key_id = secrets.token_hex(6)
        secret = secrets.token_urlsafe(32)
        expires = now + timedelta(days=expires_days) if expires_days is not None else None
        row = ApiKey(
            id=key_id,
            name=name,
            scope=scope.label,
            created_at=format_time(now),
            expires_at=format_time(expires) if expires else None,
            revoked=False,
        )
        values = (row.id, row.name, row.scope, _hash(secret), row.created_at, row.expires_at)
        await self._db.write(
            lambda conn: conn.execute(
                "INSERT INTO api_keys (id, name, scope, secret_hash, created_at, expires_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                values,
            )
        )
        return CreatedKey(key=row, token=f"{TOKEN_PREFIX}{key_id}_{secret}")

    async def list(self) -> list[ApiKey]:
        """Every key, oldest first."""
        async with (
            self._db.reader() as conn,
            conn.execute(
                "SELECT id, name, scope, created_at, expires_at, revoked_at FROM api_keys"
                " ORDER BY created_at, id"
            ) as cur,
        ):
            rows = await cur.fetchall()
        return [
            ApiKey(
                r["id"],
                r["name"],
                r["scope"],
                r["created_at"],
                r["expires_at"],
                r["revoked_at"] is not None,
            )
            for r in rows
        ]

    async def revoke(self, key_id: str, *, now: datetime) -> bool:
        """Revoke a key; False when there is no such key."""
        revoked_at = format_time(now)
        changed = await self._db.write(
            lambda conn: (
                conn.execute(
                    "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?",
                    (revoked_at, key_id),
                ).rowcount
            )
        )
        return bool(changed > 0)

    async def authenticate(self, token: str, *, now: datetime) -> ApiKey | None:
        """The key a presented token belongs to, if it is valid, unexpired and unrevoked."""
        parts = split_token(token)
        if parts is None:
            return None
        key_id, secret = parts
        async with (
            self._db.reader() as conn,
            conn.execute(
                "SELECT id, name, scope, secret_hash, created_at, expires_at, revoked_at"
                " FROM api_keys WHERE id = ?",
                (key_id,),
            ) as cur,
        ):
            row = await cur.fetchone()
        if row is None or not hmac.compare_digest(bytes(row["secret_hash"]), _hash(secret)):
            return None
        if row["revoked_at"] is not None:
            return None
        if row["expires_at"] is not None and parse_time(row["expires_at"]) <= now:
            return None
        return ApiKey(
            row["id"], row["name"], row["scope"], row["created_at"], row["expires_at"], False
        )
