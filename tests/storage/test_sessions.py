"""Dashboard sessions: only a token's hash is stored; they end on sign-out, at their expiry
or when idle, and ended rows are cleared at the next sign-in."""

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scanlet.actors.access.keys import ApiKeys, Scope
from scanlet.config import Settings
from scanlet.storage.ports import SessionRepository
from scanlet.storage.sqlite.database import Database
from scanlet.storage.sqlite.sessions import SessionStore
from tests.conftest import AnyStorage
from tests.dbquery import query

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
MAX_AGE = timedelta(hours=12)
IDLE = timedelta(hours=2)


@pytest.fixture
async def key_id(storage: AnyStorage) -> str:
    created = await ApiKeys(storage.keys).create("dash", Scope.READ, now=NOW)
    return created.key.id


@pytest.fixture
def store(storage: AnyStorage) -> SessionRepository:
    return storage.sessions(max_age=MAX_AGE, idle=IDLE)


def rows(db: Settings) -> list[tuple[object, ...]]:
    return query(db, "SELECT * FROM dashboard_sessions")


async def test_only_the_hash_of_a_token_is_stored(
    db_settings: Settings, store: SessionRepository, key_id: str
) -> None:
    token, stored = await store.create(key_id, now=NOW)
    assert len(token) >= 43
    digest = hashlib.sha256(token.encode()).digest()
    assert stored.id == digest.hex()
    ((token_hash, *rest),) = rows(db_settings)
    assert token_hash == digest
    assert token not in repr(rest)
    found = await store.find(token, now=NOW)
    assert found == stored
    assert found.key_id == key_id


async def test_a_session_ended_is_gone_for_every_copy_of_its_token(
    store: SessionRepository, key_id: str
) -> None:
    token, _ = await store.create(key_id, now=NOW)
    other, _ = await store.create(key_id, now=NOW)
    assert await store.end(token)
    assert await store.find(token, now=NOW) is None
    assert not await store.end(token)
    assert await store.find(other, now=NOW) is not None


async def test_a_session_ends_at_its_absolute_expiry_however_busy(
    store: SessionRepository, key_id: str
) -> None:
    token, _ = await store.create(key_id, now=NOW)
    moment = NOW
    while moment + IDLE / 2 < NOW + MAX_AGE:
        moment += IDLE / 2
        assert await store.find(token, now=moment) is not None
    assert await store.find(token, now=NOW + MAX_AGE) is None


async def test_a_session_left_unused_for_the_idle_time_ends(
    store: SessionRepository, key_id: str
) -> None:
    token, _ = await store.create(key_id, now=NOW)
    assert await store.find(token, now=NOW + IDLE - timedelta(seconds=1)) is not None
    # That use moved the idle deadline on.
    last_use = NOW + IDLE + timedelta(minutes=5)
    assert await store.find(token, now=last_use) is not None
    assert await store.find(token, now=last_use + IDLE) is None


async def test_use_is_written_at_most_once_a_minute(
    db_settings: Settings, store: SessionRepository, key_id: str
) -> None:
    token, _ = await store.create(key_id, now=NOW)
    await store.find(token, now=NOW + timedelta(seconds=30))
    assert rows(db_settings)[0][3] == "2026-11-27T12:00:00.000000Z"
    await store.find(token, now=NOW + timedelta(seconds=61))
    assert rows(db_settings)[0][3] == "2026-11-27T12:01:01.000000Z"


async def test_signing_in_clears_the_rows_of_ended_sessions(
    db_settings: Settings, store: SessionRepository, key_id: str
) -> None:
    hour = timedelta(hours=1)
    expired, _ = await store.create(key_id, now=NOW)
    for hours in range(1, 12):  # in use all along: only its age ends it
        if hours == 10:
            idle, _ = await store.create(key_id, now=NOW + hours * hour)  # never used again
        if hours == 11:
            recent, _ = await store.create(key_id, now=NOW + hours * hour)
        assert await store.find(expired, now=NOW + hours * hour) is not None
    assert len(rows(db_settings)) == 3
    latest, _ = await store.create(key_id, now=NOW + MAX_AGE)
    assert {row[0] for row in rows(db_settings)} == {
        hashlib.sha256(token.encode()).digest() for token in (recent, latest)
    }
    assert await store.find(idle, now=NOW + MAX_AGE) is None


@given(st.text(max_size=200))
async def test_any_text_as_a_token_finds_nothing_and_ends_nothing(text: str) -> None:
    # No database needed: a text not shaped like a token is refused before any query.
    store = SessionStore(Database(Path("unused.db")), max_age=MAX_AGE, idle=IDLE)
    if len(text) == 43 and text.isascii() and text.replace("-", "").replace("_", "").isalnum():
        return
    assert await store.find(text, now=NOW) is None
    assert not await store.end(text)
