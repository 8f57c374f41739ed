"""Online backups: a verified, self-contained copy; refusals are one clear error."""

import sqlite3
import stat
from datetime import UTC, datetime
from pathlib import Path

import anyio
import pytest

from scanlet.cli import main
from scanlet.storage.sqlite.backup import BackupFailed, backup_database
from scanlet.storage.sqlite.database import open_database


def make_db(path: Path) -> None:
    async def run() -> None:
        async with open_database(path):
            pass

    anyio.run(run)


def test_a_backup_is_a_verified_copy_without_a_wal(tmp_path: Path) -> None:
    db = tmp_path / "scanlet.db"
    make_db(db)
    result = backup_database(db, tmp_path / "copy.db")
    assert result.path == tmp_path / "copy.db"
    assert result.bytes > 0
    assert not (tmp_path / "copy.db.partial").exists()
    with sqlite3.connect(result.path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("SELECT MAX(version) FROM schema_version").fetchone()[0] >= 1


@pytest.mark.usefixtures("loose_umask")
def test_a_backup_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    db = tmp_path / "scanlet.db"
    make_db(db)
    result = backup_database(db, tmp_path / "copy.db")
    assert stat.S_IMODE(result.path.stat().st_mode) == 0o600


def test_a_directory_destination_gets_a_time_stamped_file(tmp_path: Path) -> None:
    db = tmp_path / "scanlet.db"
    make_db(db)
    out = tmp_path / "backups"
    out.mkdir()
    now = datetime(2026, 3, 1, 4, 5, 6, tzinfo=UTC)
    result = backup_database(db, out, now=now)
    assert result.path == out / "scanlet-20260301T040506Z.db"


@pytest.mark.parametrize(
    ("dest", "message"),
    [("exists.db", "exists"), ("missing/copy.db", "no such directory")],
)
def test_a_backup_never_overwrites_or_guesses(tmp_path: Path, dest: str, message: str) -> None:
    db = tmp_path / "scanlet.db"
    make_db(db)
    (tmp_path / "exists.db").write_bytes(b"keep me")
    with pytest.raises(BackupFailed, match=message):
        backup_database(db, tmp_path / dest)
    assert (tmp_path / "exists.db").read_bytes() == b"keep me"


def test_the_cli_reports_a_missing_database_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["backup", str(tmp_path / "copy.db"), "--db", str(tmp_path / "none.db")])
    assert code == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "no database at" in err


def test_the_cli_backs_up_and_says_where(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "scanlet.db"
    make_db(db)
    assert main(["backup", str(tmp_path / "copy.db"), "--db", str(db)]) == 0
    assert "integrity_check ok" in capsys.readouterr().out
