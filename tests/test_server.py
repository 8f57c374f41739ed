"""``scanlet serve`` as a real process: serves in an empty folder, drains and exits 0."""

import json
import math
import signal
import socket
import sqlite3
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from openapi_spec_validator import validate

from scanlet.storage.serve_lock import claim_serve_lock
from tests.processes import Served, free_port, served


@pytest.fixture(params=["granian", "uvicorn"])
def server(tmp_path: Path, request: pytest.FixtureRequest, loose_umask: None) -> Iterator[Served]:
    # The log lies beside the folder, not in it: the folder holds only what the server made.
    folder = tmp_path / "empty"
    folder.mkdir()
    with served(folder, server=request.param, log=tmp_path / "server.log") as running:
        yield running


def test_serve_in_an_empty_folder_creates_the_database_and_serves_ops(server: Served) -> None:
    base, folder = server.base, server.folder
    assert (folder / "scanlet.db").exists()
    # Started under a 0022 umask, it still made every file for its own user alone.
    made = {path.name: stat.S_IMODE(path.stat().st_mode) for path in folder.iterdir()}
    assert {
        "scanlet.db",
        "scanlet.db-wal",
        "scanlet.db-shm",
        "scanlet.db.serve.lock",
        "scanlet.db.key",
    } <= set(made)
    assert made == dict.fromkeys(made, 0o600)
    assert httpx.get(f"{base}/livez").status_code == 200
    metrics = httpx.get(f"{base}/metrics").text
    assert "scanlet_build_info" in metrics
    assert "scanlet_actor_" in metrics
    validate(httpx.get(f"{base}/openapi.json").json())
    assert httpx.get(f"{base}/docs").status_code == 200
    unauthorised = httpx.get(f"{base}/api/v1/codes")
    assert unauthorised.status_code == 401
    assert unauthorised.headers["content-type"] == "application/problem+json"


def test_sigterm_drains_and_exits_zero(server: Served) -> None:
    assert server.terminate() == 0
    assert "Traceback" not in server.log


def test_every_line_of_a_json_log_is_one_json_record(server: Served) -> None:
    # uvicorn warns of a request it cannot parse through the standard library's logging,
    # which wrote plain text among the JSON lines.
    host, port = server.base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(b"NOT HTTP AT ALL\r\n\r\n")
        assert sock.recv(1024)
    assert server.terminate() == 0
    records = [json.loads(line) for line in server.log.splitlines() if line]
    assert records
    assert all(isinstance(r, dict) and {"event", "level", "timestamp"} <= r.keys() for r in records)
    if server.env["SCANLET_SERVER"] == "uvicorn":
        assert any(r.get("logger") == "uvicorn.error" and r["level"] == "warning" for r in records)


@pytest.mark.parametrize("name", ["granian", "uvicorn"])
def test_sigterm_ends_open_event_streams_and_exits_zero(tmp_path: Path, name: str) -> None:
    # A drain timeout longer than terminate's wait: a stream held open until it ran out
    # would end in SIGKILL (-9). Granian, cancelling such a stream at the timeout, took
    # minutes more to exit.
    env = {"SCANLET_SHUTDOWN_TIMEOUT": "120"}
    errors: list[BaseException] = []
    lines: list[str] = []
    ended = threading.Event()
    with served(tmp_path, server=name, env=env) as server:
        server.create_code("menu")
        headers = {"Authorization": f"Bearer {server.key('read')}"}

        def follow() -> None:
            try:
                timeout = httpx.Timeout(10, read=None)
                url = f"{server.base}/api/v1/stream"
                with httpx.stream("GET", url, headers=headers, timeout=timeout) as answer:
                    lines.extend(answer.iter_lines())
                ended.set()
            except BaseException as exc:  # handed to the test, which asserts there is none
                errors.append(exc)

        thread = threading.Thread(target=follow, daemon=True)
        thread.start()
        deadline = time.monotonic() + 30
        # The stream starts at its connection, which cannot be seen from here: scan until
        # a scan shows in it.
        while "event: scan.recorded" not in lines[:] and time.monotonic() < deadline:
            assert httpx.get(f"{server.base}/q/menu").status_code == 302
            time.sleep(0.2)
        assert "event: scan.recorded" in lines
        assert server.terminate(timeout=60) == 0
        thread.join(timeout=30)
    assert errors == []
    assert ended.is_set()  # the response ended as a response does, not cut off
    assert "Traceback" not in server.log


def test_sigint_also_exits_zero(server: Served) -> None:
    server.proc.send_signal(signal.SIGINT)
    assert server.proc.wait(timeout=30) == 0


def test_a_second_server_on_the_same_database_refuses_to_start(server: Served) -> None:
    # Not through ``served``: this one must exit at once, and its last line is the point.
    second = subprocess.run(
        [sys.executable, "-m", "scanlet", "serve", "--port", str(free_port())],
        cwd=server.folder,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert second.returncode == 1
    assert second.stderr.strip().splitlines()[-1] == (
        "scanlet: another scanlet serve is already using scanlet.db"
    )


def test_forwarded_for_is_believed_only_from_trusted_proxies_under_both_servers(
    server: Served,
) -> None:
    """uvicorn's own proxy-header handling believed X-Forwarded-For from 127.0.0.1 with no
    trusted proxies set: spoofed addresses were stored and the unknown-slug limit bypassed."""
    base, folder = server.base, server.folder
    headers = {"Authorization": f"Bearer {server.key()}"}
    response = httpx.post(
        f"{base}/api/v1/codes",
        headers=headers,
        json={"target": "https://example.com/", "slug": "m"},
    )
    assert response.status_code == 201
    spoof = {"X-Forwarded-For": "198.51.100.77"}
    assert httpx.get(f"{base}/m", headers=spoof).status_code == 302
    # The unknown-slug limit (60/minute: a burst of 60, then one a second) holds however
    # the spoofed address changes: one address per request, the limit still bites, and no
    # later than the burst and the refill since the first request allow. (Counting 429s
    # among 90 requests failed on a loaded machine: they took long enough to refill.)
    started = time.monotonic()
    answered = 0
    for n in range(300):
        spoofed = {"X-Forwarded-For": f"198.51.{n % 250}.{1 + n // 250}"}
        status = httpx.get(f"{base}/nope{n}", headers=spoofed).status_code
        if status == 429:
            break
        assert status == 404
        answered += 1
    else:
        pytest.fail("300 unknown slugs from 300 spoofed addresses were never limited")
    assert answered <= 60 + math.ceil(time.monotonic() - started) + 1
    with sqlite3.connect(folder / "scanlet.db") as conn:
        payloads = [row[0] for row in conn.execute("SELECT payload FROM events")]
    assert not any(b"198.51." in payload for payload in payloads)
    assert any(b'"ip":"127.0.0.0"' in payload for payload in payloads)


@pytest.mark.usefixtures("loose_umask")
def test_the_serve_lock_file_is_private(tmp_path: Path) -> None:
    lock = claim_serve_lock(tmp_path / "scanlet.db")
    assert lock is not None
    try:
        assert stat.S_IMODE((tmp_path / "scanlet.db.serve.lock").stat().st_mode) == 0o600
    finally:
        lock.close()
