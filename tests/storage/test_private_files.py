"""Private files: created 0600 whatever the umask; wider existing ones tightened, loudly."""

import os
import stat
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from scanlet.storage.private_files import create_private_file, database_files, tighten_modes


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.usefixtures("loose_umask")
def test_a_private_file_is_created_0600_under_a_0022_umask(tmp_path: Path) -> None:
    path = tmp_path / "secret"
    assert create_private_file(path)
    assert mode_of(path) == 0o600


def test_an_existing_file_is_left_as_it_is(tmp_path: Path) -> None:
    path = tmp_path / "secret"
    path.write_bytes(b"kept")
    assert not create_private_file(path)
    assert path.read_bytes() == b"kept"


def test_the_database_files_are_the_file_and_its_wal_and_shm(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    assert database_files(db) == (db, tmp_path / "s.db-wal", tmp_path / "s.db-shm")


def test_wider_files_are_tightened_with_a_warning_each(tmp_path: Path) -> None:
    wide, narrow, missing = tmp_path / "wide", tmp_path / "narrow", tmp_path / "missing"
    wide.write_bytes(b"")
    os.chmod(wide, 0o644)
    narrow.write_bytes(b"")
    os.chmod(narrow, 0o600)
    with capture_logs() as logs:
        tighten_modes([wide, narrow, missing])
    assert mode_of(wide) == 0o600
    assert mode_of(narrow) == 0o600
    assert [(e["event"], e["path"], e["was"]) for e in logs] == [
        ("file was readable by other users; tightened", str(wide), "0644")
    ]


def test_a_file_that_cannot_be_changed_is_reported_instead(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "someone-elses"
    path.write_bytes(b"")
    os.chmod(path, 0o640)

    def refuse(target: object, mode: int) -> None:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "chmod", refuse)
    with capture_logs() as logs:
        tighten_modes([path])
    assert [(e["event"], e["mode"]) for e in logs] == [
        ("file readable by other users; run chmod 600 on it", "0640")
    ]
