"""Dashboard sessions kept on the server: the rules, the same for every adapter.

The browser holds a random token; the database only its SHA-256 (``dashboard_sessions``).
A copy of the database (or a backup) therefore holds nothing that works as a cookie, and
deleting a row ends that session at once, wherever its cookie was copied to. The token is
32 random bytes, so a fast hash is enough to store it (as for API keys). A session ends at
its absolute expiry, or once unused for the idle time; the rows of ended sessions are
deleted whenever somebody signs in, which keeps the table to the sessions of the last hours.

An adapter subclasses ``SessionRules`` with the four row operations.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import secrets
from datetime import datetime, timedelta
from typing import NamedTuple

from scanlet.storage.errors import StorageUnavailable
from scanlet.storage.records import StoredSession
from scanlet.storage.timefmt import format_time, parse_time

__all__ = ("SessionRow", "SessionRules")

#: Random bytes in a token; ``token_urlsafe`` writes them as 43 characters.
TOKEN_BYTES = 32
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{43}")
#: How stale ``last_seen_at`` may get before a request writes it again: idle expiry needs
#: minutes, not a write on every page, image and stream a signed-in browser asks for.
TOUCH_EVERY = timedelta(minutes=1)


class SessionRow(NamedTuple):
    """A stored session (times as stored text); exactly one of ``key_id`` and ``user_id``."""

    key_id: str | None
    user_id: str | None
    created_at: str
    last_seen_at: str
    expires_at: str


def _hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def _shaped(token: str) -> bool:
    # Anything else (an old signed cookie, junk) cannot be a token: no query for it.
    return _TOKEN_SHAPE.fullmatch(token) is not None


class SessionRules:
    """Sessions lasting ``max_age`` at most and ``idle`` unused (the ``SessionRepository``
    port); subclasses store the rows."""

    def __init__(self, *, max_age: timedelta, idle: timedelta) -> None:
        self.max_age = max_age
        self.idle = idle

    async def create(
        self, key_id: str | None, *, now: datetime, user_id: str | None = None
    ) -> tuple[str, StoredSession]:
        """Start a session for ``key_id`` or ``user_id`` (one of them): its token (for the
        cookie) and what is stored.

        Deletes the rows of sessions that have ended in the same transaction."""
        if (key_id is None) == (user_id is None):
            raise ValueError("a session belongs to a key or to a user")
        token = secrets.token_urlsafe(TOKEN_BYTES)
        digest = _hash(token)
        stored = StoredSession(
            id=digest.hex(),
            key_id=key_id,
            created_at=format_time(now),
            expires_at=format_time(now + self.max_age),
            user_id=user_id,
        )
        await self._insert(
            digest,
            SessionRow(key_id, user_id, stored.created_at, stored.created_at, stored.expires_at),
            idle_since=format_time(now - self.idle),
        )
        return token, stored

    async def find(self, token: str, *, now: datetime) -> StoredSession | None:
        """The live session of ``token``, or None (unknown, ended, expired or idle too long).

        Notes the use, at most once per ``TOUCH_EVERY``, for the idle expiry."""
        if not _shaped(token):
            return None
        digest = _hash(token)
        row = await self._select(digest)
        if row is None or parse_time(row.expires_at) <= now:
            return None
        last_seen = parse_time(row.last_seen_at)
        if last_seen + self.idle <= now:
            return None
        if now - last_seen >= TOUCH_EVERY:
            # Best effort: while writes fail (a full disk) the session still works for
            # reading; the next request notes the use instead.
            with contextlib.suppress(StorageUnavailable):
                await self._touch(digest, format_time(now))
        return StoredSession(digest.hex(), row.key_id, row.created_at, row.expires_at, row.user_id)

    async def end(self, token: str) -> bool:
        """End the session of ``token`` (signing out); False if there was none."""
        if not _shaped(token):
            return False
        return await self._delete(_hash(token))

    # -- the rows, per adapter ---------------------------------------------------------------

    async def _insert(self, digest: bytes, row: SessionRow, *, idle_since: str) -> None:
        """Store a new session, deleting in the same transaction the rows of sessions
        expired by ``row.created_at`` or unused since ``idle_since``."""
        raise NotImplementedError

    async def _select(self, digest: bytes) -> SessionRow | None:
        """The stored session of ``digest``, or None."""
        raise NotImplementedError

    async def _touch(self, digest: bytes, seen: str) -> None:
        """Note that the session was used at ``seen``."""
        raise NotImplementedError

    async def _delete(self, digest: bytes) -> bool:
        """Delete the session; False if there was none."""
        raise NotImplementedError
