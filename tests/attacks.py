"""Hostile clients on raw sockets, shared by the tests and ``bench/attacks.py``.

Each attack opens its connections and holds them until closed: bodies announced and never
sent, event streams opened and never read. Sockets, not an HTTP client: a real client library
would time out or read, which is exactly what an attacker does not do.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from urllib.parse import urlsplit

__all__ = ("open_stream", "open_streams", "redirect_seconds", "stalled_bodies")


def _connect(base: str, receive_buffer: int | None = None) -> socket.socket:
    """A connection to ``base``; with ``receive_buffer``, one whose kernel buffer takes
    little of what the server sends (set before connecting, so the window stays small)."""
    parts = urlsplit(base)
    sock = socket.socket()
    sock.settimeout(10)
    if receive_buffer is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    try:
        sock.connect((parts.hostname or "127.0.0.1", parts.port or 80))
    except BaseException:
        sock.close()
        raise
    return sock


def _close_all(sockets: list[socket.socket]) -> None:
    for sock in sockets:
        with suppress(OSError):
            sock.close()


@contextmanager
def stalled_bodies(base: str, count: int, path: str = "/dashboard/sign-in") -> Iterator[int]:
    """``count`` POSTs that announce a 100-byte body and never send it; yields how many
    connections the server accepted."""
    sockets: list[socket.socket] = []
    request = (
        f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded"
        "\r\nContent-Length: 100\r\n\r\n"
    ).encode()
    try:
        for _ in range(count):
            sock = _connect(base)
            sock.sendall(request)
            sockets.append(sock)
        yield len(sockets)
    finally:
        _close_all(sockets)


def _read_status(sock: socket.socket) -> int:
    received = b""
    while b"\r\n" not in received:
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("closed before a status line")
        received += chunk
    return int(received.split(b" ", 2)[1])


def open_stream(
    base: str, token: str, *, receive_buffer: int | None = None
) -> tuple[socket.socket, int]:
    """One event stream opened with ``token``, read up to its status line: the socket and
    the status (200, or 429 over a cap)."""
    sock = _connect(base, receive_buffer)
    try:
        request = f"GET /api/v1/stream HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\r\n"
        sock.sendall(request.encode())
        return sock, _read_status(sock)
    except BaseException:
        sock.close()
        raise


@contextmanager
def open_streams(base: str, token: str, count: int) -> Iterator[list[int]]:
    """``count`` event streams opened with ``token`` and never read after the status line;
    yields each one's status (200, or 429 over a cap)."""
    sockets: list[socket.socket] = []
    statuses: list[int] = []
    try:
        for _ in range(count):
            sock, status = open_stream(base, token)
            sockets.append(sock)
            statuses.append(status)
        yield statuses
    finally:
        _close_all(sockets)


def redirect_seconds(base: str, slug: str, *, timeout: float = 10.0) -> float:
    """How long one scan takes on a new connection, from connecting to the status line
    (raises when it is not a redirect, or takes longer than ``timeout``)."""
    started = time.perf_counter()
    with _connect(base) as sock:
        sock.settimeout(timeout)
        sock.sendall(f"GET /{slug} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        status = _read_status(sock)
    elapsed = time.perf_counter() - started
    if status != 302:
        raise AssertionError(f"expected a redirect, got {status}")
    return elapsed
