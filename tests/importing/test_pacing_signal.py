"""When an import paces itself on SQLite: exactly while a server holds the database's serve
lock, which the import asks about as it goes, and has no import door open (through the door
the server commits; the summary says how many commits were paced, and how many the server
made)."""

from __future__ import annotations

import fcntl
import os
import re
from pathlib import Path

import pytest

from scanlet.storage.serve_lock import claim_serve_lock, is_served, serve_lock_path
from tests.clirun import scanlet
from tests.importing.archives import write_archive
from tests.processes import served


def _import(folder: Path, archive: Path) -> str:
    done = scanlet("import", "archive", str(archive), cwd=folder)
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()[-1]


def test_an_import_is_paced_while_a_server_uses_the_database_and_not_after(
    tmp_path: Path,
) -> None:
    db = tmp_path / "scanlet.db"
    assert not is_served(db)  # never served: not even a lock file
    with served(tmp_path):
        assert is_served(db)
    assert serve_lock_path(db).exists()
    assert not is_served(db)  # the server is gone, its lock with it
    # A server holding the lock with no import door open (one being replaced has closed
    # its door; elsewhere than on Linux there is none): the import commits, paced.
    lock = claim_serve_lock(db)
    assert lock is not None
    with lock:
        beside = _import(tmp_path, write_archive(tmp_path / "a.jsonl", "during", 120))
    assert "visits: 120 imported" in beside
    paced = re.search(r"paced (\d+) of (\d+) commits: a server was using the database", beside)
    assert paced is not None, beside
    assert paced[1] == paced[2]
    assert "running server" not in beside
    alone = _import(tmp_path, write_archive(tmp_path / "b.jsonl", "after", 120))
    assert "visits: 120 imported" in alone
    assert "visits/s" in alone
    assert "paced" not in alone
    # A running server with its door open makes the commits itself: none paced.
    with served(tmp_path):
        through = _import(tmp_path, write_archive(tmp_path / "c.jsonl", "through", 120))
    assert "visits: 120 imported" in through
    assert "paced" not in through
    made = re.search(r"(\d+) of (\d+) commits made by the running server", through)
    assert made is not None, through
    assert made[1] == made[2]


def test_a_server_starting_while_an_import_asks_still_gets_the_lock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "scanlet.db"
    made = claim_serve_lock(db)  # (makes the lock file)
    assert made is not None
    made.close()
    asking = os.open(serve_lock_path(db), os.O_RDONLY)
    fcntl.flock(asking, fcntl.LOCK_SH | fcntl.LOCK_NB)  # an import's question, caught midway

    waited: list[float] = []

    def question_answered(seconds: float) -> None:
        waited.append(seconds)
        fcntl.flock(asking, fcntl.LOCK_UN)

    monkeypatch.setattr("scanlet.storage.serve_lock.time.sleep", question_answered)
    try:
        lock = claim_serve_lock(db)
        assert lock is not None
        assert waited  # it found the lock taken, and tried again
        assert is_served(db)
        lock.close()
    finally:
        os.close(asking)
