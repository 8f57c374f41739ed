"""The server key file: made once, 0600, whole or not at all; read without creating."""

import os
import stat
from pathlib import Path

import pytest

from scanlet.storage.server_key import (
    KEY_BYTES,
    ServerKey,
    ServerKeyError,
    ensure_server_key,
    read_server_key,
)


@pytest.mark.usefixtures("loose_umask")
def test_the_first_start_creates_a_private_file_of_32_random_bytes(tmp_path: Path) -> None:
    path = tmp_path / "scanlet.db.key"
    key, created = ensure_server_key(path)
    assert created
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(path.read_bytes()) == KEY_BYTES
    assert [p.name for p in tmp_path.iterdir()] == ["scanlet.db.key"]  # no temporary left
    again, created_again = ensure_server_key(path)
    assert not created_again
    assert again.derive("x") == key.derive("x")
    other, _ = ensure_server_key(tmp_path / "other.key")
    assert other.derive("x") != key.derive("x")


def test_reading_a_missing_key_creates_nothing(tmp_path: Path) -> None:
    assert read_server_key(tmp_path / "none.key") is None
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("content", [b"", b"short", b"x" * 33])
def test_a_file_that_is_not_a_key_is_refused_and_kept(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "bad.key"
    path.write_bytes(content)
    with pytest.raises(ServerKeyError, match=f"holds {len(content)} bytes, not 32") as raised:
        ensure_server_key(path)
    assert "\n" not in str(raised.value)
    assert path.read_bytes() == content


def test_a_key_another_process_made_first_is_the_one_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "race.key"
    theirs = os.urandom(KEY_BYTES)
    link = os.link

    def lose_the_race(source: str | Path, target: str | Path) -> None:
        Path(target).write_bytes(theirs)
        link(source, target)

    monkeypatch.setattr(os, "link", lose_the_race)
    key, created = ensure_server_key(path)
    assert not created
    assert key.derive("x") == ServerKey(theirs).derive("x")
    assert [p.name for p in tmp_path.iterdir()] == ["race.key"]


def test_an_unwritable_place_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ServerKeyError, match="cannot create the server key file"):
        ensure_server_key(tmp_path / "missing-directory" / "scanlet.db.key")


def test_derived_keys_depend_on_purpose_context_and_key_and_never_show_it() -> None:
    key = ServerKey(b"k" * KEY_BYTES)
    assert key.derive("a") == ServerKey(b"k" * KEY_BYTES).derive("a")
    assert len({key.derive("a"), key.derive("b"), key.derive("a", b"1"), key.derive("a\x01")}) == 4
    assert ServerKey(b"j" * KEY_BYTES).derive("a") != key.derive("a")
    assert "kkkk" not in repr(key)
    with pytest.raises(ValueError, match="NUL"):
        key.derive("a\0b")
    with pytest.raises(ValueError, match="32 bytes"):
        ServerKey(b"short")
