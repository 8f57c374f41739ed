"""Storage faults are loud and safe: a locked database or a full disk makes writes answer
503 problem+json with a clear log line, /readyz turns 503, nothing is half-written, and
service resumes by itself when the fault clears."""

import errno
import sqlite3
import subprocess
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import anyio
import pytest
import structlog
from starlette.applications import Starlette
from starlette.testclient import TestClient

from scanlet.storage.sqlite import database as sqlite_database
from tests.reliability.conftest import make_app, mint

TARGET = "https://example.com/menu"


def batch(count: int) -> list[dict[str, str]]:
    now = datetime.now(UTC).isoformat()
    return [
        {"type": "scan", "id": str(uuid.uuid4()), "slug": "menu", "occurred_at": now}
        for _ in range(count)
    ]


def assert_unavailable(answer: object) -> None:
    assert getattr(answer, "status_code", None) == 503
    headers = getattr(answer, "headers", {})
    assert headers["content-type"] == "application/problem+json"
    assert headers["retry-after"] == "1"


def stored_ids(db: Path, ids: list[str]) -> int:
    with sqlite3.connect(db) as conn:
        marks = ",".join("?" * len(ids))
        found: int = conn.execute(
            f"SELECT COUNT(*) FROM device_event_ids WHERE id IN ({marks})", ids
        ).fetchone()[0]
    conn.close()
    return found


def key_and_menu(app: Starlette, client: TestClient) -> dict[str, str]:
    """A write key's headers, after creating the code ``menu`` with it."""
    headers = mint(app, client)
    made = client.post("/api/v1/codes", headers=headers, json={"target": TARGET, "slug": "menu"})
    assert made.status_code == 201
    return headers


def integrity(db: Path) -> str:
    with sqlite3.connect(db) as conn:
        result: str = conn.execute("PRAGMA integrity_check").fetchone()[0]
    conn.close()
    return result


@pytest.fixture
def short_busy_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    """Writes give up on a lock held elsewhere after 0.3 s instead of 5 s."""
    monkeypatch.setattr(sqlite_database, "WRITE_BUSY_SECONDS", 0.3)


@pytest.mark.usefixtures("short_busy_wait")
def test_a_locked_database_answers_503_then_service_resumes_when_the_lock_goes(
    tmp_path: Path,
) -> None:
    db = tmp_path / "scanlet.db"
    app = make_app(db)
    with TestClient(app, base_url="http://qr.test", follow_redirects=False) as client:
        headers = key_and_menu(app, client)
        events = batch(5)
        # Another process (a backup, a CLI command) holds the write lock.
        blocker = sqlite3.connect(db, isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")
        with structlog.testing.capture_logs() as logs:
            assert_unavailable(client.get("/menu"))
            assert_unavailable(
                client.post("/api/v1/events", headers=headers, json={"events": events})
            )
            code = {"target": TARGET, "slug": "other"}
            assert_unavailable(client.post("/api/v1/codes", headers=headers, json=code))
            ready = client.get("/readyz")
        assert ready.status_code == 503
        assert any("writes are failing" in reason for reason in ready.json()["reasons"])
        failed = [e for e in logs if e["event"] == "database write failed"]
        assert failed
        assert "locked" in failed[0]["error"]
        blocker.execute("ROLLBACK")
        blocker.close()
        assert client.get("/readyz").status_code == 200
        assert client.get("/menu").status_code == 302
        again = client.post("/api/v1/events", headers=headers, json={"events": events})
        assert [r["status"] for r in again.json()["results"]] == ["accepted"] * 5
        assert client.post("/api/v1/codes", headers=headers, json=code).status_code == 201
        assert client.get("/other").status_code == 302
    assert integrity(db) == "ok"


@pytest.mark.parametrize("synchronous", ["normal", "full"])
def test_a_scan_waits_for_a_lock_another_process_holds_briefly_and_is_stored(
    tmp_path: Path, synchronous: str
) -> None:
    """An import or a CLI command holds the write lock for a while: the scan is tried again
    meanwhile (the loop serving on) and redirected once it is stored, not refused."""
    db = tmp_path / "scanlet.db"
    app = make_app(db, SCANLET_SYNCHRONOUS=synchronous)
    with TestClient(app, base_url="http://qr.test", follow_redirects=False) as client:
        key_and_menu(app, client)
        blocker = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
        blocker.execute("BEGIN IMMEDIATE")
        # Released from another thread while the scan below waits (well past the 250 ms
        # the writer used to wait before answering 503).
        release = threading.Timer(0.6, lambda: blocker.execute("ROLLBACK"))
        release.start()
        try:
            with structlog.testing.capture_logs() as logs:
                scan = client.get("/menu")
        finally:
            release.join()
            blocker.close()
        assert scan.status_code == 302, scan.text
        assert not [e for e in logs if e["event"] == "database write failed"]
        assert client.get("/readyz").status_code == 200
    with sqlite3.connect(db) as conn:
        stored = conn.execute(
            "SELECT COUNT(*) FROM events WHERE type = 'scan.recorded' AND slug = 'menu'"
        ).fetchone()[0]
    conn.close()
    assert stored == 1
    assert integrity(db) == "ok"


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 3 MB tmpfs of our own (root only), unmounted afterwards."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs to fill (needs root): {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(folder: Path) -> Path:
    """Write a filler file until the file system is full; returns it."""
    filler = folder / "filler"
    chunk = b"\0" * 65536
    # Unbuffered: a chunk the disk takes only part of is a short write, not bytes left in a
    # buffer for close() to fail on (which depended on the free space being a multiple of
    # the chunk size, and broke when the server key file took one more page).
    with filler.open("wb", buffering=0) as out:
        for _ in range(1000):  # bounded: far more than 3 MB
            try:
                out.write(chunk)
            except OSError as exc:
                if exc.errno != errno.ENOSPC:
                    raise
                break
    return filler


@pytest.fixture
def no_background_checkpoints(monkeypatch: pytest.MonkeyPatch) -> None:
    """The WAL only grows: a checkpoint between a refused write and the readiness probe
    could start the WAL over, and the probe's one row would then fit in the WAL file's own
    space (readiness would rightly say writes work; seen once in a loaded run)."""

    async def never(self: object, interval: float = 0.0) -> None:
        await anyio.sleep_forever()

    monkeypatch.setattr(sqlite_database.Database, "run_checkpoints", never)


@pytest.mark.usefixtures("no_background_checkpoints")
def test_a_full_disk_answers_503_writes_nothing_half_and_resumes_when_space_returns(
    small_disk: Path,
) -> None:
    db = small_disk / "scanlet.db"
    app = make_app(db)
    with TestClient(app, base_url="http://qr.test", follow_redirects=False) as client:
        headers = key_and_menu(app, client)
        filler = fill(small_disk)
        refused: list[dict[str, str]] = []
        with structlog.testing.capture_logs() as logs:
            for _ in range(200):  # the WAL reuses its free pages first; until it must grow
                events = batch(200)
                answer = client.post("/api/v1/events", headers=headers, json={"events": events})
                if answer.status_code == 503:
                    assert_unavailable(answer)
                    refused = events
                    break
                assert answer.status_code == 200
            ready = client.get("/readyz")
        assert refused, "the disk never filled up"
        assert ready.status_code == 503
        assert any(
            "full" in e.get("error", "") for e in logs if e["event"] == "database write failed"
        )
        # Nothing of the refused batch was stored.
        assert stored_ids(db, [e["id"] for e in refused]) == 0
        filler.unlink()
        assert client.get("/readyz").status_code == 200
        again = client.post("/api/v1/events", headers=headers, json={"events": refused})
        assert {r["status"] for r in again.json()["results"]} == {"accepted"}
        assert client.get("/menu").status_code == 302
    assert integrity(db) == "ok"
