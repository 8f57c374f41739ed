"""The import door on its own: visits in, answers out, in slices; every bad request refused
with a reason and the door still open for the next; strangers not admitted."""

from __future__ import annotations

import os
import socket
import sys
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import anyio
import msgspec
import pytest
from prometheus_client import CollectorRegistry

from scanlet.actors.scans.messages import ImportedScan
from scanlet.adapters import import_door
from scanlet.adapters.framed_child import frame
from scanlet.adapters.import_door import (
    MAX_FRAME,
    MAX_VISITS,
    SLICE,
    DoorClient,
    DoorClosed,
    DoorMetrics,
    door_address,
    serve_door,
)

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a Linux socket"),
]

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


def visit(**fields: object) -> ImportedScan:
    base: dict[str, object] = {
        "id": str(uuid.uuid4()),
        "slug": "menu",
        "occurred_at": NOW - timedelta(days=3),
        "user_agent": "door/1.0",
    }
    return ImportedScan(**{**base, **fields})  # type: ignore[arg-type]


class Store:
    """Records the slices the door hands on; fails while ``failing`` is set, or once it
    has stored ``slices_left`` more slices."""

    def __init__(self) -> None:
        self.slices: list[list[str]] = []
        self.seen: set[str] = set()
        self.failing = False
        self.slices_left: int | None = None

    async def __call__(self, visits: Sequence[ImportedScan]) -> list[bool]:
        if self.slices_left is not None:
            self.failing = self.slices_left == 0
            self.slices_left -= 1
        if self.failing:
            raise RuntimeError("the scans context stopped")
        self.slices.append([v.id for v in visits])
        fresh = [v.id not in self.seen for v in visits]
        self.seen.update(v.id for v in visits)
        return fresh


@asynccontextmanager
async def door(
    db: Path,
    store: Store,
    metrics: DoorMetrics,
    busy: bool = False,
    now: Callable[[], datetime] = lambda: NOW,
) -> AsyncIterator[str]:
    address = door_address(db)
    assert address is not None
    async with anyio.create_task_group() as tasks:
        await tasks.start(serve_door, address, store, now, metrics, lambda: busy)
        # Open once a client gets in (it binds in the background).
        with anyio.fail_after(10):
            while (client := await DoorClient.open(db)) is None:  # noqa: ASYNC110
                await anyio.sleep(0.01)
        await client.aclose()
        yield address
        tasks.cancel_scope.cancel()


async def refused(db: Path, visits: list[ImportedScan], reason: str) -> DoorClosed:
    """A new connection's request of ``visits`` is refused for ``reason``."""
    client = await DoorClient.open(db)
    assert client is not None
    async with client:
        with pytest.raises(DoorClosed, match=reason) as closed:
            await client.store(visits)
    return closed.value


async def stores_one(db: Path) -> None:
    """A new connection's request is stored."""
    client = await DoorClient.open(db)
    assert client is not None
    async with client:
        assert await client.store([visit()]) == [True]


def raw_exchange(address: str, data: bytes) -> bytes:
    """Send ``data`` on a new connection, then read until the door closes it."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(10)
        sock.connect(address)
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def refusal(answer: bytes) -> str:
    assert int.from_bytes(answer[:4], "big") == len(answer) - 4
    reply = msgspec.msgpack.decode(answer[4:])
    assert reply["fresh"] is None
    assert isinstance(reply["error"], str)
    return reply["error"]


async def test_visits_go_in_by_slices_and_each_is_answered(tmp_path: Path) -> None:
    store, metrics = Store(), DoorMetrics(CollectorRegistry())
    async with door(tmp_path / "scanlet.db", store, metrics):
        client = await DoorClient.open(tmp_path / "scanlet.db")
        assert client is not None
        async with client:
            visits = [visit() for _ in range(2 * SLICE + 3)]
            assert await client.store(visits) == [True] * len(visits)
            # Sent again (an interrupted import run once more): each one a duplicate.
            assert await client.store(visits[:5]) == [False] * 5

    def slices(n: int) -> list[int]:
        return [min(SLICE, n - start) for start in range(0, n, SLICE)]

    assert [len(s) for s in store.slices] == slices(len(visits)) + slices(5)
    assert [i for s in store.slices[: len(slices(len(visits)))] for i in s] == [
        v.id for v in visits
    ]
    assert metrics.visits._value.get() == len(visits) + 5


@pytest.mark.parametrize("busy", [False, True])
async def test_while_visitors_are_served_the_door_rests_after_each_slice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, busy: bool
) -> None:
    rests: list[float] = []

    async def rest(seconds: float) -> None:
        rests.append(seconds)

    monkeypatch.setattr(import_door, "_rest", rest)
    store, metrics = Store(), DoorMetrics(CollectorRegistry())
    async with door(tmp_path / "scanlet.db", store, metrics, busy=busy):
        await stores_one(tmp_path / "scanlet.db")
        client = await DoorClient.open(tmp_path / "scanlet.db")
        assert client is not None
        async with client:
            await client.store([visit() for _ in range(3 * SLICE)])
    if busy:
        assert len(rests) == 1 + 3  # after every slice
        assert all(seconds > 0 for seconds in rests)
    else:
        assert rests == []


@pytest.mark.parametrize(
    ("visits", "reason"),
    [
        ([visit(occurred_at=datetime(1, 1, 1, tzinfo=UTC))], "time "),
        ([visit(occurred_at=NOW + timedelta(days=2))], "time is in the future"),
        ([visit(id="not-a-uuid")], "id must be a UUID"),
        ([visit(id=str(uuid.uuid4()).upper())], "canonical form"),
        ([visit(slug="")], "path must be 1 to"),
        ([visit(slug="a\nb")], "path must be 1 to"),
        ([visit(data={"x": "y" * 5000})], "data is larger than"),
        ([visit()] * (MAX_VISITS + 1), f"at most {MAX_VISITS} visits"),
    ],
)
async def test_a_visit_the_rules_refuse_is_refused_with_the_whole_request(
    tmp_path: Path, visits: list[ImportedScan], reason: str
) -> None:
    store, metrics = Store(), DoorMetrics(CollectorRegistry())
    db = tmp_path / "scanlet.db"
    async with door(db, store, metrics):
        await refused(db, [visit(), *visits], reason)
        await stores_one(db)  # the door stays open for the next request
    assert len(store.slices) == 1  # nothing of the refused request was stored
    assert metrics.refused._value.get() == 1


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (frame(b"\xc1 not msgpack"), "bad request"),
        (frame(msgspec.msgpack.encode({"visits": [{"id": 1}]})), "bad request"),
        ((MAX_FRAME + 1).to_bytes(4, "big"), "bad request: a frame of"),
    ],
)
async def test_a_bad_frame_is_refused_and_the_door_serves_on(
    tmp_path: Path, data: bytes, reason: str
) -> None:
    store, metrics = Store(), DoorMetrics(CollectorRegistry())
    db = tmp_path / "scanlet.db"
    async with door(db, store, metrics) as address:
        answer = await anyio.to_thread.run_sync(raw_exchange, address, data)
        assert reason in refusal(answer)
        # A frame cut short: the connection ends without an answer.
        assert await anyio.to_thread.run_sync(raw_exchange, address, b"\x00\x00\x01") == b""
        await stores_one(db)


async def test_a_store_that_fails_is_a_refusal_the_import_can_commit_around(
    tmp_path: Path,
) -> None:
    store, metrics = Store(), DoorMetrics(CollectorRegistry())
    db = tmp_path / "scanlet.db"
    async with door(db, store, metrics):
        store.failing = True
        await refused(db, [visit()], "not stored: RuntimeError")
        store.failing = False
        await stores_one(db)


async def test_a_server_stopping_mid_request_answers_what_it_stored(tmp_path: Path) -> None:
    store, metrics = Store(), DoorMetrics(CollectorRegistry())
    db = tmp_path / "scanlet.db"
    async with door(db, store, metrics):
        known = visit()
        await stores_one(db)  # (a visit of its own)
        store.seen.add(known.id)
        store.slices_left = 2
        visits = [known, *(visit() for _ in range(3 * SLICE))]
        closed = await refused(db, visits, "not stored: RuntimeError")
    # The first two slices were stored, and answered: the import commits only the rest.
    assert closed.answered == [False] + [True] * (2 * SLICE - 1)
    assert [i for s in store.slices[1:] for i in s] == [v.id for v in visits[: 2 * SLICE]]


async def test_no_door_no_client_and_a_closed_door_is_door_closed(tmp_path: Path) -> None:
    db = tmp_path / "scanlet.db"
    assert await DoorClient.open(db) is None
    store = Store()
    async with door(db, store, DoorMetrics(CollectorRegistry())):
        client = await DoorClient.open(db)
        assert client is not None
    async with client:
        with pytest.raises(DoorClosed):
            await client.store([visit()])
    assert await DoorClient.open(db) is None


def test_the_address_is_the_database_file_whatever_the_path(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "a")
    assert door_address(tmp_path / "a" / "x.db") == door_address(tmp_path / "link" / "x.db")
    assert door_address(tmp_path / "a" / "x.db") != door_address(tmp_path / "a" / "y.db")


#: An interpreter another user may run (this one may sit in a directory of root's own).
SYSTEM_PYTHON = "/usr/bin/python3"


@pytest.mark.skipif(
    os.getuid() != 0 or not os.access(SYSTEM_PYTHON, os.X_OK),
    reason="becoming another user takes root, and a system Python",
)
async def test_another_user_is_not_admitted(tmp_path: Path) -> None:
    store, metrics = Store(), DoorMetrics(CollectorRegistry())
    db = tmp_path / "scanlet.db"
    request = frame(msgspec.msgpack.encode({"visits": [msgspec.to_builtins(visit())]}))
    probe = (
        "import socket, sys\n"
        "s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); s.settimeout(10)\n"
        "s.connect(sys.argv[1].encode('latin-1').replace(b'@', b'\\0', 1))\n"
        "try:\n"
        "    s.sendall(bytes.fromhex(sys.argv[2])); s.shutdown(socket.SHUT_WR)\n"
        "    answer = s.recv(65536)\n"
        "except (BrokenPipeError, ConnectionResetError):  # closed on it, as it should\n"
        "    answer = b''\n"
        "sys.stdout.write(answer.hex())\n"
    )
    async with door(db, store, metrics) as address:
        stranger = await anyio.run_process(
            [SYSTEM_PYTHON, "-I", "-c", probe, "@" + address[1:], request.hex()],
            user=65534,
            cwd="/",
            check=False,
        )
        # The same request from this user is stored.
        own = await anyio.to_thread.run_sync(raw_exchange, address, request)
    assert stranger.returncode == 0, stranger.stderr
    assert stranger.stdout == b""  # closed without a word
    assert msgspec.msgpack.decode(own[4:])["fresh"] == [True]
    assert metrics.refused._value.get() == 1
    assert len(store.slices) == 1


@pytest.mark.skipif(
    os.getuid() != 0 or not os.access(SYSTEM_PYTHON, os.X_OK),
    reason="becoming another user takes root, and a system Python",
)
async def test_a_door_another_user_holds_is_no_door(tmp_path: Path) -> None:
    """Another user binds the database's door first: the import does not talk to it."""
    db = tmp_path / "scanlet.db"
    address = door_address(db)
    assert address is not None
    squatter = (
        "import socket, sys, time\n"
        "s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)\n"
        "s.bind(sys.argv[1].encode('latin-1').replace(b'@', b'\\0', 1)); s.listen(8)\n"
        "print('bound', flush=True)\n"
        "time.sleep(30)\n"
    )
    process = await anyio.open_process(
        [SYSTEM_PYTHON, "-I", "-c", squatter, "@" + address[1:]], user=65534, cwd="/"
    )
    async with process:
        try:
            assert process.stdout is not None
            with anyio.fail_after(10):
                assert (await process.stdout.receive()).startswith(b"bound")
            # Someone listens there (a plain connection gets in)...
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
                probe.connect(address)
            # ...but not a server of this user.
            assert await DoorClient.open(db) is None
        finally:
            process.kill()


async def test_a_door_that_accepts_nobody_is_no_door(tmp_path: Path) -> None:
    """A listener whose backlog is full (it never accepts): the import does not wait."""
    db = tmp_path / "scanlet.db"
    address = door_address(db)
    assert address is not None
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener:
        listener.bind(address)
        listener.listen(0)
        waiting = []
        try:
            while True:  # fill the backlog
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                sock.setblocking(False)
                waiting.append(sock)
                sock.connect(address)
        except BlockingIOError:
            pass
        try:
            with anyio.fail_after(5):
                assert await DoorClient.open(db) is None
        finally:
            for sock in waiting:
                sock.close()


async def test_what_escapes_a_connection_ends_that_connection_only(tmp_path: Path) -> None:
    """Whatever escapes a connection's handling (here: the clock failing once) ends that
    connection; the door, and the server's task group around it, go on."""
    db = tmp_path / "scanlet.db"
    failures: list[Exception] = []

    def now() -> datetime:
        if failures:
            raise failures.pop()
        return NOW

    store, metrics = Store(), DoorMetrics(CollectorRegistry())
    async with door(db, store, metrics, now=now):
        await stores_one(db)
        failures.append(RuntimeError("the clock failed"))
        await refused(db, [visit()], "closed")
        await stores_one(db)
    assert metrics.refused._value.get() == 1
