"""Acknowledged means stored, in every mode the README claims it for: both servers, and
SQLite's ``synchronous`` at ``normal`` and ``full``. The process dies by SIGKILL right after
its last answer; what it answered must be in the file."""

from __future__ import annotations

import signal
import sqlite3
import uuid
from pathlib import Path

import httpx
import pytest

from tests.processes import served


@pytest.mark.parametrize("synchronous", ["normal", "full"])
@pytest.mark.parametrize("server", ["granian", "uvicorn"])
def test_answered_scans_and_events_survive_kill_9(
    tmp_path: Path, server: str, synchronous: str
) -> None:
    with served(tmp_path, server=server, env={"SCANLET_SYNCHRONOUS": synchronous}) as running:
        headers = {"Authorization": f"Bearer {running.key('write')}"}
        made = httpx.post(
            f"{running.base}/api/v1/codes",
            headers=headers,
            json={"target": "https://example.com/", "slug": "durable"},
        )
        assert made.status_code == 201, made.text
        answered = 0
        accepted = 0
        with httpx.Client(base_url=running.base, headers=headers) as client:
            for round_ in range(10):
                assert client.get("/durable").status_code == 302
                answered += 1
                batch = [
                    {
                        "type": "scan",
                        "id": str(uuid.uuid4()),
                        "slug": "durable",
                        "occurred_at": f"2026-11-30T10:00:{round_:02d}Z",
                    }
                    for _ in range(5)
                ]
                results = client.post("/api/v1/events", json={"events": batch}).json()
                accepted += sum(r["status"] == "accepted" for r in results["results"])
        # No grace: the process dies right after the last answer.
        running.proc.send_signal(signal.SIGKILL)
        running.proc.wait(timeout=30)
    with sqlite3.connect(tmp_path / "scanlet.db") as conn:
        stored = conn.execute(
            "SELECT COUNT(*) FROM events WHERE type = 'scan.recorded' AND slug = 'durable'"
        ).fetchone()[0]
        integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
    assert (answered, accepted) == (10, 50)
    assert stored == answered + accepted
    assert integrity == "ok"
