"""Importing into a database a server is using: the server keeps redirecting, and on
PostgreSQL it serves the imported codes at once (the codes' notices reach it). On SQLite the
import paces its commits meanwhile; on PostgreSQL it never needs to."""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path

import httpx
import pytest

from scanlet.cli import main
from tests.importing.fakes import FakeShlink, serving
from tests.processes import served


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
    statuses: list[int] = []
    stop = threading.Event()
    with served(tmp_path, env=env) as running:
        token = running.key()
        httpx.post(
            f"{running.base}/api/v1/codes",
            headers={"Authorization": f"Bearer {token}"},
            json={"target": "https://example.com/", "slug": "live"},
        ).raise_for_status()

        def scan() -> None:
            with httpx.Client(base_url=running.base, timeout=30) as client:
                while not stop.is_set():
                    statuses.append(client.get("/live", follow_redirects=False).status_code)

        scanner = threading.Thread(target=scan)
        scanner.start()
        try:
            with serving(fake) as url:
                args = ["import", "shlink", "--url", url, "--api-key", fake.key, "--quiet"]
                assert main([*args, "--db", scanlet_db]) == 0
        finally:
            stop.set()
            scanner.join()
        summary = capsys.readouterr().out.splitlines()[-1]
        assert "visits: 3000 imported" in summary
        if backend == "sqlite":
            # The server held the serve lock all along: every commit made room for it.
            paced = re.search(r"paced (\d+) of (\d+) commits: a server was using", summary)
            assert paced is not None, summary
            assert paced[1] == paced[2]
        else:
            assert "paced" not in summary
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
