"""The sign-in lockout on both backends: per account, per address, for the window only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from scanlet.actors.access.lockout import LOCKOUT_WINDOW, SignInLockout
from scanlet.storage.ports import Storage

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def lockout(storage: Storage) -> SignInLockout:
    return SignInLockout(storage.sign_in_failures, b"k" * 32)


async def fail(lockout: SignInLockout, email: str, address: str, times: int) -> None:
    for i in range(times):
        await lockout.failed(email, address, now=NOW + timedelta(seconds=i))


async def test_ten_failures_for_one_account_lock_it_from_every_address(
    lockout: SignInLockout,
) -> None:
    for i in range(10):
        await fail(lockout, "Ana@example.com ", f"10.0.0.{i}", 1)
    later = NOW + timedelta(minutes=1)
    assert await lockout.locked("ana@example.com", "192.0.2.1", now=later)
    assert not await lockout.locked("bo@example.com", "192.0.2.1", now=later)


async def test_ten_failures_from_one_address_lock_it_for_every_account(
    lockout: SignInLockout,
) -> None:
    for i in range(10):
        await fail(lockout, f"user{i}@example.com", "203.0.113.7", 1)
    later = NOW + timedelta(minutes=1)
    assert await lockout.locked("new@example.com", "203.0.113.7", now=later)
    assert not await lockout.locked("new@example.com", "203.0.113.8", now=later)


async def test_nine_failures_do_not_lock_and_the_window_passes(lockout: SignInLockout) -> None:
    await fail(lockout, "ana@example.com", "203.0.113.7", 9)
    assert not await lockout.locked("ana@example.com", "203.0.113.7", now=NOW)
    await fail(lockout, "ana@example.com", "203.0.113.7", 1)
    assert await lockout.locked("ana@example.com", "203.0.113.7", now=NOW + timedelta(seconds=9))
    after = NOW + LOCKOUT_WINDOW + timedelta(seconds=10)
    assert not await lockout.locked("ana@example.com", "203.0.113.7", now=after)


async def test_neither_the_email_nor_the_address_is_stored(
    lockout: SignInLockout, storage: Storage
) -> None:
    await fail(lockout, "ana@example.com", "203.0.113.7", 1)
    # The digests are keyed: another key counts nothing of these.
    other = SignInLockout(storage.sign_in_failures, b"o" * 32, limit=1)
    assert not await other.locked("ana@example.com", "203.0.113.7", now=NOW)
    assert await SignInLockout(storage.sign_in_failures, b"k" * 32, limit=1).locked(
        "ana@example.com", "203.0.113.7", now=NOW + timedelta(seconds=1)
    )
