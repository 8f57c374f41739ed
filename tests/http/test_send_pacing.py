"""``SendPacing``: a streamed body's sends wait while the client is behind, on a real
loopback connection, with a thread standing in for granian (a queue it writes to the socket
as the socket takes it)."""

from __future__ import annotations

import queue
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field

import anyio
import pytest

from scanlet.http.send_pacing import HIGH_WATER, SendPacing

pytestmark = pytest.mark.anyio

CHUNK = 16 * 1024
TOTAL = 8 * 1024 * 1024  # far more than the kernel's buffers hold


@dataclass
class FakeGranian:
    """Granian's side of a streamed response: an unbounded queue, written as it goes."""

    sock: socket.socket
    chunks: queue.SimpleQueue[bytes | None] = field(default_factory=queue.SimpleQueue)
    queued: int = 0  # handed over and not yet written to the socket
    lock: threading.Lock = field(default_factory=threading.Lock)

    def put(self, chunk: bytes) -> None:
        with self.lock:
            self.queued += len(chunk)
        self.chunks.put(chunk)

    def run(self) -> None:
        while (chunk := self.chunks.get()) is not None:
            try:
                self.sock.sendall(chunk)
            except OSError:
                return
            with self.lock:
                self.queued -= len(chunk)


@contextmanager
def granian_writing(sock: socket.socket) -> Iterator[FakeGranian]:
    """The stand-in, writing to ``sock`` from its own thread until the block ends."""
    granian = FakeGranian(sock)
    writer = threading.Thread(target=granian.run, daemon=True)
    writer.start()
    try:
        yield granian
    finally:
        with suppress(OSError):  # a client gone already
            sock.shutdown(socket.SHUT_RDWR)  # ends a write the client never reads
        granian.chunks.put(None)
        writer.join()


def pacing_for(client: socket.socket, accepted: socket.socket) -> SendPacing:
    pacing = SendPacing.start(accepted.getsockname(), client.getsockname())
    assert pacing is not None
    return pacing


@pytest.fixture
def connection() -> Iterator[tuple[socket.socket, socket.socket]]:
    with socket.create_server(("127.0.0.1", 0)) as listener, socket.socket() as client:
        client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        client.connect(listener.getsockname())
        accepted, _ = listener.accept()
        with accepted:
            yield client, accepted


async def settled(read: Callable[[], int]) -> int:
    """``read()`` once it has stayed the same for ten looks 50 ms apart."""
    last, same = read(), 0
    while same < 10:
        await anyio.sleep(0.05)
        now = read()
        same = same + 1 if now == last else 0
        last = now
    return last


async def test_a_client_that_stops_reading_leaves_little_queued_then_gets_it_all(
    connection: tuple[socket.socket, socket.socket],
) -> None:
    client, accepted = connection
    pacing = pacing_for(client, accepted)
    body = bytes(range(256)) * (TOTAL // 256)
    handed = 0

    async def send_all() -> None:
        nonlocal handed
        for at in range(0, TOTAL, CHUNK):
            granian.put(body[at : at + CHUNK])
            handed += CHUNK
            assert await pacing.sent(CHUNK)

    with granian_writing(accepted) as granian:
        async with anyio.create_task_group() as group:
            group.start_soon(send_all)
            stalled_at = await settled(lambda: handed)
            assert stalled_at < TOTAL, "the sends wait for a client that reads nothing"
            with granian.lock:
                queued = granian.queued
            assert queued <= HIGH_WATER + CHUNK
            received = bytearray()
            while len(received) < TOTAL:
                received += await anyio.to_thread.run_sync(client.recv, 1 << 20)
    assert bytes(received) == body


async def test_without_pacing_the_same_client_leaves_it_all_queued(
    connection: tuple[socket.socket, socket.socket],
) -> None:
    """The control: the stand-in queues everything when nothing makes the sends wait."""
    _, accepted = connection
    with granian_writing(accepted) as granian:
        for _ in range(0, TOTAL, CHUNK):
            granian.put(b"x" * CHUNK)
        queued = await settled(lambda: granian.queued)
        assert queued > TOTAL // 2


async def test_a_client_gone_while_the_send_waits_ends_the_wait(
    connection: tuple[socket.socket, socket.socket],
) -> None:
    client, accepted = connection
    pacing = pacing_for(client, accepted)
    outcomes: list[bool] = []

    async def send_until_told(granian: FakeGranian) -> None:
        while True:
            granian.put(b"x" * CHUNK)
            if not await pacing.sent(CHUNK):
                outcomes.append(False)
                return

    with granian_writing(accepted) as granian:
        async with anyio.create_task_group() as group:
            group.start_soon(send_until_told, granian)
            await settled(lambda: granian.queued)
            client.close()  # unread data: a reset, and the kernel forgets the connection
    assert outcomes == [False]


def test_no_pacing_where_the_kernel_knows_no_such_connection() -> None:
    assert SendPacing.start(("127.0.0.1", 1), ("127.0.0.1", 2)) is None
    assert SendPacing.start(None, ("127.0.0.1", 2)) is None
    assert SendPacing.start(("127.0.0.1", 1), None) is None
