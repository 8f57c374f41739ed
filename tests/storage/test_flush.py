"""Flushing the database's files from a child process before a checkpoint holds writes."""

import shutil
from pathlib import Path

import pytest

from scanlet.storage.sqlite import flush
from scanlet.storage.sqlite.database import open_database


@pytest.mark.skipif(shutil.which("sync") is None, reason="no sync command here")
def test_written_files_are_flushed_and_a_missing_one_is_only_reported(tmp_path: Path) -> None:
    written = tmp_path / "scanlet.db"
    written.write_bytes(b"x" * 4096)
    assert flush.flush_elsewhere([written]) is True
    assert flush.flush_elsewhere([written, tmp_path / "gone-wal"]) is False


def test_without_a_sync_command_nothing_is_flushed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(flush, "_SYNC", None)
    assert flush.flush_elsewhere([tmp_path / "scanlet.db"]) is False


async def test_a_checkpoint_that_holds_writes_flushes_both_files_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    flushed: list[list[Path]] = []

    def recorded(paths: list[Path]) -> bool:
        flushed.append(list(paths))
        return flush.flush_elsewhere(paths)

    monkeypatch.setattr("scanlet.storage.sqlite.database.flush_elsewhere", recorded)
    path = tmp_path / "scanlet.db"
    async with open_database(path) as db:
        await db.probe_write()
        await db.checkpoint()  # below the threshold: nothing held, nothing flushed
        assert flushed == []
        await db.probe_write()
        await db.checkpoint(restart_at=1)
        assert flushed == [[path, tmp_path / "scanlet.db-wal"]]
        assert db.write_holds == 1
