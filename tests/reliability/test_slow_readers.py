"""Clients that stop reading a streamed response hold neither the server's stop nor more
than a little of its memory (both servers).

Granian's stop waited for every connection to finish: a client reading a 29 MB CSV export
at 20 KB/s held a SIGTERM for 210 s past a 2 s drain. And granian queues a streamed body
without bound: 20 event streams that never read grew the server by 3.4 GB in 30 s of
redirects, until its sends were paced by the kernel's counts (scanlet.http.send_pacing).
Here CSV exports of 40,000 scans (about 20 MB each, far more than the kernel's socket
buffers take) and event streams are asked for on sockets that never read a byte of the
body.
"""

from __future__ import annotations

import json
import signal
import socket
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest

from tests.attacks import open_stream
from tests.processes import Served, served

EXPORTS = 6
STREAMS = 10
EVENTS = 40_000
#: What the server's memory may grow by. Unpaced, the unread responses alone held 340 MB
#: (each export 20 MB, each stream's 40,000 events about 14 MB), paced 256 KiB each; the
#: rest, about 40 MiB under either server, is the projection's and the database's.
GROWTH_LIMIT_MIB = 100
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


def _unread_streams(sockets: ExitStack, base: str, token: str) -> None:
    """``STREAMS`` event streams that never read (and take little in their buffers), closed
    with ``sockets``."""
    for _ in range(STREAMS):
        sock, status = open_stream(base, token, receive_buffer=4096)
        sockets.callback(sock.close)
        assert status == 200


def test_readers_that_stop_reading_do_not_hold_the_stop(server: tuple[str, Served]) -> None:
    _, served_ = server
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
    # The exports are ended at the drain's deadline as requests whose client left: uvicorn,
    # cancelling them itself, logged each as the app's error with its traceback.
    assert "Traceback" not in served_.log
    assert _errors(served_.log) == []


def _errors(log: str) -> list[dict[str, object]]:
    """The log's records at level error or above (every line is JSON: tests/test_server.py)."""
    records = [json.loads(line) for line in log.splitlines() if line]
    return [r for r in records if r["level"] in ("error", "critical")]


@pytest.mark.parametrize("name", ["granian", "uvicorn"])
def test_event_streams_that_stop_reading_do_not_hold_a_long_drain(
    tmp_path: Path, name: str
) -> None:
    """The drain ends each stream once its waiting send has had a second; its connection
    is shut down then, so the stop waits for no client. Under uvicorn a stream ended so
    kept its connection (uvicorn flushes before it closes) until the graceful timeout."""
    drain = 60
    with served(tmp_path, server=name, env={"SCANLET_SHUTDOWN_TIMEOUT": str(drain)}) as served_:
        writer = served_.create_code("menu")
        reader = served_.key("read")
        with ExitStack() as sockets:
            _unread_streams(sockets, served_.base, reader)
            served_.ingest(writer, "menu", EVENTS, note=400)
            served_.wait_projected(writer, "menu", EVENTS)
            started = time.monotonic()
            assert served_.terminate(timeout=drain + 30) == 0
            assert time.monotonic() - started < drain / 4
    assert "Traceback" not in served_.log
    assert _errors(served_.log) == []


def _rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def _settled_rss_mib(pid: int, ceiling: float) -> float:
    """The server's RSS once it has stopped growing (ten looks 0.2 s apart within 1 MiB),
    or as soon as it passes ``ceiling``."""
    last, same = _rss_mib(pid), 0
    while same < 10 and last <= ceiling:
        time.sleep(0.2)
        now = _rss_mib(pid)
        same = same + 1 if abs(now - last) < 1 else 0
        last = now
    return last


def test_clients_that_stop_reading_hold_little_of_the_servers_memory(
    server: tuple[str, Served],
) -> None:
    _, served_ = server
    writer = served_.create_code("menu")
    reader = served_.key("read")
    served_.ingest(writer, "menu", 2_000, note=400)
    served_.wait_projected(writer, "menu", 2_000)
    pid = served_.proc.pid
    before = _settled_rss_mib(pid, ceiling=float("inf"))
    with ExitStack() as sockets:
        _unread_streams(sockets, served_.base, reader)
        served_.ingest(writer, "menu", EVENTS, note=400)
        served_.wait_projected(writer, "menu", EVENTS + 2_000)
        for _ in range(EXPORTS):
            sockets.callback(_unread_export(served_.base, reader).close)
        growth = _settled_rss_mib(pid, ceiling=before + GROWTH_LIMIT_MIB) - before
        assert growth <= GROWTH_LIMIT_MIB
        # A client that reads gets every row (and a header), the unread ones still waiting.
        export = httpx.get(
            f"{served_.base}/api/v1/codes/menu/scans?format=csv",
            headers={"Authorization": f"Bearer {reader}"},
            timeout=120,
        )
        assert export.status_code == 200
        assert export.content.count(b"\n") == EVENTS + 2_000 + 1
        assert httpx.get(f"{served_.base}/menu").status_code == 302
    assert served_.terminate(timeout=60) == 0
    assert "drain timed out" not in served_.log


def _whole_body(response: bytes) -> bytes | None:
    """The body of a chunked response read to the connection's end; None if it ended
    before the last chunk (the client can tell it is cut short)."""
    _, _, rest = response.partition(b"\r\n\r\n")
    body = bytearray()
    while True:
        size_line, found, rest = rest.partition(b"\r\n")
        if not found:
            return None
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            return bytes(body) if rest.startswith(b"\r\n") else None
        if len(rest) < size + 2:
            return None
        body += rest[:size]
        rest = rest[size + 2 :]


def test_an_export_the_drain_cuts_off_never_looks_complete(server: tuple[str, Served]) -> None:
    """Cancelled mid-way, the export's connection is closed before its last chunk: under
    granian it used to end as if whole, a truncated CSV a client could not tell apart."""
    _, served_ = server
    writer = served_.create_code("menu")
    reader = served_.key("read")
    served_.ingest(writer, "menu", EVENTS, note=400)
    served_.wait_projected(writer, "menu", EVENTS)
    with _unread_export(served_.base, reader) as sock:
        sock.settimeout(60)
        response = bytearray(sock.recv(65536))  # under way
        served_.proc.send_signal(signal.SIGTERM)
        time.sleep(DRAIN_SECONDS + 0.5)  # past the drain: the export is cancelled unread
        while chunk := sock.recv(1 << 20):
            response += chunk
    assert served_.proc.wait(timeout=60) == 0
    body = _whole_body(bytes(response))
    # Either all of it arrived before the stop, or the client can tell it did not.
    assert body is None or body.count(b"\n") == EVENTS + 1
