"""API keys: what a key may do, what a token looks like, and how a presented one is checked.

A token reads ``slk_<id>_<secret>``. The id finds the row; the secret is 32 random bytes, so a
fast SHA-256 is enough to store it safely (a slow password hash protects low-entropy secrets,
which these are not) and keeps each authenticated request cheap. Storage keeps the hash only
(``KeyRepository``); the rules are here.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta

from scanlet.actors.access.audit import audit_entry
from scanlet.actors.access.errors import InvalidAccountField
from scanlet.actors.access.roles import Role
from scanlet.actors.access.users import normal_tags
from scanlet.actors.events import SYSTEM_BY, By
from scanlet.storage.ports import KeyRepository
from scanlet.storage.records import ApiKey, CreatedKey, UserRow
from scanlet.storage.timefmt import format_time, parse_time

__all__ = ("TOKEN_PREFIX", "ApiKeys", "Scope", "split_token")

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


class ApiKeys:
    """Creates, lists, revokes and checks keys, kept by ``repository``."""

    def __init__(self, repository: KeyRepository) -> None:
        self._keys = repository

    async def create(
        self,
        name: str,
        scope: Scope,
        *,
        now: datetime,
        expires_days: int | None = None,
        user: UserRow | None = None,
        tags: Sequence[str] = (),
        domains: Sequence[str] = (),
        by: By = SYSTEM_BY,
    ) -> CreatedKey:
        """Create a key (for ``user``, limited to ``tags`` and to ``domains``, hosts as
        ``domain_limits.normal_domains`` gives them) and return it with its one-time token. A
        user's key never exceeds them: its scope is at most their role, and when the user is
        limited to some tags or domains the key is limited to some of those."""
        key_tags = normal_tags(tags, "tag")
        if user is not None:
            if user.disabled:
                raise InvalidAccountField("user", f"{user.email} is disabled")
            if int(scope) > int(Role.parse(user.role)):
                raise InvalidAccountField(
                    "scope", f"{scope.label} is more than {user.email}'s role ({user.role})"
                )
            if user.tags and not set(key_tags) <= set(user.tags):
                raise InvalidAccountField(
                    "tag", f"{user.email} is limited to the tags {', '.join(user.tags)}"
                )
            if user.domains and not set(domains) <= set(user.domains):
                raise InvalidAccountField(
                    "domains", f"{user.email} is limited to the domains {', '.join(user.domains)}"
                )
            key_tags = key_tags or user.tags
            domains = domains or user.domains
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
            user_id=user.id if user is not None else None,
            tags=key_tags,
            domains=tuple(domains),
        )
        audit = audit_entry(
            by,
            now,
            "key.created",
            key_id,
            name=name,
            scope=scope.label,
            user=row.user_id,
            tags=row.tags,
            domains=row.domains,
            expires_at=row.expires_at,
        )
        await self._keys.insert(row, _hash(secret), audit=audit)
        return CreatedKey(key=row, token=f"{TOKEN_PREFIX}{key_id}_{secret}")

    async def list(self) -> list[ApiKey]:
        """Every key, oldest first."""
        return await self._keys.list()

    async def revoke(self, key_id: str, *, now: datetime, by: By = SYSTEM_BY) -> bool:
        """Revoke a key; False when there is no such key."""
        audit = audit_entry(by, now, "key.revoked", key_id)
        return await self._keys.revoke(key_id, now=now, audit=audit)

    async def valid(self, key_id: str, *, now: datetime) -> ApiKey | None:
        """The key ``key_id`` if it is unexpired and unrevoked (a dashboard session's key)."""
        found = await self._keys.find(key_id)
        if found is None or not _live(found[0], now):
            return None
        return found[0]

    async def authenticate(self, token: str, *, now: datetime) -> ApiKey | None:
        """The key a presented token belongs to, if it is valid, unexpired and unrevoked."""
        parts = split_token(token)
        if parts is None:
            return None
        key_id, secret = parts
        found = await self._keys.find(key_id)
        if found is None:
            return None
        key, secret_hash = found
        if not hmac.compare_digest(secret_hash, _hash(secret)):
            return None
        return key if _live(key, now) else None


def _live(key: ApiKey, now: datetime) -> bool:
    return not key.revoked and (key.expires_at is None or parse_time(key.expires_at) > now)
