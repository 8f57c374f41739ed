"""Processes that open and close the database beside a running server (backups and exports
here; an import does the same) must never take the WAL from under it: every scan the server
answered stays visible to every other process, before and after it has let its WAL start
over.

A flush of the database file before the server's held checkpoints once broke this: it
opened and closed the file in the server's process, which drops the locks SQLite holds on
it there (POSIX locks belong to the process). The next process to close its connection took
itself for the last user and deleted the WAL the server was still committing to: an export
read a malformed database, and the server's later scans were visible to nobody else.
"""

from __future__ import annotations

import contextlib
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.processes import Served, scanning, served

#: Times the server held its writes back to let the WAL start over.
WRITE_HOLDS = "scanlet_db_write_holds_total "


def _write_holds(running: Served) -> float:
    for line in httpx.get(f"{running.base}/metrics", timeout=30).text.splitlines():
        if line.startswith(WRITE_HOLDS):
            return float(line[len(WRITE_HOLDS) :])
    raise AssertionError("the server exports no scanlet_db_write_holds_total")


def _scans_seen_from_here(db: Path) -> int:
    """Scans of ``live`` in the log, read by this process (not the server)."""
    with contextlib.closing(sqlite3.connect(db)) as conn:
        (count,) = conn.execute(
            "SELECT COUNT(*) FROM events WHERE type = 'scan.recorded' AND slug = 'live'"
        ).fetchone()
    return int(count)


@pytest.mark.parametrize("synchronous", ["normal", "full"])
def test_backups_and_exports_beside_a_busy_server_never_take_its_wal(
    tmp_path: Path, synchronous: str
) -> None:
    with served(tmp_path, env={"SCANLET_SYNCHRONOUS": synchronous}) as running:
        with scanning(running) as statuses:
            # Each backup and export opens and closes the database while scans go on being
            # committed, after a checkpoint has held writes back to let the WAL start over
            # (under synchronous=normal). Under full each commit waits for its fsync and the
            # checkpoints may keep up without holding anything (none did in 240 s of scans
            # beside a test run): there the backups begin after 2000 scans.
            deadline = time.monotonic() + 240
            while _write_holds(running) < 1 if synchronous == "normal" else len(statuses) < 2000:
                assert time.monotonic() < deadline, "the WAL never started over"
                time.sleep(0.5)
            for command in (["backup", str(tmp_path / "copy.db")], ["export", "archive"]) * 2:
                done = subprocess.run(
                    [sys.executable, "-m", "scanlet", *command],
                    cwd=tmp_path,
                    env=running.env,
                    capture_output=True,
                    timeout=120,
                    check=False,
                )
                assert done.returncode == 0, done.stderr.decode(errors="replace")
                (tmp_path / "copy.db").unlink(missing_ok=True)
            answered_then = len(statuses)
            deadline = time.monotonic() + 60
            while len(statuses) < answered_then + 200:
                assert time.monotonic() < deadline, "scans stopped after the exports"
                time.sleep(0.05)
        assert set(statuses) == {302}
        # Read by another process while the server still runs: its WAL is where it was, and
        # every answered scan, those after the backups and exports included, is in it.
        assert (tmp_path / "scanlet.db-wal").exists()
        assert _scans_seen_from_here(tmp_path / "scanlet.db") == len(statuses)
        assert running.terminate() == 0
    assert _scans_seen_from_here(tmp_path / "scanlet.db") == len(statuses)
