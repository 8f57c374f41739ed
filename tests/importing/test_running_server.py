"""Importing into a database a server is using: the server keeps redirecting, and on
PostgreSQL it serves the imported codes at once (the codes' notices reach it). On SQLite the
import sends its visits through the server's import door, and the server commits them; on
PostgreSQL the import commits them itself, each followed by a pause as long as it took."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from scanlet.cli import main
from tests.clirun import SCANLET
from tests.importing.archives import write_archive
from tests.importing.fakes import FakeShlink, serving
from tests.processes import scanning, served


def test_a_server_on_the_database_keeps_redirecting_through_an_import(
    backend: str,
    scanlet_db: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    key_file = str(tmp_path / "server.key")
    monkeypatch.setenv("SCANLET_SECRET_FILE", key_file)
    env = {
        "SCANLET_DB": scanlet_db,
        "SCANLET_SECRET_FILE": key_file,
        "SCANLET_LOG_LEVEL": "warning",
    }
    fake = FakeShlink()
    for n in range(20):
        fake.add(f"imp{n}", f"https://example.com/{n}", visits=150)
    with served(tmp_path, env=env) as running:
        token = running.key()
        with scanning(running) as statuses, serving(fake) as url:
            args = ["import", "shlink", "--url", url, "--api-key", fake.key, "--quiet"]
            assert main([*args, "--db", scanlet_db]) == 0
        summary = capsys.readouterr().out.splitlines()[-1]
        assert "visits: 3000 imported" in summary
        if backend == "sqlite":
            # The server's import door was open all along: it made every commit itself.
            assert "paced" not in summary
            made = re.search(r"(\d+) of (\d+) commits made by the running server", summary)
            assert made is not None, summary
            assert made[1] == made[2]
        else:
            # The server held the followers' lead all along: every commit was paced.
            assert "running server" not in summary
            paced = re.search(r"paced (\d+) of (\d+) commits", summary)
            assert paced is not None, summary
            assert paced[1] == paced[2]
        assert statuses
        assert set(statuses) == {302}
        # Imported codes are served without a restart: on PostgreSQL each one's notice reaches
        # the instances, on SQLite the server reads new code events from the log (waiting for
        # them to arrive, not for a time).
        deadline = time.monotonic() + 30
        status = 0
        while time.monotonic() < deadline:
            status = httpx.get(f"{running.base}/imp19", follow_redirects=False).status_code
            if status == 302:
                break
            time.sleep(0.05)
        assert status == 302
        counted = httpx.get(
            f"{running.base}/api/v1/codes/live", headers={"Authorization": f"Bearer {token}"}
        ).json()["scans"]
        assert counted == len(statuses)
        imported = httpx.get(
            f"{running.base}/api/v1/codes/imp7", headers={"Authorization": f"Bearer {token}"}
        ).json()["scans"]
        assert imported == 150


@pytest.mark.parametrize("synchronous", ["normal", "full"])
@pytest.mark.parametrize("stop", ["kill", "terminate"])
def test_an_import_outlives_the_server_it_went_through(
    tmp_path: Path, stop: str, synchronous: str
) -> None:
    """The server is killed (-9) or stopped (SIGTERM, drained) while the import sends it
    visits: the import commits the rest itself, and every visit is stored once, in either
    of SQLite's durability modes."""
    archive = write_archive(tmp_path / "big.jsonl", "big", 20_000)
    mode = {"SCANLET_SYNCHRONOUS": synchronous}
    with served(tmp_path, env=mode) as running:
        importing = subprocess.Popen(
            [SCANLET, "import", "archive", str(archive)],
            cwd=tmp_path,
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **mode},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        # Killed once the server has taken some of the visits through its door.
        deadline = time.monotonic() + 60
        while _door_visits(running.base) < 500 and time.monotonic() < deadline:
            assert importing.poll() is None, importing.communicate()
            time.sleep(0.02)
        assert (running.kill() == -9) if stop == "kill" else (running.terminate() == 0)
    out, err = importing.communicate(timeout=120)
    assert importing.returncode == 0, err
    summary = out.splitlines()[-1]
    if stop == "terminate":
        # Drained: the server answered for every visit it stored.
        assert "visits: 20000 imported" in summary
    else:
        # Killed between a commit and its answer, the server leaves visits the import
        # sends again: they count as already imported, never stored twice.
        counts = re.search(r"visits: (\d+) imported(?:; (\d+) already imported)?", summary)
        assert counts is not None, summary
        assert int(counts[1]) + int(counts[2] or 0) == 20_000
    made = re.search(r"(\d+) of (\d+) commits made by the running server", summary)
    assert made is not None, summary
    assert 0 < int(made[1]) < int(made[2])
    with sqlite3.connect(tmp_path / "scanlet.db") as db:
        stored = db.execute(
            "SELECT count(*), count(DISTINCT id) FROM events WHERE type = 'scan.recorded'"
        ).fetchone()
    assert stored == (20_000, 20_000)


def _door_visits(base: str) -> float:
    metrics = httpx.get(f"{base}/metrics").text
    found = re.search(r"^scanlet_import_door_visits_total (\S+)$", metrics, re.M)
    return float(found[1]) if found else 0.0
