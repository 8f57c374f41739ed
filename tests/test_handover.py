"""Zero-downtime restarts: a new server takes over a socket-activated port under load.

The test plays systemd's part: it owns the listening socket and starts each server with it
as fd 3 (``LISTEN_FDS=1``, ``LISTEN_PID`` its own pid). The new server starts while the old
one still serves, waits for the database lock, and takes over when the old one, on SIGTERM,
has drained and exited. A loop of scans runs all along, one new connection per request, as
phones do; not one may fail.
"""

import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.processes import served


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(1024)
    yield sock
    sock.close()


@pytest.mark.parametrize("server", ["granian", "uvicorn"])
def test_a_restart_under_a_steady_request_loop_fails_no_request(
    tmp_path: Path, listener: socket.socket, server: str
) -> None:
    stop = threading.Event()
    statuses: list[int] = []
    failures: list[str] = []
    old_log, new_log = tmp_path / "old.log", tmp_path / "new.log"
    with served(tmp_path, server=server, listener=listener, log=old_log) as old:
        base = old.base
        try:
            created = httpx.post(
                f"{base}/api/v1/codes",
                headers={"Authorization": f"Bearer {old.key()}"},
                json={"target": "https://example.com/", "slug": "up"},
            )
            assert created.status_code == 201

            def scan_loop() -> None:
                while not stop.is_set():
                    try:
                        # A fresh connection each time (see the README on keep-alive).
                        response = httpx.get(
                            f"{base}/up", headers={"connection": "close"}, timeout=30
                        )
                        statuses.append(response.status_code)
                    except httpx.HTTPError as exc:
                        failures.append(repr(exc))

            loop = threading.Thread(target=scan_loop)
            loop.start()
            # Not waited for: it waits for the database lock the old one holds, and /readyz
            # on this socket is the old one's answer until then.
            with served(
                tmp_path, server=server, listener=listener, log=new_log, ready=False
            ) as new:
                while len(statuses) < 20:  # the old server is serving under the loop
                    time.sleep(0.01)
                assert old.terminate(timeout=60) == 0
                handed_over = len(statuses)
                # The new one serves.
                while len(statuses) < handed_over + 20 and new.proc.poll() is None:
                    time.sleep(0.01)
                stop.set()
                loop.join(60)
                assert new.proc.poll() is None, new.log
                assert failures == []
                assert set(statuses) == {302}
                assert new.terminate(timeout=60) == 0
        finally:
            stop.set()
    with sqlite3.connect(tmp_path / "scanlet.db") as conn:
        (stored,) = conn.execute(
            "SELECT COUNT(*) FROM events WHERE type = 'scan.recorded'"
        ).fetchone()
    assert stored == len(statuses)
    assert "serving an inherited socket" in new_log.read_text()


def test_a_wrong_listen_fds_is_a_one_line_configuration_error(tmp_path: Path) -> None:
    env = {**os.environ, "LISTEN_FDS": "2"}
    result = subprocess.run(
        [sys.executable, "-m", "scanlet", "serve"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert (
        result.stderr.strip()
        .splitlines()[-1]
        .startswith("scanlet: configuration error: LISTEN_FDS")
    )
