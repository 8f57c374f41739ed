"""Sends of a streamed RSGI body that wait for a slow client, as an ASGI server's do.

Granian queues a streamed body without bound and its ``send_bytes`` never waits
(``scanlet.http.tcp_sent`` says why and how the kernel is asked instead). ``SendPacing``
counts what a response has handed granian and, every ``HIGH_WATER`` bytes, compares it with
what the kernel has taken from granian for that connection: while more than ``HIGH_WATER``
waits in granian's queue, the next send waits (until half of it has gone), so a client that
stops reading holds at most about that much of the server's memory. What the app does about
a send that waits is the app's: an event stream ends after ``send_timeout``, an export waits,
as under uvicorn.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from typing import Final

import structlog

from scanlet.http.tcp_sent import ConnectionProbe, SentBytes

__all__ = ("HIGH_WATER", "SendPacing", "connection_of")

log = structlog.get_logger("scanlet.http")

#: Bytes of one response that may wait in granian's queue before its sends wait.
HIGH_WATER: Final = 256 * 1024
#: A waiting send looks again after this long, doubling up to ``_LONGEST_WAIT``: a client
#: that reads costs a few looks a second, one that never does one (measured: 100 exports
#: waiting on such clients, 2.05 % of a core against 1.55 % once they had closed).
_FIRST_WAIT: Final = 0.002
_LONGEST_WAIT: Final = 1.0


class SendPacing:
    """The flow control of one streamed response (see the module)."""

    __slots__ = ("_base", "_check_at", "_connection", "_sent")

    def __init__(self, connection: SentBytes, base: int) -> None:
        self._connection = connection
        self._base = base  # what the connection had been written before this response
        self._sent = 0
        self._check_at: float = HIGH_WATER

    @classmethod
    def start(
        cls, local: tuple[str, int] | None, peer: tuple[str, int] | None
    ) -> SendPacing | None:
        """Pacing for the response about to stream on the connection ``peer`` → ``local``,
        called before its first byte; None where the kernel cannot say (unpaced)."""
        connection = connection_of(local, peer)
        if connection is None:
            return None
        try:
            base = connection.written()
        except OSError:
            return None
        return None if base is None else cls(connection, base)

    @property
    def connection(self) -> SentBytes:
        return self._connection

    async def sent(self, size: int) -> bool:
        """Count ``size`` bytes handed to granian; wait while too many of them are queued.
        False once the kernel has no such connection: the client is gone."""
        self._sent += size
        if self._sent < self._check_at:
            return True
        wait = _FIRST_WAIT
        limit = HIGH_WATER
        while True:
            try:
                written = self._connection.written()
            except OSError as error:
                # Unpaced from here rather than held on a count the kernel cannot give.
                log.warning("streamed body unpaced: socket counts unavailable", error=str(error))
                self._check_at = float("inf")
                return True
            if written is None:
                return False
            queued = max(self._sent - (written - self._base), 0)
            if queued <= limit:
                self._check_at = self._sent + HIGH_WATER - queued
                return True
            limit = HIGH_WATER // 2
            await asyncio.sleep(wait)
            wait = min(wait * 2, _LONGEST_WAIT)


def connection_of(local: tuple[str, int] | None, peer: tuple[str, int] | None) -> SentBytes | None:
    """The TCP connection ``peer`` → ``local`` as the kernel knows it (asked from this
    thread); None where the kernel cannot say or has no such connection."""
    if local is None or peer is None:
        return None
    probe = _probe()
    return None if probe is None else probe.connection(local, peer)


_local = threading.local()


def _probe() -> ConnectionProbe | None:
    """This thread's probe (an event loop's thread asks from its own), opened and checked
    on first use; None for good if this kernel does not answer as expected."""
    try:
        probe: ConnectionProbe | None = _local.probe
    except AttributeError:
        probe = _local.probe = _checked_probe()
    return probe


def _checked_probe() -> ConnectionProbe | None:
    """A probe that has counted a loopback connection's bytes right, else None (logged):
    pacing on wrong counts would hold a response for ever."""
    probe = ConnectionProbe.open()
    if probe is None:
        log.info("streamed bodies unpaced: the kernel's socket diagnostics are unavailable")
        return None
    try:
        with (
            socket.create_server(("127.0.0.1", 0)) as listener,
            socket.create_connection(listener.getsockname()) as client,
        ):
            accepted, _ = listener.accept()
            with accepted:
                accepted.sendall(b"x" * 1000)
                connection = probe.connection(accepted.getsockname(), client.getsockname())
                written = None if connection is None else connection.written()
    except OSError:
        written = None
    if written != 1000:
        log.warning(
            "streamed bodies unpaced: the kernel's socket counts were not as expected",
            written=written,
        )
        probe.close()
        return None
    return probe
