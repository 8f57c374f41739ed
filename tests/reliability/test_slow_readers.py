"""A client that stops reading an export does not hold the server's stop (both servers).

Granian's stop waited for every connection to finish: a client reading a 29 MB CSV export
at 20 KB/s held a SIGTERM for 210 s past a 2 s drain. Here CSV exports of 40,000 scans
(about 20 MB each, far more than the kernel's socket buffers take) are asked for on sockets
that never read a byte of the body, then the server is stopped.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest

from tests.processes import Served, served

EXPORTS = 6
EVENTS = 40_000
DRAIN_SECONDS = 2


@pytest.fixture(params=["granian", "uvicorn"])
def server(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[tuple[str, Served]]:
    env = {"SCANLET_SHUTDOWN_TIMEOUT": str(DRAIN_SECONDS)}
    with served(tmp_path, server=request.param, env=env) as running:
        yield request.param, running


def _unread_export(base: str, token: str) -> socket.socket:
    """A CSV export asked for on a socket that never reads (and takes little in its buffer)."""
    host, port = base.removeprefix("http://").split(":")
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((host, int(port)))
    sock.sendall(
        f"GET /api/v1/codes/menu/scans?format=csv HTTP/1.1\r\nHost: x\r\n"
        f"Authorization: Bearer {token}\r\n\r\n".encode()
    )
    return sock


def test_readers_that_stop_reading_do_not_hold_the_stop(server: tuple[str, Served]) -> None:
    name, served_ = server
    writer = served_.create_code("menu")
    reader = served_.key("read")
    served_.ingest(writer, "menu", EVENTS, note=400)
    served_.wait_projected(writer, "menu", EVENTS)
    with ExitStack() as sockets:
        for _ in range(EXPORTS):
            sockets.callback(_unread_export(served_.base, reader).close)
        time.sleep(1)  # the exports read, and send what they can
        assert httpx.get(f"{served_.base}/menu").status_code == 302
        started = time.monotonic()
        assert served_.terminate(timeout=60) == 0
        assert time.monotonic() - started < DRAIN_SECONDS + 10
    if name == "granian":
        # uvicorn logs its own cancel of the export at the drain's end as the app's error.
        assert "Traceback" not in served_.log
