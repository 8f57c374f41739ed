"""Caps on open event streams (the API's and the dashboard's), in total and per key.

An open stream is a connection held for as long as the client likes. Without a cap, one read
key (or one signed-in browser) could open streams until the server had nothing left for the
scan path. Over either cap a new stream is refused with 429 and ``Retry-After``; the streams
already open are not touched.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge

from scanlet.http.problems import Problem

__all__ = ("StreamLimits", "StreamSlot")

#: Seconds a refused client is told to wait before opening a stream again.
RETRY_AFTER = 10


class StreamSlot:
    """One open stream's place under the caps; ``release`` it when the stream ends."""

    __slots__ = ("_limits", "_owner")

    def __init__(self, limits: StreamLimits, owner: str) -> None:
        self._limits: StreamLimits | None = limits
        self._owner = owner

    def release(self) -> None:
        """Give the place back (idempotent)."""
        limits, self._limits = self._limits, None
        if limits is not None:
            limits._release(self._owner)


class StreamLimits:
    """Counts open streams per owner (an API key's id) and in all."""

    def __init__(self, total: int, per_key: int, registry: CollectorRegistry | None) -> None:
        self.total = total
        self.per_key = per_key
        self._open: dict[str, int] = {}
        self._count = 0
        self._gauge = Gauge(
            "scanlet_streams_open", "Event streams open now (API and dashboard).", registry=registry
        )
        self._refused = Counter(
            "scanlet_streams_refused",
            "Event streams refused with 429, by the cap they hit.",
            ["cap"],
            registry=registry,
        )

    @property
    def open(self) -> int:
        """Streams open now."""
        return self._count

    def acquire(self, owner: str) -> StreamSlot:
        """A place for a new stream of ``owner``; a 429 problem when a cap is reached."""
        if self._count >= self.total:
            self._refused.labels("total").inc()
            raise self._full(f"The server has {self.total} event streams open, its limit.")
        held = self._open.get(owner, 0)
        if held >= self.per_key:
            self._refused.labels("per_key").inc()
            raise self._full(f"This key has {self.per_key} event streams open, its limit.")
        self._open[owner] = held + 1
        self._count += 1
        self._gauge.set(self._count)
        return StreamSlot(self, owner)

    def _release(self, owner: str) -> None:
        held = self._open.get(owner, 0) - 1
        if held > 0:
            self._open[owner] = held
        else:
            self._open.pop(owner, None)
        self._count -= 1
        self._gauge.set(self._count)

    @staticmethod
    def _full(detail: str) -> Problem:
        return Problem(
            429,
            f"{detail} Close one, or try again later.",
            headers={"Retry-After": str(RETRY_AFTER)},
        )
