"""A helper process spoken to in frames over its pipes, that the caller can always do without.

The server hands work that would hold its event loop (parsing new user agents, folding a
backlog of scans) to a child process and awaits the answer while the loop serves. The child
is started on first need and ends when its stdin closes: when the server stops or dies,
``kill -9`` included. Whatever goes wrong with it (it cannot start, dies, hangs past
``answer_seconds``, or answers something ``decode`` refuses) it is stopped, the failure is
counted and logged, ``ask`` returns None so that the caller does the work itself, and no
child is started again for a pause that doubles from 1 s up to a minute.

A frame is a 4-byte big-endian length and a msgpack body. The child's side is ``read_frame``
and ``write_frame`` over its binary stdin and stdout.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Callable, Sequence
from typing import BinaryIO, TypeVar

import anyio
import msgspec
import structlog
from anyio.abc import Process
from anyio.streams.buffered import BufferedByteReceiveStream
from prometheus_client import Counter

__all__ = (
    "FRAME_FAILURES",
    "MAX_FRAME",
    "RESTART_PAUSES",
    "FramedChild",
    "frame",
    "read_frame",
    "receive_frame",
    "write_frame",
)

log = structlog.get_logger("scanlet.child")

T = TypeVar("T")
#: Pauses before starting a child again after it failed, doubled up to the last.
RESTART_PAUSES = (1.0, 60.0)
#: The largest frame either side accepts.
MAX_FRAME = 16 * 1024 * 1024
_HEADER = 4
_encode = msgspec.msgpack.Encoder().encode
#: What a peer that died, hung or spoke nonsense raises on the caller's side: OSError
#: covers TimeoutError (no answer in time), and ValueError a refused reply and a request
#: that cannot be encoded (UnicodeEncodeError: a lone surrogate has no UTF-8).
FRAME_FAILURES = (
    OSError,
    ValueError,
    msgspec.DecodeError,
    anyio.EndOfStream,
    anyio.IncompleteRead,
    anyio.BrokenResourceError,
    anyio.ClosedResourceError,
)


def frame(body: bytes) -> bytes:
    """``body`` with its length in front."""
    return len(body).to_bytes(_HEADER, "big") + body


async def receive_frame(stream: BufferedByteReceiveStream, limit: int = MAX_FRAME) -> bytes:
    """The next frame's body from ``stream``; ValueError for one larger than ``limit``
    (the stream then cannot be trusted), anyio's end-of-stream errors when it ends."""
    size = int.from_bytes(await stream.receive_exactly(_HEADER), "big")
    if size > limit:
        raise ValueError(f"a frame of {size} bytes is over {limit}")
    return await stream.receive_exactly(size)


def read_frame(stream: BinaryIO) -> bytes | None:
    """The child's next request (None when its stdin closed: time to end); a frame larger
    than ``MAX_FRAME`` ends the child with a message."""
    header = stream.read(_HEADER)
    if len(header) < _HEADER:
        return None
    size = int.from_bytes(header, "big")
    if size > MAX_FRAME:
        sys.exit(f"{sys.argv[0]}: frame of {size} bytes refused")
    body = stream.read(size)
    return body if len(body) == size else None


def write_frame(stream: BinaryIO, body: bytes) -> None:
    """Answer one request."""
    stream.write(frame(body))
    stream.flush()


class FramedChild:
    """The caller's side: one request at a time, each answered or given up (None)."""

    def __init__(
        self,
        command: Sequence[str],
        *,
        name: str,
        failures: Counter,
        answer_seconds: float,
        greeting: object = None,
    ) -> None:
        self.command = list(command)
        self.name = name
        self.answer_seconds = answer_seconds
        #: Sent to each child as it starts (its configuration), before any request.
        self.greeting = greeting
        self._failures = failures
        self._process: Process | None = None
        self._replies: BufferedByteReceiveStream | None = None
        self._lock = anyio.Lock()
        self._closed = False
        self._next_start = 0.0
        self._pause = RESTART_PAUSES[0]

    @property
    def pid(self) -> int | None:
        """The running child's process id (None: none runs)."""
        return None if self._process is None else self._process.pid

    @property
    def closed(self) -> bool:
        """Whether ``aclose`` was called (every later ``ask`` is None)."""
        return self._closed

    async def ask(self, request: object, decode: Callable[[bytes], T]) -> T | None:
        """The child's answer to ``request`` (sent as msgpack), decoded (``decode`` raises
        ValueError or ``msgspec.DecodeError`` to refuse it); None if there is none to be had:
        closed, pausing after a failure, or failed now (``request`` could not be encoded
        included)."""
        async with self._lock:
            if self._closed or (self._process is None and not await self._start()):
                return None
            answered = False
            try:
                answer = decode(await self._exchange(request))
                answered = True
            except FRAME_FAILURES as exc:
                self._failed(f"{self.name} failed; doing its work here", repr(exc))
                return None
            finally:
                # Failed, or cancelled half-way through a frame: the pipe cannot be trusted.
                if not answered:
                    await self._stop()
            self._pause = RESTART_PAUSES[0]
            return answer

    async def _exchange(self, request: object) -> bytes:
        assert self._process is not None
        assert self._process.stdin is not None
        assert self._replies is not None
        with anyio.fail_after(self.answer_seconds):
            await self._process.stdin.send(frame(_encode(request)))
            return await receive_frame(self._replies)

    async def _start(self) -> bool:
        if anyio.current_time() < self._next_start:
            return False
        try:
            self._process = await anyio.open_process(
                self.command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=None
            )
            assert self._process.stdin is not None
            if self.greeting is not None:
                await self._process.stdin.send(frame(_encode(self.greeting)))
        except (OSError, anyio.BrokenResourceError) as exc:
            self._failed(f"{self.name} did not start", repr(exc))
            await self._stop()
            return False
        assert self._process.stdout is not None
        self._replies = BufferedByteReceiveStream(self._process.stdout)
        log.info(f"{self.name} started", pid=self._process.pid)
        return True

    def _failed(self, what: str, error: str) -> None:
        """Count and log a failure, and start no child for a pause that doubles each time."""
        self._failures.inc()
        log.warning(what, error=error)
        self._next_start = anyio.current_time() + self._pause
        self._pause = min(2 * self._pause, RESTART_PAUSES[1])

    async def _stop(self) -> None:
        process, self._process, self._replies = self._process, None, None
        if process is None:
            return
        with anyio.CancelScope(shield=True):
            # Closing stdin ends it; one that does not end within a second is killed.
            if process.stdin is not None:
                with contextlib.suppress(OSError, anyio.BrokenResourceError):
                    await process.stdin.aclose()
            with anyio.move_on_after(1.0):
                await process.wait()
            if process.returncode is None:
                process.kill()
                await process.wait()
            await process.aclose()

    async def stop(self) -> None:
        """Stop the child, once it has answered the request it is on; the next ``ask``
        starts another."""
        async with self._lock:
            await self._stop()

    async def aclose(self) -> None:
        """Stop the child; every later ``ask`` is None."""
        self._closed = True
        await self.stop()
