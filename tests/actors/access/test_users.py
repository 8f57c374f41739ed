"""Accounts on both backends: the rules of ``Users`` and what the stores keep."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from scanlet.actors.access.errors import (
    AccountNotFound,
    EmailTaken,
    InvalidAccountField,
    LastOwnerLeft,
    NotAllowed,
)
from scanlet.actors.access.passwords import Passwords
from scanlet.actors.access.roles import SYSTEM, Principal, Role
from scanlet.actors.access.users import Users
from scanlet.storage.ports import Storage

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
PASSWORD = "correct horse battery"


@pytest.fixture
def users(storage: Storage) -> Users:
    return Users(storage.users, Passwords.cheap())


def as_role(role: Role) -> Principal:
    return Principal(kind="user", id=f"u-{role.label}", role=role)


async def test_a_user_is_created_listed_and_signs_in_with_the_right_password_only(
    users: Users,
) -> None:
    row = await users.create("Ana@Example.COM", Role.EDITOR, PASSWORD, by=SYSTEM, now=NOW)
    assert row.email == "ana@example.com"
    assert [u.email for u in await users.list()] == ["ana@example.com"]
    assert await users.check_password("ANA@example.com", PASSWORD) == row
    assert await users.check_password("ana@example.com", PASSWORD + "x") is None
    assert await users.check_password("nobody@example.com", PASSWORD) is None
    assert await users.check_password("ana@example.com", "x" * 5000) is None


async def test_the_password_is_stored_only_as_an_argon2id_hash(
    users: Users, storage: Storage
) -> None:
    await users.create("ana@example.com", Role.VIEWER, PASSWORD, by=SYSTEM, now=NOW)
    found = await storage.users.find_by_email("ana@example.com")
    assert found is not None
    stored = found[1]
    assert stored is not None
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored


@pytest.mark.parametrize(
    ("email", "password", "field"),
    [
        ("no-at-sign", PASSWORD, "email"),
        ("two@@example.com", PASSWORD, "email"),
        ("a b@example.com", PASSWORD, "email"),
        ("x" * 250 + "@example.com", PASSWORD, "email"),
        ("ctl\x07@example.com", PASSWORD, "email"),
        ("ana@example.com", "short", "password"),
        ("ana@example.com", "123456789", "password"),
        ("ana@example.com", "p" * 1025, "password"),
    ],
)
async def test_bad_emails_and_passwords_are_refused_naming_the_field(
    users: Users, email: str, password: str, field: str
) -> None:
    with pytest.raises(InvalidAccountField) as refused:
        await users.create(email, Role.VIEWER, password, by=SYSTEM, now=NOW)
    assert refused.value.field == field
    assert await users.list() == []


async def test_an_email_is_taken_whatever_its_case(users: Users) -> None:
    await users.create("ana@example.com", Role.VIEWER, None, by=SYSTEM, now=NOW)
    with pytest.raises(EmailTaken):
        await users.create("ANA@example.com", Role.ADMIN, None, by=SYSTEM, now=NOW)


async def test_a_user_without_a_password_or_disabled_cannot_sign_in(users: Users) -> None:
    row = await users.create("ana@example.com", Role.VIEWER, None, by=SYSTEM, now=NOW)
    assert await users.check_password("ana@example.com", PASSWORD) is None
    await users.change(row.id, by=SYSTEM, now=NOW, password=PASSWORD)
    assert await users.check_password("ana@example.com", PASSWORD) is not None
    await users.change(row.id, by=SYSTEM, now=NOW, disabled=True)
    assert await users.check_password("ana@example.com", PASSWORD) is None


async def test_only_an_owner_manages_owners(users: Users) -> None:
    owner = await users.create("own@example.com", Role.OWNER, None, by=SYSTEM, now=NOW)
    await users.create("own2@example.com", Role.OWNER, None, by=SYSTEM, now=NOW)
    admin = as_role(Role.ADMIN)
    with pytest.raises(NotAllowed):
        await users.create("x@example.com", Role.OWNER, None, by=admin, now=NOW)
    with pytest.raises(NotAllowed):
        await users.change(owner.id, by=admin, now=NOW, disabled=True)
    with pytest.raises(NotAllowed):
        await users.delete(owner.id, by=admin, now=NOW)
    editor = await users.create("ed@example.com", Role.EDITOR, None, by=admin, now=NOW)
    with pytest.raises(NotAllowed):
        await users.change(editor.id, by=admin, now=NOW, role=Role.OWNER)
    # An admin manages everyone else; an owner manages owners.
    assert (await users.change(editor.id, by=admin, now=NOW, role=Role.ADMIN)).role == "admin"
    await users.change(owner.id, by=as_role(Role.OWNER), now=NOW, role=Role.ADMIN)


@pytest.mark.parametrize("role", [Role.VIEWER, Role.EDITOR])
async def test_below_admin_nobody_manages_users(users: Users, role: Role) -> None:
    target = await users.create("v@example.com", Role.VIEWER, None, by=SYSTEM, now=NOW)
    with pytest.raises(NotAllowed):
        await users.create("x@example.com", Role.VIEWER, None, by=as_role(role), now=NOW)
    with pytest.raises(NotAllowed):
        await users.change(target.id, by=as_role(role), now=NOW, role=Role.VIEWER)
    with pytest.raises(NotAllowed):
        await users.delete(target.id, by=as_role(role), now=NOW)


async def test_the_last_owner_cannot_be_demoted_disabled_or_deleted(users: Users) -> None:
    owner = await users.create("own@example.com", Role.OWNER, None, by=SYSTEM, now=NOW)
    for change in ({"role": Role.ADMIN}, {"disabled": True}):
        with pytest.raises(LastOwnerLeft):
            await users.change(owner.id, by=SYSTEM, now=NOW, **change)
    with pytest.raises(LastOwnerLeft):
        await users.delete(owner.id, by=SYSTEM, now=NOW)
    assert (await users.get(owner.id)).role == "owner"
    assert not (await users.get(owner.id)).disabled
    # With a second owner, either may go.
    await users.create("own2@example.com", Role.OWNER, None, by=SYSTEM, now=NOW)
    await users.delete(owner.id, by=SYSTEM, now=NOW)
    with pytest.raises(AccountNotFound):
        await users.get(owner.id)


async def test_a_new_password_or_disabling_ends_every_session_of_the_user(
    users: Users, storage: Storage
) -> None:
    row = await users.create("ana@example.com", Role.EDITOR, PASSWORD, by=SYSTEM, now=NOW)
    other = await users.create("bo@example.com", Role.EDITOR, PASSWORD, by=SYSTEM, now=NOW)
    sessions = storage.sessions(max_age=_hours(12), idle=_hours(2))
    first, _ = await sessions.create(None, user_id=row.id, now=NOW)
    second, _ = await sessions.create(None, user_id=row.id, now=NOW)
    kept, _ = await sessions.create(None, user_id=other.id, now=NOW)
    await users.change(row.id, by=SYSTEM, now=NOW, password="another good one")
    assert await sessions.find(first, now=NOW) is None
    assert await sessions.find(second, now=NOW) is None
    assert await sessions.find(kept, now=NOW) is not None
    third, _ = await sessions.create(None, user_id=row.id, now=NOW)
    await users.change(row.id, by=SYSTEM, now=NOW, disabled=True)
    assert await sessions.find(third, now=NOW) is None
    assert await sessions.find(kept, now=NOW) is not None


async def test_a_role_change_keeps_the_sessions(users: Users, storage: Storage) -> None:
    row = await users.create("ana@example.com", Role.EDITOR, PASSWORD, by=SYSTEM, now=NOW)
    sessions = storage.sessions(max_age=_hours(12), idle=_hours(2))
    token, _ = await sessions.create(None, user_id=row.id, now=NOW)
    await users.change(row.id, by=SYSTEM, now=NOW, role=Role.VIEWER)
    found = await sessions.find(token, now=NOW)
    assert found is not None
    assert found.user_id == row.id
    assert found.key_id is None


def _hours(n: int) -> timedelta:
    return timedelta(hours=n)


class CountingPasswords(Passwords):
    """Counts verifications: the work done is the same whatever the account."""

    def __init__(self) -> None:
        super().__init__(Passwords.cheap()._hasher)
        self.verified = 0

    def verify(self, stored: str | None, password: str) -> bool:
        self.verified += 1
        return super().verify(stored, password)


async def test_unknown_disabled_and_wrong_all_cost_one_verification(storage: Storage) -> None:
    passwords = CountingPasswords()
    users = Users(storage.users, passwords)
    row = await users.create("ana@example.com", Role.EDITOR, PASSWORD, by=SYSTEM, now=NOW)
    await users.create("nopw@example.com", Role.EDITOR, None, by=SYSTEM, now=NOW)
    attempts = [
        ("ana@example.com", "wrong password"),
        ("nobody@example.com", PASSWORD),
        ("nopw@example.com", PASSWORD),
        ("ana@example.com", "p" * 5000),
    ]
    for email, password in attempts:
        before = passwords.verified
        assert await users.check_password(email, password) is None
        assert passwords.verified == before + 1
    await users.change(row.id, by=SYSTEM, now=NOW, disabled=True)
    before = passwords.verified
    assert await users.check_password("ana@example.com", PASSWORD) is None
    assert passwords.verified == before + 1


async def test_any_text_is_a_password_nuls_and_lone_surrogates_too(users: Users) -> None:
    odd = "nul\x00 and a lone \udcff surrogate"
    await users.create("ana@example.com", Role.VIEWER, odd, by=SYSTEM, now=NOW)
    assert await users.check_password("ana@example.com", odd) is not None
    assert await users.check_password("ana@example.com", odd.replace("\udcff", "?")) is None
