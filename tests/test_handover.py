"""Zero-downtime restarts: a new server takes over a socket-activated port under load.

The test plays systemd's part: it owns the listening socket and starts each server with it
as fd 3 (``LISTEN_FDS=1``, ``LISTEN_PID`` its own pid). The new server starts while the old
one still serves, waits for the database lock, and takes over when the old one, on SIGTERM,
has drained and exited. A loop of scans runs all along, one new connection per request, as
phones do; not one may fail.
"""

import os
import signal
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

from tests.processes import create_key, wait_ready

_EXEC_WITH_FD3 = (
    "import os, sys; os.dup2(int(sys.argv[1]), 3); os.environ['LISTEN_FDS'] = '1'; "
    "os.environ['LISTEN_PID'] = str(os.getpid()); "
    "os.execv(sys.executable, [sys.executable, '-m', 'scanlet', 'serve'])"
)


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(1024)
    yield sock
    sock.close()


def start(folder: Path, sock: socket.socket, server: str, name: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "SCANLET_LOG_FORMAT": "json", "SCANLET_SERVER": server}
    with (folder / f"{name}.log").open("wb") as log:
        return subprocess.Popen(
            [sys.executable, "-c", _EXEC_WITH_FD3, str(sock.fileno())],
            cwd=folder,
            env=env,
            pass_fds=(sock.fileno(),),
            stdout=log,
            stderr=log,
        )


@pytest.mark.parametrize("server", ["granian", "uvicorn"])
def test_a_restart_under_a_steady_request_loop_fails_no_request(
    tmp_path: Path, listener: socket.socket, server: str
) -> None:
    base = f"http://127.0.0.1:{listener.getsockname()[1]}"
    old = start(tmp_path, listener, server, "old")
    new: subprocess.Popen[bytes] | None = None
    stop = threading.Event()
    statuses: list[int] = []
    failures: list[str] = []
    try:
        wait_ready(base, old)
        token = create_key(tmp_path)
        created = httpx.post(
            f"{base}/api/v1/codes",
            headers={"Authorization": f"Bearer {token}"},
            json={"target": "https://example.com/", "slug": "up"},
        )
        assert created.status_code == 201

        def scan_loop() -> None:
            while not stop.is_set():
                try:
                    # A fresh connection each time (see the README on keep-alive).
                    response = httpx.get(f"{base}/up", headers={"connection": "close"}, timeout=30)
                    statuses.append(response.status_code)
                except httpx.HTTPError as exc:
                    failures.append(repr(exc))

        loop = threading.Thread(target=scan_loop)
        loop.start()
        new = start(tmp_path, listener, server, "new")
        while len(statuses) < 20:  # the old server is serving under the loop
            time.sleep(0.01)
        old.send_signal(signal.SIGTERM)
        assert old.wait(timeout=60) == 0
        handed_over = len(statuses)
        while len(statuses) < handed_over + 20 and new.poll() is None:  # the new one serves
            time.sleep(0.01)
        stop.set()
        loop.join(60)
        assert new.poll() is None, (tmp_path / "new.log").read_text()
        assert failures == []
        assert set(statuses) == {302}
        new.send_signal(signal.SIGTERM)
        assert new.wait(timeout=60) == 0
    finally:
        stop.set()
        for proc in (old, new):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait(timeout=30)
    with sqlite3.connect(tmp_path / "scanlet.db") as conn:
        (stored,) = conn.execute(
            "SELECT COUNT(*) FROM events WHERE type = 'scan.recorded'"
        ).fetchone()
    assert stored == len(statuses)
    assert "serving an inherited socket" in (tmp_path / "new.log").read_text()


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
