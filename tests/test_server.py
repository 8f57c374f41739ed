"""``scanlet serve`` as a real process: serves in an empty folder, drains and exits 0."""

import os
import signal
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from openapi_spec_validator import validate

from scanlet.serving.server import _claim
from tests.processes import create_key, free_port, wait_ready


@pytest.fixture(params=["granian", "uvicorn"])
def server(
    tmp_path: Path, request: pytest.FixtureRequest, loose_umask: None
) -> Iterator[tuple[str, subprocess.Popen[bytes], Path]]:
    port = free_port()
    env = {
        **os.environ,
        "SCANLET_PORT": str(port),
        "SCANLET_LOG_FORMAT": "json",
        "SCANLET_SERVER": request.param,
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "scanlet", "serve"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base, proc)
        yield base, proc, tmp_path
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=30)


def test_serve_in_an_empty_folder_creates_the_database_and_serves_ops(
    server: tuple[str, subprocess.Popen[bytes], Path],
) -> None:
    base, _, folder = server
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


def test_sigterm_drains_and_exits_zero(server: tuple[str, subprocess.Popen[bytes], Path]) -> None:
    _, proc, _ = server
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0
    stderr = proc.stderr.read().decode() if proc.stderr else ""
    assert "Traceback" not in stderr


def test_sigint_also_exits_zero(server: tuple[str, subprocess.Popen[bytes], Path]) -> None:
    _, proc, _ = server
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=30) == 0


def test_a_second_server_on_the_same_database_refuses_to_start(
    server: tuple[str, subprocess.Popen[bytes], Path],
) -> None:
    _, _, folder = server
    second = subprocess.run(
        [sys.executable, "-m", "scanlet", "serve", "--port", str(free_port())],
        cwd=folder,
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
    server: tuple[str, subprocess.Popen[bytes], Path],
) -> None:
    """uvicorn's own proxy-header handling believed X-Forwarded-For from 127.0.0.1 with no
    trusted proxies set: spoofed addresses were stored and the unknown-slug limit bypassed."""
    base, _, folder = server
    headers = {"Authorization": f"Bearer {create_key(folder)}"}
    response = httpx.post(
        f"{base}/api/v1/codes",
        headers=headers,
        json={"target": "https://example.com/", "slug": "m"},
    )
    assert response.status_code == 201
    spoof = {"X-Forwarded-For": "198.51.100.77"}
    assert httpx.get(f"{base}/m", headers=spoof).status_code == 302
    # The unknown-slug limit (60/minute) holds however the spoofed address changes.
    statuses = [
        httpx.get(f"{base}/nope{n}", headers={"X-Forwarded-For": f"198.51.{n}.1"}).status_code
        for n in range(90)
    ]
    assert statuses.count(429) >= 20
    with sqlite3.connect(folder / "scanlet.db") as conn:
        payloads = [row[0] for row in conn.execute("SELECT payload FROM events")]
    assert not any(b"198.51." in payload for payload in payloads)
    assert any(b'"ip":"127.0.0.0"' in payload for payload in payloads)


@pytest.mark.usefixtures("loose_umask")
def test_the_serve_lock_file_is_private(tmp_path: Path) -> None:
    lock = _claim(tmp_path / "scanlet.db")
    assert lock is not None
    try:
        assert stat.S_IMODE((tmp_path / "scanlet.db.serve.lock").stat().st_mode) == 0o600
    finally:
        lock.close()
