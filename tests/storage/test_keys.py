"""API keys: shown once, stored hashed, scoped, expiring and revocable."""

from datetime import UTC, datetime, timedelta

from scanlet.actors.access.keys import ApiKeys, Scope, split_token
from scanlet.config import Settings
from tests.conftest import AnyStorage
from tests.dbquery import query

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


async def test_a_created_token_authenticates_and_only_its_hash_is_stored(
    storage: AnyStorage, db_settings: Settings
) -> None:
    store = ApiKeys(storage.keys)
    created = await store.create("ci", Scope.WRITE, now=NOW)
    key = await store.authenticate(created.token, now=NOW)
    assert key is not None
    assert (key.id, key.name, key.scope) == (created.key.id, "ci", "write")
    (row,) = query(db_settings, "SELECT * FROM api_keys")
    (secret_hash,) = query(db_settings, "SELECT secret_hash FROM api_keys")[0]
    # The secret is everything after the id: it may itself contain "_".
    parts = split_token(created.token)
    assert parts is not None
    secret = parts[1]
    assert secret.encode() not in bytes(secret_hash)
    assert secret not in str(row)


async def test_wrong_malformed_and_unknown_tokens_are_refused(storage: AnyStorage) -> None:
    store = ApiKeys(storage.keys)
    created = await store.create("ci", Scope.READ, now=NOW)
    assert await store.authenticate(created.token + "x", now=NOW) is None
    assert await store.authenticate("not-a-token", now=NOW) is None
    assert await store.authenticate("slk_nosuchid_secret", now=NOW) is None
    assert await store.authenticate("slk__", now=NOW) is None


async def test_expired_keys_stop_working(storage: AnyStorage) -> None:
    store = ApiKeys(storage.keys)
    created = await store.create("temp", Scope.READ, now=NOW, expires_days=1)
    assert await store.authenticate(created.token, now=NOW + timedelta(hours=23)) is not None
    assert await store.authenticate(created.token, now=NOW + timedelta(days=1)) is None


async def test_revoked_keys_stop_working_and_are_listed_as_revoked(storage: AnyStorage) -> None:
    store = ApiKeys(storage.keys)
    created = await store.create("old", Scope.ADMIN, now=NOW)
    assert await store.revoke(created.key.id, now=NOW) is True
    assert await store.authenticate(created.token, now=NOW) is None
    listed = await store.list()
    assert [(k.id, k.revoked) for k in listed] == [(created.key.id, True)]
    assert await store.revoke("missing", now=NOW) is False


def test_scopes_are_ordered() -> None:
    assert Scope.READ < Scope.WRITE < Scope.ADMIN
    assert Scope.parse("Write") is Scope.WRITE
