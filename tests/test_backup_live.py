"""``scanlet backup`` against a running server while scans are being recorded."""

import os
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import httpx

from tests.processes import served


def test_a_backup_taken_while_scans_are_recorded_is_consistent_and_serving_goes_on(
    tmp_path: Path,
) -> None:
    stop = threading.Event()
    statuses: list[int] = []
    with served(tmp_path) as running:
        base = running.base
        try:
            created = httpx.post(
                f"{base}/api/v1/codes",
                headers={"Authorization": f"Bearer {running.key()}"},
                json={"target": "https://example.com/", "slug": "live"},
            )
            assert created.status_code == 201
            first_scan = threading.Event()

            def scan() -> None:
                with httpx.Client() as client:
                    while not stop.is_set():
                        statuses.append(client.get(f"{base}/live").status_code)
                        first_scan.set()

            scanner = threading.Thread(target=scan)
            scanner.start()
            assert first_scan.wait(30)
            backup = subprocess.run(
                [sys.executable, "-m", "scanlet", "backup", str(tmp_path / "copy.db")],
                cwd=tmp_path,
                env=running.env,
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
            answered_during = len(statuses)
            stop.set()
            scanner.join(30)
            assert backup.returncode == 0, backup.stderr
            assert "integrity_check ok" in backup.stdout
            # The server kept answering through the backup, every scan durably recorded.
            assert set(statuses) == {302}
            assert answered_during > 0
            assert running.terminate() == 0
        finally:
            stop.set()

    with sqlite3.connect(tmp_path / "copy.db") as copy:
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        copied = copy.execute(
            "SELECT COUNT(*), COALESCE(MAX(seq), 0) FROM events WHERE type = 'scan.recorded'"
        ).fetchone()
        (gaps,) = copy.execute(
            "SELECT COUNT(*) FROM events a WHERE a.seq > 1 AND NOT EXISTS "
            "(SELECT 1 FROM events b WHERE b.seq = a.seq - 1)"
        ).fetchone()
    with sqlite3.connect(tmp_path / "scanlet.db") as live:
        (total,) = live.execute(
            "SELECT COUNT(*) FROM events WHERE type = 'scan.recorded'"
        ).fetchone()
    # A snapshot: a prefix of the log with no holes, some scans in it, not the later ones.
    assert gaps == 0
    assert 0 < copied[0] <= total == len(statuses)


def test_a_restored_copy_serves_its_codes(tmp_path: Path) -> None:
    source = tmp_path / "source"
    source.mkdir()
    env = {**os.environ, "SCANLET_LOG_FORMAT": "json"}
    subprocess.run(
        [sys.executable, "-m", "scanlet", "keys", "create", "--name", "r"],
        cwd=source,
        env=env,
        capture_output=True,
        check=True,
        timeout=60,
    )
    restored = tmp_path / "restored"
    restored.mkdir()
    subprocess.run(
        [sys.executable, "-m", "scanlet", "backup", str(restored / "scanlet.db")],
        cwd=source,
        env=env,
        capture_output=True,
        check=True,
        timeout=60,
    )
    listed = subprocess.run(
        [sys.executable, "-m", "scanlet", "keys", "list", "--format", "json"],
        cwd=restored,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert '"name":"r"' in listed.stdout
