"""Hundreds of stalled bodies and open streams never block a redirect (on both servers).

A review held 128 POSTs with an announced, never-sent body open against granian's defaults,
and every redirect behind them timed out. This test holds 300 of each attack at once against
a real ``scanlet serve`` and asks for a redirect meanwhile. The bound on the answer is the
client's timeout, generous on purpose: the failure it guards against is a hang, not slowness
(``bench/attacks.py`` prints the actual figures).
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.attacks import open_streams, redirect_seconds, stalled_bodies
from tests.processes import Served, served

ATTACKERS = 300


@pytest.fixture(params=["granian", "uvicorn"])
def server(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Served]:
    env = {
        "SCANLET_STREAM_LIMIT": str(ATTACKERS + 50),
        "SCANLET_STREAM_LIMIT_PER_KEY": str(ATTACKERS + 50),
        "SCANLET_BODY_TIMEOUT": "60",
    }
    with served(tmp_path, server=request.param, env=env) as running:
        yield running


def test_stalled_bodies_and_open_streams_do_not_block_redirects(server: Served) -> None:
    writer = server.key("write")
    made = httpx.post(
        f"{server.base}/api/v1/codes",
        json={"target": "https://example.com/", "slug": "menu"},
        headers={"Authorization": f"Bearer {writer}"},
    )
    assert made.status_code == 201
    reader = server.key("read")
    with (
        stalled_bodies(server.base, ATTACKERS) as stalled,
        open_streams(server.base, reader, ATTACKERS) as streams,
    ):
        assert stalled == ATTACKERS
        assert streams == [200] * ATTACKERS
        for _ in range(5):
            redirect_seconds(server.base, "menu", timeout=3.0)
        assert httpx.get(f"{server.base}/livez", timeout=3.0).status_code == 200
    assert server.proc.poll() is None


def test_a_body_that_never_arrives_is_answered_408(tmp_path: Path) -> None:
    with served(tmp_path, env={"SCANLET_BODY_TIMEOUT": "0.5"}) as running:
        host, port = running.base.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=10) as sock:
            sock.sendall(
                b"POST /dashboard/sign-in HTTP/1.1\r\nHost: x\r\n"
                b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\n"
            )
            answer = sock.recv(65536)
        assert answer.startswith(b"HTTP/1.1 408 "), answer[:200]
        # The dashboard answers with its HTML error page; the API would send problem+json.
        assert b"did not arrive within 0.5 seconds" in answer
