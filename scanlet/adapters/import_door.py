"""The import door: a server running on a SQLite database takes an import's visits into its
own group commits, so that no second process holds the one write lock its scans need.

An import beside a server used to commit from its own process: each of its commits held
SQLite's write lock (up to 2 ms, paced), the server's group commits and its analytics
follower waited for it, and the server's redirect p99 rose from about 1 ms to 2-5 ms. Sent
through the door, the visits reach the server's scans context like any other message: they
are appended between the server's own scans, a few at a time (``SLICE`` visits to a
commit), and nothing waits for a lock held elsewhere.

The door is a Unix socket in Linux's abstract namespace, named after the database's real
path (a path of the file system would be bound by its 108-byte limit, and leave a file
behind after ``kill -9``). An abstract socket has no file permissions, so the server
admits only a peer of its own user id (``SO_PEERCRED``): the one who may write the
database anyway; the import, likewise, talks only to a server of its own user (another
user may bind the name first: then there is no door for this database, and the import
commits itself). Elsewhere than on Linux there is no door, and imports commit themselves.

A request is a frame (a 4-byte big-endian length, then msgpack) holding at most
``MAX_VISITS`` visits; the answer says per visit whether it was new, or why the request
was refused. The server checks every visit with the same rule the import engine applies
(``imported_visit_error``): the door is an entrance like any other.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import socket
import struct
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from pathlib import Path

import anyio
import anyio.abc
import msgspec
import structlog
from anyio.streams.buffered import BufferedByteReceiveStream
from prometheus_client import CollectorRegistry, Counter

from scanlet.actors.scans.limits import canonical_id, imported_visit_error
from scanlet.actors.scans.messages import ImportedScan
from scanlet.adapters.framed_child import FRAME_FAILURES, frame, receive_frame

__all__ = (
    "MAX_FRAME",
    "MAX_VISITS",
    "SLICE",
    "DoorClient",
    "DoorClosed",
    "DoorMetrics",
    "door_address",
    "serve_door",
)

log = structlog.get_logger("scanlet.import_door")

#: Visits a request may hold, and the bytes its frame may take.
MAX_VISITS = 1000
MAX_FRAME = 8 * 1024 * 1024
#: Visits the server puts into one group commit. bench/import.py (30k visits from a fake
#: Shlink, the scan path alone): the server's scan commit p99 ~0.67 and ~0.86 ms at 4,
#: ~1.09 and ~0.92 ms at 16, ~0.50 ms with the import committing itself; the import took
#: 936-964 visits/s through the door either way (its own process is the bound).
SLICE = 4
#: While visitors are being served (``busy``), the door rests after each slice for this
#: many times as long as the slice took, leaving the server's loop and writer to them
#: at least three quarters of the time. bench/import.py (30k visits from a fake Shlink,
#: clients scanning throughout): server redirect p99 ~2.39, ~2.35, ~3.29 ms at 3 and
#: ~2.42, ~2.36 at 8, against ~3.43 and ~3.69 ms with no rest; the import 865-985
#: visits/s at 3, ~485 at 8 and ~1,720 with no rest.
BUSY_REST = 3.0
#: How recently a live scan must have been recorded for the server to count as busy.
BUSY_SECONDS = 1.0
#: Connections served at once: an import opens one.
MAX_CONNECTIONS = 8
#: Seconds between tries to bind the door while another server (one being replaced) holds it.
BIND_RETRY = 0.5
#: How the door rests (a test may count the rests instead).
_rest = anyio.sleep
_PEERCRED = struct.Struct("3i")


class _Request(msgspec.Struct, frozen=True):
    visits: list[ImportedScan]


class _Reply(msgspec.Struct, frozen=True):
    #: Per visit, in order, whether it was new: every visit's, or with ``error`` those of
    #: the slices stored before the server could store no more (it is stopping).
    fresh: list[bool] | None = None
    error: str | None = None


_encode = msgspec.msgpack.Encoder().encode
_request_decoder = msgspec.msgpack.Decoder(_Request)
_reply_decoder = msgspec.msgpack.Decoder(_Reply)


class DoorClosed(Exception):
    """The server's door went away (it stopped, or refused a request): commit elsewhere
    what it did not answer. ``answered`` says for the request's first visits whether each
    was new: the server stored those before it stopped."""

    def __init__(self, message: str, answered: Sequence[bool] = ()) -> None:
        super().__init__(message)
        self.answered = list(answered)


class DoorMetrics:
    """What came through the door."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.visits = Counter(
            "scanlet_import_door_visits",
            "Imported visits a running server took through its import door",
            registry=registry,
        )
        self.refused = Counter(
            "scanlet_import_door_refused_requests",
            "Requests to the import door refused (a stranger, a bad frame, a visit the "
            "rules refuse, or the scans context unavailable)",
            registry=registry,
        )


def door_address(db: Path) -> str | None:
    """The abstract socket name of ``db``'s door, or None where there is no door."""
    if not sys.platform.startswith("linux"):
        return None
    digest = hashlib.sha256(os.fsencode(db.resolve())).hexdigest()[:32]
    return f"\0scanlet-import-{digest}"


async def serve_door(
    address: str,
    store: Callable[[Sequence[ImportedScan]], Awaitable[list[bool]]],
    now: Callable[[], datetime],
    metrics: DoorMetrics,
    busy: Callable[[], bool] = lambda: False,
    *,
    task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED,
) -> None:
    """Serve the door at ``address`` until cancelled, storing visits with ``store``, and
    resting between slices while ``busy()`` says visitors are being served.

    Started at once; the door opens when the address is free (a server being replaced
    still holds it until it stops)."""
    task_status.started()
    listener = await _bind(address)
    limit = anyio.Semaphore(MAX_CONNECTIONS)

    async def serve(stream: anyio.abc.SocketStream) -> None:
        async with stream:
            if limit.value == 0 or not _own_user(stream):
                metrics.refused.inc()
                return
            async with limit:
                try:
                    await _serve_one(stream, store, now, metrics, busy)
                except Exception:
                    # An entrance: whatever a connection brings ends that connection only,
                    # never the task group the server's lifespan runs in.
                    log.exception("import door connection failed")
                    metrics.refused.inc()

    async with listener:
        log.info("import door open")
        await listener.serve(serve)


async def _bind(address: str) -> anyio.abc.SocketListener:
    said = False
    while True:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.bind(address)
        except OSError as exc:
            sock.close()
            if not said:
                log.info("import door taken; trying again until it is free", error=str(exc))
                said = True
            await anyio.sleep(BIND_RETRY)
            continue
        sock.listen(MAX_CONNECTIONS)
        return await anyio.abc.SocketListener.from_socket(sock)


def _own_user(stream: anyio.abc.SocketStream) -> bool:
    return _peer_is_own_user(stream.extra(anyio.abc.SocketAttribute.raw_socket))


def _peer_is_own_user(sock: socket.socket) -> bool:
    """Whether the process at the other end runs as this one's user."""
    _pid, uid, _gid = _PEERCRED.unpack(
        sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _PEERCRED.size)
    )
    return bool(uid == os.getuid())


async def _serve_one(
    stream: anyio.abc.SocketStream,
    store: Callable[[Sequence[ImportedScan]], Awaitable[list[bool]]],
    now: Callable[[], datetime],
    metrics: DoorMetrics,
    busy: Callable[[], bool],
) -> None:
    """Answer one connection's requests in turn; a refused request ends it."""
    receive = BufferedByteReceiveStream(stream)
    while True:
        try:
            request = _request_decoder.decode(await receive_frame(receive, MAX_FRAME))
        except (anyio.EndOfStream, anyio.IncompleteRead, anyio.BrokenResourceError):
            return
        except (ValueError, msgspec.DecodeError) as exc:
            await _refuse(stream, metrics, f"bad request: {exc}")
            return
        problem = _problem(request.visits, now())
        if problem is not None:
            await _refuse(stream, metrics, problem)
            return
        fresh: list[bool] = []
        try:
            for start in range(0, len(request.visits), SLICE):
                began = time.perf_counter()
                fresh.extend(await store(request.visits[start : start + SLICE]))
                if busy():
                    await _rest(BUSY_REST * (time.perf_counter() - began))
        except Exception as exc:  # the scans context unavailable, stopping or failing
            log.warning("import door request failed", error=repr(exc), stored=len(fresh))
            metrics.visits.inc(len(fresh))
            await _refuse(stream, metrics, f"not stored: {exc!r}", stored=fresh)
            return
        metrics.visits.inc(len(fresh))
        try:
            await stream.send(frame(_encode(_Reply(fresh=fresh))))
        except (anyio.BrokenResourceError, anyio.ClosedResourceError):
            return


def _problem(visits: Sequence[ImportedScan], now: datetime) -> str | None:
    if len(visits) > MAX_VISITS:
        return f"at most {MAX_VISITS} visits a request"
    for visit in visits:
        problem = imported_visit_error(visit, now)
        if problem is None and canonical_id(visit.id) != visit.id:
            problem = "id must be a UUID in its canonical form"
        if problem is not None:
            return f"visit {visit.id[:64]!r}: {problem}"
    return None


async def _refuse(
    stream: anyio.abc.SocketStream,
    metrics: DoorMetrics,
    why: str,
    stored: list[bool] | None = None,
) -> None:
    """Answer ``why`` the request (the rest of it, past what was ``stored``) was refused."""
    metrics.refused.inc()
    log.warning("import door refused a request", reason=why)
    with contextlib.suppress(anyio.BrokenResourceError, anyio.ClosedResourceError):
        await stream.send(frame(_encode(_Reply(fresh=stored, error=why))))


class DoorClient:
    """The import's side: one request at a time over one connection."""

    def __init__(self, stream: anyio.abc.SocketStream) -> None:
        self._stream = stream
        self._receive = BufferedByteReceiveStream(stream)

    @classmethod
    async def open(cls, db: Path) -> DoorClient | None:
        """A connection to the door of the server running on ``db``; None if none is open."""
        address = door_address(db)
        if address is None:
            return None
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        # A local socket connects at once, or (its backlog full: EAGAIN) not at all; never
        # wait here.
        sock.setblocking(False)
        try:
            sock.connect(address)
        except OSError:
            sock.close()
            return None
        if not _peer_is_own_user(sock):
            # Anyone may bind an abstract name first: visits (addresses among them) go
            # only to a server of this user, and answers come only from one.
            log.warning("import door held by another user; committing here")
            sock.close()
            return None
        return cls(await anyio.abc.SocketStream.from_socket(sock))

    async def store(self, visits: Sequence[ImportedScan]) -> list[bool]:
        """Per visit whether it was new; ``DoorClosed`` if the server did not store them
        all, with what it answered for the first ones. Without an answer, it may have
        stored some: their ids are claimed, so sending them again elsewhere stores nothing
        twice (they count as already imported)."""
        try:
            await self._stream.send(frame(_encode(_Request(list(visits)))))
            reply = _reply_decoder.decode(await receive_frame(self._receive, MAX_FRAME))
        except FRAME_FAILURES as exc:
            raise DoorClosed(f"the server's import door closed: {exc!r}") from exc
        if reply.error is not None:
            answered = reply.fresh or []
            raise DoorClosed(
                f"the server refused the visits: {reply.error}",
                answered if len(answered) < len(visits) else [],
            )
        if reply.fresh is None or len(reply.fresh) != len(visits):
            raise DoorClosed(f"the server answered {len(reply.fresh or [])} of {len(visits)}")
        return reply.fresh

    async def aclose(self) -> None:
        await self._stream.aclose()

    async def __aenter__(self) -> DoorClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()
