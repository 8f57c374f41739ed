"""Turning what a request presents (a key, a session) into a ``Principal``, looked up on
every request: revoking a key, disabling a user or lowering their role applies at once."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from scanlet.actors.access.keys import ApiKeys, Scope
from scanlet.actors.access.roles import DEFAULT_DOMAIN, Principal, Role, effective_limit
from scanlet.storage.ports import UserRepository
from scanlet.storage.records import ApiKey, StoredSession, UserRow

__all__ = ("Access", "key_principal", "user_principal")


def _acting_domains(default_host: str, *limits: Iterable[str]) -> frozenset[str] | None:
    """The domain limit of several limits that all apply, as ``Principal.domains`` has it:
    the default domain's host (how keys and users store it) becomes ``DEFAULT_DOMAIN``."""
    hosts = effective_limit(*limits)
    if hosts is None:
        return None
    return frozenset(DEFAULT_DOMAIN if host == default_host else host for host in hosts)


def user_principal(user: UserRow, default_host: str = "") -> Principal:
    """What a signed-in user may do (``default_host``: the default domain's host)."""
    return Principal(
        kind="user",
        id=user.id,
        role=Role.parse(user.role),
        tags=effective_limit(user.tags),
        domains=_acting_domains(default_host, user.domains),
        user_id=user.id,
        name=user.email,
    )


def key_principal(key: ApiKey, user: UserRow | None, default_host: str = "") -> Principal:
    """What a key may do: the lower of its scope and its user's role, within both tag limits
    and both domain limits. A scope is a role under its older name (read = viewer, write =
    editor), and the top scope, admin, is all of its user's role: an owner's admin key
    manages owners too. A key made before accounts has no user and acts by its scope alone,
    owners excepted."""
    scope = Scope.parse(key.scope)
    reach = Role.OWNER if scope == Scope.ADMIN else Role(int(scope))
    ceiling = Role.ADMIN if user is None else Role.parse(user.role)
    return Principal(
        kind="key",
        id=key.id,
        role=min(reach, ceiling),
        tags=effective_limit(key.tags, user.tags if user is not None else ()),
        domains=_acting_domains(
            default_host, key.domains, user.domains if user is not None else ()
        ),
        user_id=key.user_id,
        name=key.name,
    )


class Access:
    """Finds who presents a key or a session, with what they may do now."""

    def __init__(self, keys: ApiKeys, users: UserRepository, default_host: str) -> None:
        self._keys = keys
        self._users = users
        #: The default domain's host, as domain limits store it.
        self._default_host = default_host

    async def _owner(self, key: ApiKey) -> tuple[bool, UserRow | None]:
        """(usable, user): a key of a deleted or disabled user is not usable."""
        if key.user_id is None:
            return True, None
        user = await self._users.get(key.user_id)
        return (user is not None and not user.disabled), user

    async def by_token(self, token: str, *, now: datetime) -> Principal | None:
        """The principal of an API key token, if the key and its user are valid."""
        key = await self._keys.authenticate(token, now=now)
        if key is None:
            return None
        usable, user = await self._owner(key)
        return key_principal(key, user, self._default_host) if usable else None

    async def by_key_id(self, key_id: str, *, now: datetime) -> Principal | None:
        """The principal of a key by id (a dashboard session signed in with a key)."""
        key = await self._keys.valid(key_id, now=now)
        if key is None:
            return None
        usable, user = await self._owner(key)
        return key_principal(key, user, self._default_host) if usable else None

    async def by_session(self, session: StoredSession, *, now: datetime) -> Principal | None:
        """The principal of a live dashboard session, if its key or user still may."""
        if session.user_id is not None:
            user = await self._users.get(session.user_id)
            return (
                None if user is None or user.disabled else user_principal(user, self._default_host)
            )
        if session.key_id is not None:
            return await self.by_key_id(session.key_id, now=now)
        return None
