"""The analytics actor: follows the event log into the rollups and the raw-scan table.

Each batch of events and the new position commit in one transaction (``LogFollower``), so
the read models see every scan exactly once, resume after a crash and catch up on start. The
bus doorbell wakes it as soon as scans are committed, so stats reflect a scan within
milliseconds under normal load; ``scanlet_projection_lag_events`` says how far behind it is.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence

import anyio.lowlevel
import structlog
from prometheus_client import CollectorRegistry, Gauge, Histogram

from scanlet.actors.analytics.facts import AgentPrefetch
from scanlet.actors.analytics.projection import (
    FOLDED_TYPES,
    AnalyticsProjection,
    decode_scans,
    scan_agents,
)
from scanlet.actors.follower import CATCH_UP, CatchUp, LogFollower
from scanlet.observability.histogram import TRANSACTION_BUCKETS
from scanlet.runtime import StopReason
from scanlet.storage.errors import StorageUnavailable
from scanlet.storage.ports import (
    AnalyticsWriter,
    EventLogReader,
    FollowerPositions,
)
from scanlet.storage.records import ScanFact, StoredEvent
from scanlet.storage.rollups import ends_by_rows

__all__ = (
    "POSITION_NAME",
    "REMOTE_MIN_EVENTS",
    "ROWS_PER_APPLY",
    "AnalyticsFollower",
    "RemoteCatchUp",
    "apply_histogram",
    "lag_gauge",
    "rebuild",
)

log = structlog.get_logger("scanlet.analytics")

POSITION_NAME = "analytics"
#: The longest the fold of a batch runs on the loop before letting requests in, give or
#: take one scan whose agent or hour was not cached (the fold looks at the clock only after
#: those: a cached scan costs well under a microsecond, a new agent 0.35 ms to parse). With
#: new agents parsed by the agent worker the slice can be short: during bench/import.py the
#: server's loop lag p99 was about 3.3 ms at 1 ms against 3.6 at 5 (five alternating
#: pairs, one the other way round), while the whole product's redirect rate under wrk
#: stayed 0.54 of bare either way.
FOLD_SLICE_SECONDS = 0.001
#: Events past the position from which a catch-up is handed to the projection worker, when
#: there is one. Fewer (31 scans at most) are folded here, so a quiet server never starts
#: the worker, and a busy one or an import hands it nearly everything. At 256 (a
#: batch) a busy server, rung every 10 ms, caught up about 230 scans at a time and handed
#: the worker little: bench/projection_worker.py --worker-core load gave on/off 1.003 and
#: 1.044 in redirects/s, the server's CPU a redirect 0.992 and 0.954. At 32, three runs:
#: 1.209, 1.114, 1.065 (paired 1.127, 1.141, 1.269), the server's CPU 0.818, 0.896, 0.906.
REMOTE_MIN_EVENTS = 32

#: Rollup rows (hourly, daily, breakdowns) one apply transaction touches, about, at most.
#: Live scans share their hour, so a batch of them stays under it; imported visits spread
#: over months touch rows of their own, and a batch of 256 of them held the write lock (and,
#: inline, the loop) for 12-14 ms. Cut at 500 rows, its longest part took 0.16 of that and
#: all its parts 1.21-1.27 times as long (bench/apply_parts.py); at 1000 rows, 0.25 and 1.12.
ROWS_PER_APPLY = 500

#: One part of a batch: its rollup facts and the position it ends at.
_Part = tuple[list[ScanFact], int]

#: Applies one slice of the log in another process (the projection worker, through the
#: same ``AnalyticsWriter`` transactions) and answers the position it reached and whether
#: more is left; None when it could not (then the follower folds here).
RemoteCatchUp = Callable[[], Awaitable[tuple[int, bool] | None]]


def lag_gauge(registry: CollectorRegistry | None) -> Gauge:
    """The ``scanlet_projection_lag_events`` gauge (one per process)."""
    return Gauge(
        "scanlet_projection_lag_events",
        "Events committed to the log that a read model has not applied yet.",
        ["projection"],
        registry=registry,
    )


def apply_histogram(registry: CollectorRegistry | None) -> Histogram:
    """The ``scanlet_projection_apply_seconds`` histogram (one per process): how long each
    batch's transaction took, waits for the write lock included. With SQLite the scans'
    group commits wait behind it, and on the event loop (``synchronous=normal``) so does
    every request."""
    return Histogram(
        "scanlet_projection_apply_seconds",
        "Time to store one batch of a read model with its position (lock waits included).",
        ["projection"],
        buckets=TRANSACTION_BUCKETS,
        registry=registry,
    )


class AnalyticsFollower(LogFollower):
    """Applies scan events to the analytics read models, in batches, exactly once."""

    position_name = POSITION_NAME
    # The rollups fold recorded scans; the writer copies every scan's raw row from the log.
    types = FOLDED_TYPES
    # More than a catch-up gathers at saturation (10 ms of redirects, CATCH_UP_DEBOUNCE: 360
    # at the bare app's 36k a second here), so that one is one transaction: at 256, a
    # saturated server's catch-ups of about 270 scans each paid a second apply's fixed cost
    # for the few past 256 (bench/catch_up.py --scans 270: 31.7k against 25.5k instructions a
    # scan). A batch of live scans applies in about 0.7 ms; the fold is sliced by time and
    # the apply cut into parts by rollup rows (``rows_per_apply``), whatever the batch size.
    batch_size = 512
    #: Rollup rows one transaction may touch (None: a batch is one transaction, whatever
    #: it touches, as in a rebuild, which nothing waits for).
    rows_per_apply: int | None = ROWS_PER_APPLY

    def __init__(
        self,
        log: EventLogReader,
        positions: FollowerPositions,
        writer: AnalyticsWriter,
        projection: AnalyticsProjection,
        lag: Gauge | None = None,
        prefetch: AgentPrefetch | None = None,
        remote: RemoteCatchUp | None = None,
        apply_seconds: Histogram | None = None,
    ) -> None:
        super().__init__(log, positions)
        self.writer = writer
        self.projection = projection
        self.prefetch = prefetch
        self.remote = remote
        self._lag = lag.labels(POSITION_NAME) if lag is not None else None
        self._apply = apply_seconds.labels(POSITION_NAME) if apply_seconds is not None else None

    async def commit(self, events: list[StoredEvent], last: int) -> None:
        """Fold the batch into rollup facts; the writer stores them, and copies the raw
        scans of the log's stretch they came from, with the position, unless somebody else
        moved it (``PositionMoved``).

        A batch whose rollups touch more than ``rows_per_apply`` rows is stored in several
        transactions, each moving the position to its last event, with waiting requests
        let in between them. Exactly once still holds: a failure between two leaves the
        position where the next catch-up starts."""
        parts = await self._fold(events, last)
        raw_cutoff = self.projection.raw_cutoff()
        for number, (facts, position) in enumerate(parts):
            if number:
                await anyio.lowlevel.checkpoint()
            started = time.perf_counter()
            await self.writer.apply(POSITION_NAME, self.position, position, facts, raw_cutoff)
            if self._apply is not None:
                self._apply.observe(time.perf_counter() - started)
            self.position = position

    async def _fold(self, events: Sequence[StoredEvent], last: int) -> list[_Part]:
        """``projection.fold`` of ``events`` in slices of at most ``FOLD_SLICE_SECONDS``,
        letting waiting requests (redirects) in between, cut into parts of about
        ``rows_per_apply`` rollup rows at most (the last part ends at ``last``).

        An import brings thousands of agents never seen (about 0.35 ms each, a parse), and a
        256-scan batch of them held the loop for 100-390 ms unsliced: a server's redirect
        p99 rose from 12 ms to 0.8-1.5 s while an import ran into it (measured here, loaded
        machine). The fold makes one fact per scan, so slices just add up. With
        ``prefetch`` (the agent worker process), the agents never seen are parsed away from
        the loop first, and the slices find them described. Live scans' agents are cached,
        and a batch of them folds in one slice: folded in steps of 8 scans between looks at
        the clock, as before, the steps cost more than the fold.
        """
        scans = decode_scans(events)
        if self.prefetch is not None:
            await self.prefetch(scan_agents(scans))
        facts: list[ScanFact] = []
        while len(facts) < len(scans):
            if facts:
                await anyio.lowlevel.checkpoint()
            until = time.perf_counter() + FOLD_SLICE_SECONDS
            facts += self.projection.fold_decoded(scans[len(facts) :], until)
        if self.rows_per_apply is None:
            return [(facts, last)]
        parts: list[_Part] = []
        start = 0
        for end in ends_by_rows(facts, self.rows_per_apply):
            position = last if end == len(facts) else scans[end - 1][0].position
            parts.append((facts[start:end], position))
            start = end
        return parts

    async def on_stop(self, reason: StopReason) -> None:
        """The last catch-up of a shutdown folds here: the worker is being stopped too."""
        self.remote = None
        await super().on_stop(reason)

    async def on_message(self, message: CatchUp) -> int:
        """Catch up (a backlog through ``remote``, when there is one), then publish the lag."""
        position = await self._remote_slice()
        if position is None:
            position = await super().on_message(message)
        if self._lag is not None:
            self._lag.set(await self.log_reader.lag(position))
        return position

    async def _remote_slice(self) -> int | None:
        """Have ``remote`` apply the next slice if at least ``REMOTE_MIN_EVENTS`` wait; the
        new position, or None to fold here.

        This actor asks one slice at a time and never folds while one is asked, and each of
        the worker's batches commits with its position (``PositionMoved`` when the position
        was not where it expected): so every event is applied exactly once, whichever
        side applies it and whenever either of them dies."""
        if self.remote is None:
            return None
        try:
            if await self.log_reader.lag(self.position) < REMOTE_MIN_EVENTS:
                return None
        except StorageUnavailable:
            return None  # the fold here meets the same outage, and waits it out
        self.more = False
        answer = await self.remote()
        if answer is None:
            # It may have committed batches before it failed: go on from where they left it.
            self.position = await self.positions.load(self.position_name)
            return None
        self.position, more = answer
        if more:
            self.more_to_apply()
        return self.position


async def rebuild(
    log: EventLogReader,
    positions: FollowerPositions,
    writer: AnalyticsWriter,
    projection: AnalyticsProjection,
    *,
    remaining: Callable[[int], None] | None = None,
) -> int:
    """Drop every analytics read model and apply the whole log again; returns the position.

    The reset commits first, then the log is applied in batches, each committed with its
    position: an interrupted rebuild resumes where it stopped on the next start. With
    ``remaining``, it is told how many events lie ahead, at the start and after each slice
    (two index probes each time), for a progress bar.
    """
    await writer.reset(POSITION_NAME)
    follower = AnalyticsFollower(log, positions, writer, projection)
    follower.rows_per_apply = None
    follower.position = 0
    if remaining is not None:
        remaining(await log.lag(0))
    position = await follower.on_message(CATCH_UP)
    while True:
        if remaining is not None:
            remaining(0 if not follower.more else await log.lag(position))
        if not follower.more:  # one slice per message: loop to the end of the log
            return position
        position = await follower.on_message(CATCH_UP)
