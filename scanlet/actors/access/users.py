"""Accounts: creating, listing and changing users, and checking a password at sign-in.

Every entrance (the API, the dashboard, the CLI) goes through ``Users`` with the principal
asking, so the rules are checked here once: admins manage users, only an owner manages
owners (creates, changes or removes one, or makes one), and the last enabled owner stays.
Disabling a user or changing their password ends all of their dashboard sessions in the
same transaction; their keys stop at once because every request looks the user up.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from datetime import datetime

import anyio

from scanlet.actors.access.audit import audit_entry
from scanlet.actors.access.errors import (
    AccountNotFound,
    EmailTaken,
    InvalidAccountField,
    LastOwnerLeft,
    NotAllowed,
)
from scanlet.actors.access.passwords import MAX_PASSWORD_LENGTH, Passwords, password_problem
from scanlet.actors.access.roles import Principal, Role
from scanlet.actors.codes.errors import InvalidField
from scanlet.actors.codes.patterns import bmp_ranges
from scanlet.actors.codes.rules import normal_tags as code_tags
from scanlet.actors.codes.validation import REFUSED_IN_TARGET
from scanlet.storage.ports import LastOwner, UserRepository
from scanlet.storage.records import UserRow
from scanlet.storage.timefmt import format_time

__all__ = ("FIRST_OWNER_HINT", "MAX_EMAIL_LENGTH", "Users", "normal_email", "normal_tags")

#: What a server with no user yet says, and where to start (logged by ``serve``).
FIRST_OWNER_HINT = (
    "no user yet: create the first owner with"
    " `scanlet users create --email you@example.com --role owner --password-stdin`"
)
#: RFC 5321's limit on a forward path, which an address must fit in.
MAX_EMAIL_LENGTH = 254
_NOT_IN_EMAIL = "@" + "".join(
    f"\\u{low:04x}-\\u{high:04x}" for low, high in bmp_ranges(REFUSED_IN_TARGET)
)
#: Something, "@", a domain with a dot; no spaces, controls or invisible characters. Enough
#: to catch typos; whether it reaches anybody is not ours to know (nothing is sent to it).
#: The OpenAPI document shows the same pattern (ECMA-262, Python and Rust read it alike).
EMAIL_PATTERN = f"^[^{_NOT_IN_EMAIL}]+@[^{_NOT_IN_EMAIL}]+\\.[^{_NOT_IN_EMAIL}]+$"
_EMAIL = re.compile(EMAIL_PATTERN)


def normal_email(raw: str) -> str:
    """The stored form of an email (lower case) or ``InvalidAccountField``."""
    if len(raw) > MAX_EMAIL_LENGTH or _EMAIL.fullmatch(raw) is None:
        raise InvalidAccountField(
            "email",
            f"must be an email address such as ana@example.com (at most {MAX_EMAIL_LENGTH}"
            " characters, no spaces)",
        )
    return raw.lower()


def normal_tags(raw: Sequence[str], field: str = "tags") -> tuple[str, ...]:
    """Tags of a limit, by the rule of a code's tags (``codes.rules.normal_tags``)."""
    try:
        return code_tags(raw)
    except InvalidField as exc:
        raise InvalidAccountField(field, exc.msg) from None


def _check_password(password: str) -> None:
    problem = password_problem(password)
    if problem is not None:
        raise InvalidAccountField("password", problem)


def _may_manage(by: Principal, *roles: Role) -> None:
    """Refuse unless ``by`` is an admin, and an owner where any of ``roles`` is owner (or
    above what ``by`` has)."""
    if not by.may(Role.ADMIN):
        raise NotAllowed("managing users needs the admin role")
    for role in roles:
        if role == Role.OWNER and not by.may(Role.OWNER):
            raise NotAllowed("only an owner manages owners")
        if role > by.role:
            raise NotAllowed(f"a {by.role.label} cannot grant the {role.label} role")


class Users:
    """Users kept by ``repository``, passwords hashed by ``passwords``."""

    def __init__(self, repository: UserRepository, passwords: Passwords) -> None:
        self._users = repository
        self._passwords = passwords

    async def _hash(self, password: str) -> str:
        # argon2 takes a few hundred milliseconds by design; off the event loop (the C
        # library releases the GIL), so redirects go on while somebody signs in.
        return await anyio.to_thread.run_sync(self._passwords.hash, password)

    async def create(
        self,
        email: str,
        role: Role,
        password: str | None,
        *,
        by: Principal,
        now: datetime,
        tags: Sequence[str] = (),
        domains: Sequence[str] = (),
    ) -> UserRow:
        """Create a user (without a password they cannot sign in until one is set), limited
        to ``tags`` and to ``domains`` (as ``domain_limits.normal_domains`` gives them)."""
        _may_manage(by, role)
        row = UserRow(
            id=secrets.token_hex(6),
            email=normal_email(email),
            role=role.label,
            created_at=format_time(now),
            disabled=False,
            tags=normal_tags(tags),
            domains=tuple(domains),
        )
        if password is not None:
            _check_password(password)
        hashed = await self._hash(password) if password is not None else None
        audit = audit_entry(
            by.author,
            now,
            "user.created",
            row.id,
            email=row.email,
            role=row.role,
            tags=row.tags,
            domains=row.domains,
        )
        if not await self._users.insert(row, hashed, audit=audit):
            raise EmailTaken(row.email)
        return row

    async def list(self) -> list[UserRow]:
        """Every user, oldest first."""
        return await self._users.list()

    async def get(self, user_id: str) -> UserRow:
        """A user by id, or ``AccountNotFound``."""
        row = await self._users.get(user_id)
        if row is None:
            raise AccountNotFound(user_id)
        return row

    async def by_email(self, email: str) -> UserRow:
        """A user by email (any case), or ``AccountNotFound``."""
        found = await self._find(email)
        if found is None:
            raise AccountNotFound(email)
        return found[0]

    async def _find(self, email: str) -> tuple[UserRow, str | None] | None:
        """The user of an email as typed: one that could not have been stored (control
        characters, NULs PostgreSQL refuses, too long) finds nobody without a query."""
        key = email.strip().lower()
        if not key or len(key) > MAX_EMAIL_LENGTH or not key.isprintable():
            return None
        return await self._users.find_by_email(key)

    async def change(
        self,
        user_id: str,
        *,
        by: Principal,
        now: datetime,
        role: Role | None = None,
        disabled: bool | None = None,
        password: str | None = None,
        tags: Sequence[str] | None = None,
        domains: Sequence[str] | None = None,
    ) -> UserRow:
        """Change a user's role, disabled state, password, tag or domain limit (hosts as
        ``domain_limits.normal_domains`` gives them); fields left None stay.

        A new password or disabling ends every session of theirs."""
        current = await self.get(user_id)
        _may_manage(by, Role.parse(current.role), *(() if role is None else (role,)))
        row = UserRow(
            id=current.id,
            email=current.email,
            role=current.role if role is None else role.label,
            created_at=current.created_at,
            disabled=current.disabled if disabled is None else disabled,
            tags=current.tags if tags is None else normal_tags(tags),
            domains=current.domains if domains is None else tuple(domains),
        )
        if password is not None:
            _check_password(password)
        hashed = await self._hash(password) if password is not None else None
        changed = [
            name
            for name in ("role", "disabled", "tags", "domains")
            if getattr(row, name) != getattr(current, name)
        ] + (["password"] if hashed is not None else [])
        # The new values, never the password: only that it changed.
        after = {name: getattr(row, name) for name in changed if name != "password"}
        audit = audit_entry(
            by.author, now, "user.changed", row.id, email=row.email, changed=changed, **after
        )
        try:
            saved = await self._users.save(
                row,
                now=now,
                password_hash=hashed,
                end_sessions=hashed is not None or (row.disabled and not current.disabled),
                audit=audit if changed else None,
            )
        except LastOwner:
            raise LastOwnerLeft() from None
        if not saved:
            raise AccountNotFound(user_id)
        return row

    async def delete(self, user_id: str, *, by: Principal, now: datetime) -> None:
        """Delete a user: their sessions end and their keys are revoked."""
        current = await self.get(user_id)
        _may_manage(by, Role.parse(current.role))
        try:
            audit = audit_entry(by.author, now, "user.deleted", user_id, email=current.email)
            deleted = await self._users.delete(user_id, now=now, audit=audit)
        except LastOwner:
            raise LastOwnerLeft() from None
        if not deleted:
            raise AccountNotFound(user_id)

    async def check_password(self, email: str, password: str) -> UserRow | None:
        """The enabled user whose email and password these are, or None.

        Unknown emails, users without a password and disabled users cost one argon2
        verification like a wrong password, so the time taken tells nothing."""
        found = await self._find(email)
        row, stored = found if found is not None else (None, None)
        if len(password) > MAX_PASSWORD_LENGTH:
            # No password this long was ever accepted; hash no more of it than of any other.
            stored, password = None, password[:MAX_PASSWORD_LENGTH]
        ok = await anyio.to_thread.run_sync(self._passwords.verify, stored, password)
        if not ok or row is None or row.disabled:
            return None
        return row
