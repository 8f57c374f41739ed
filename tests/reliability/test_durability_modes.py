"""Acknowledged means stored, in every mode the README claims it for: both servers, SQLite's
``synchronous`` at ``normal`` and ``full``, and PostgreSQL (``synchronous_commit`` on). The
process dies by SIGKILL right after its last answer; what it answered must be stored."""

from __future__ import annotations

import os
import signal
import uuid
from pathlib import Path

import httpx
import pytest

from scanlet.config import Settings
from tests.dbquery import query
from tests.processes import served

STORED = "SELECT COUNT(*) FROM events WHERE type = 'scan.recorded' AND slug = 'durable'"


def answer_then_die(folder: Path, server: str, env: dict[str, str]) -> tuple[int, int]:
    """Serve, answer 10 redirects and 50 device events, then SIGKILL at once: the redirects
    answered and the events accepted."""
    with served(folder, server=server, env=env) as running:
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
    return answered, accepted


def _pinned_placement(folder: Path, on_loop: bool) -> tuple[dict[str, str], Path]:
    """Environment for a served process whose durable commits (``synchronous=full``) all run
    on the loop, or all in a worker thread, whatever this machine's disk syncs in: a
    ``sitecustomize`` that pins ``CommitPlacement`` before the server starts; and the file
    that counts the commits it placed (one line each)."""
    hook = folder / "placement-hook"
    hook.mkdir()
    placed = folder / "placed"
    (hook / "sitecustomize.py").write_text(
        "from scanlet.storage.sqlite.commit_placement import CommitPlacement\n"
        "def inline(self):\n"
        f"    with open({str(placed)!r}, 'a') as placed:\n"
        f"        placed.write('{on_loop}\\n')\n"
        f"    return {on_loop}\n"
        "CommitPlacement.inline = inline\n"
    )
    paths = [str(hook), *filter(None, [os.environ.get("PYTHONPATH")])]
    return {"PYTHONPATH": os.pathsep.join(paths)}, placed


@pytest.mark.backends("sqlite")
@pytest.mark.parametrize(
    ("synchronous", "commits"), [("normal", "loop"), ("full", "loop"), ("full", "thread")]
)
@pytest.mark.parametrize("server", ["granian", "uvicorn"])
def test_answered_scans_and_events_survive_kill_9_on_sqlite(
    tmp_path: Path, db_settings: Settings, server: str, synchronous: str, commits: str
) -> None:
    # Under ``full`` a durable commit runs on the loop or in a worker thread, by how quickly
    # the disk syncs (commit_placement.py): both are held to the guarantee.
    env = {"SCANLET_DB": str(db_settings.db), "SCANLET_SYNCHRONOUS": synchronous}
    placed = None
    if synchronous == "full":
        pinned, placed = _pinned_placement(tmp_path, on_loop=commits == "loop")
        env.update(pinned)
    answered, accepted = answer_then_die(tmp_path, server, env)
    if placed is not None:
        # Every redirect's and every batch's commit was placed as pinned (and some others).
        assert set(placed.read_text().split()) == {str(commits == "loop")}
        assert len(placed.read_text().split()) >= 20
    assert (answered, accepted) == (10, 50)
    assert query(db_settings, STORED) == [(answered + accepted,)]
    assert query(db_settings, "PRAGMA integrity_check") == [("ok",)]


@pytest.mark.backends("postgresql")
@pytest.mark.parametrize("server", ["granian", "uvicorn"])
def test_answered_scans_and_events_survive_kill_9_on_postgresql(
    tmp_path: Path, db_settings: Settings, server: str
) -> None:
    assert db_settings.postgres_url is not None
    answered, accepted = answer_then_die(tmp_path, server, {"SCANLET_DB": db_settings.postgres_url})
    assert (answered, accepted) == (10, 50)
    assert query(db_settings, STORED) == [(answered + accepted,)]
