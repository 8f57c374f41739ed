"""The analytics projection in a process of its own: a backlog is folded away from the loop.

An import into a running server, a burst of scans or a restart behind the log leave the
analytics follower thousands of events to fold, and on the server's loop every redirect
waited behind that work (bench/import.py: the loop's lag p99 about 3 ms during an import,
under 1 ms without the projection). With a projection worker, the follower hands each
slice of a backlog to this process (``AnalyticsFollower.remote``), which reads the same
log, folds with the same projection and commits each batch through the same
``AnalyticsWriter`` transaction, position included; the follower awaits the answer while
the loop serves, and folds small catch-ups itself. So the read models are the same, and
exactly-once holds whoever applies a batch: a worker that dies mid-batch rolled back, one
that committed but died before answering left the stored position where the follower
reloads it, and a stale position is refused (``PositionMoved``).

Measured with bench/projection_worker.py (2026-12-02, a noisy machine): the worker takes
17-26 us a redirect off the server's loop under wrk and spends about as much itself. With a
second core for it, the whole product answered 1.19-1.32x the redirects (two runs, median
and paired ratios); on the server's own core (it inherits a pinning) no gain stood out of
the noise, and redirects waited longer: p99 13.5 ms against 11.6 ms (5 alternating rounds,
higher in each; 2026-12-02 19:5x UTC), the worker's commits holding the
write lock the server's group commits wait for, and its folding taking the server's core
whenever the loop idles. Hence ``SCANLET_PROJECTION_WORKER=auto`` (the default) starts it
only where the server may use two CPUs or more (``scanlet.cpus``); there, in the same
session, 11.5 ms against 12.9 ms.

The worker is a ``FramedChild``: started on first need with the storage settings as its
greeting, each request carrying the retention cutoff as the server's clock sees it, each
answer the position reached and whether more is left. It ends when its stdin closes (the
server stopped, lost the lead, or died), and runs below the server's priority.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import BinaryIO, Literal

import anyio
import msgspec
import structlog
from prometheus_client import CollectorRegistry, Counter

from scanlet.actors.analytics.actor import POSITION_NAME, AnalyticsFollower
from scanlet.actors.analytics.projection import AnalyticsProjection
from scanlet.actors.follower import CATCH_UP
from scanlet.adapters.framed_child import FramedChild, read_frame, write_frame
from scanlet.adapters.geoip import open_countries
from scanlet.adapters.user_agents import describe_agent, prepare_parsers
from scanlet.config import Settings
from scanlet.cpus import usable_cpus
from scanlet.observability.logging import configure_logging
from scanlet.priority import lower_priority
from scanlet.storage.errors import StorageError
from scanlet.storage.opening import open_storage

__all__ = ("ANSWER_SECONDS", "ProjectionWorker", "WorkerConfig", "main", "worker_wanted")

#: Batches of the follower's size (512 events) the worker applies before it answers: the
#: follower then hears of progress (its lag gauge, a stop) every few hundred ms at worst.
WORKER_BATCHES = 2
#: The longest one slice may take: seconds of parsing new agents on a starved core, far
#: below a minute.
ANSWER_SECONDS = 60.0
#: The worker's own connections to PostgreSQL: it runs one transaction at a time.
POOL_SIZE = 2
log = structlog.get_logger("scanlet.analytics")


def worker_wanted(setting: Literal["auto", "on", "off"]) -> bool:
    """Whether a server with ``SCANLET_PROJECTION_WORKER=setting`` runs a projection
    worker: ``auto`` only where it may use two CPUs or more (see above)."""
    if setting != "auto":
        return setting == "on"
    usable = usable_cpus()
    # An operator reading "auto" in the configuration learns here which it became.
    log.info("projection worker", setting=setting, usable_cpus=usable, enabled=usable >= 2)
    return usable >= 2


class WorkerConfig(msgspec.Struct, frozen=True, kw_only=True):
    """What the worker needs of the server's settings (its greeting)."""

    db: str
    postgres_url: str | None
    synchronous: Literal["normal", "full"]
    geoip_db: str | None
    log_format: Literal["console", "json"]
    log_level: Literal["debug", "info", "warning", "error"]

    @classmethod
    def of(cls, settings: Settings) -> WorkerConfig:
        return cls(
            db=str(settings.db),
            postgres_url=settings.postgres_url,
            synchronous=settings.synchronous,
            geoip_db=None if settings.geoip_db is None else str(settings.geoip_db),
            log_format=settings.log_format,
            log_level=settings.log_level,
        )


class CatchUpRequest(msgspec.Struct, array_like=True, frozen=True):
    """Apply one slice; raw scans older than ``cutoff`` are not kept (the retention)."""

    cutoff: str | None


class CatchUpAnswer(msgspec.Struct, array_like=True, frozen=True):
    """The position the slice reached, and whether more is left."""

    #: In decimal: PostgreSQL's log positions take more than msgpack's 64 bits.
    position: str
    more: bool


_config = msgspec.msgpack.Decoder(WorkerConfig)
_request = msgspec.msgpack.Decoder(CatchUpRequest)
_answer = msgspec.msgpack.Decoder(CatchUpAnswer)
_encode = msgspec.msgpack.Encoder().encode


def main() -> None:
    """The worker process: a slice of the log for each request, until stdin closes."""
    # Ctrl-C reaches the whole process group: the server stops, closing our stdin, and that
    # is how the worker ends (without a traceback of its own).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Folding waits for the server, not the server for folding (see scanlet.priority).
    lower_priority()
    # Frames go to the server on the original stdout; everything else printed, logs
    # included, goes to stderr.
    frames = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    greeting = read_frame(sys.stdin.buffer)
    if greeting is None:
        return
    config = _config.decode(greeting)
    configure_logging(config.log_format, config.log_level)
    try:
        anyio.run(_serve, config, frames)
    except StorageError as exc:
        # Its server folds on the loop meanwhile and starts it again later.
        sys.exit(f"projection worker: {exc}")


async def _serve(config: WorkerConfig, frames: BinaryIO) -> None:
    """Answer each request with a slice applied, until stdin closes."""
    prepare_parsers()
    cutoff: str | None = None
    settings = Settings(
        db=Path(config.db),
        postgres_url=config.postgres_url,
        synchronous=config.synchronous,
        pool_size=POOL_SIZE,
    )
    with ExitStack() as stack:
        geoip = None if config.geoip_db is None else Path(config.geoip_db)
        projection = AnalyticsProjection(
            describe_agent, open_countries(geoip, stack), lambda: cutoff
        )
        async with open_storage(settings, create=False) as storage:
            follower = AnalyticsFollower(
                storage.events, storage.positions, storage.analytics, projection
            )
            follower.batches_per_message = WORKER_BATCHES
            follower.position = await storage.positions.load(POSITION_NAME)
            while (request := await _next_request()) is not None:
                cutoff = _request.decode(request).cutoff
                position = await follower.on_message(CATCH_UP)
                write_frame(frames, _encode(CatchUpAnswer(str(position), follower.more)))


async def _next_request() -> bytes | None:
    # In a thread: a PostgreSQL pool's own tasks keep running while the worker waits.
    return await anyio.to_thread.run_sync(read_frame, sys.stdin.buffer)


def _counters(registry: CollectorRegistry | None) -> tuple[Counter, Counter]:
    slices = Counter(
        "scanlet_projection_worker_slices",
        "Slices of the event log the projection worker applied for the analytics follower.",
        registry=registry,
    )
    failures = Counter(
        "scanlet_projection_worker_failures",
        "Times the projection worker failed to answer (the follower folded on the loop).",
        registry=registry,
    )
    return slices, failures


class ProjectionWorker:
    """The server's side: ``catch_up`` is the follower's ``remote``; started on first need,
    restarted after a pause when it failed."""

    def __init__(
        self,
        settings: Settings,
        cutoff: Callable[[], str | None],
        *,
        registry: CollectorRegistry | None = None,
        command: Sequence[str] | None = None,
        answer_seconds: float = ANSWER_SECONDS,
    ) -> None:
        self._cutoff = cutoff
        self._slices, failures = _counters(registry)
        self._child = FramedChild(
            command or [sys.executable, "-m", __name__],
            name="projection worker",
            failures=failures,
            answer_seconds=answer_seconds,
            greeting=WorkerConfig.of(settings),
        )

    @property
    def pid(self) -> int | None:
        """The running worker's process id (None: none runs)."""
        return self._child.pid

    async def catch_up(self) -> tuple[int, bool] | None:
        """One slice applied by the worker: its position and whether more is left (None:
        the worker could not; the caller folds)."""
        answer = await self._child.ask(CatchUpRequest(self._cutoff()), _answer.decode)
        if answer is None:
            return None
        self._slices.inc()
        return int(answer.position), answer.more

    async def stop(self) -> None:
        """Stop the running worker (the next ``catch_up`` starts another)."""
        await self._child.stop()

    async def aclose(self) -> None:
        """Stop the worker; every later ``catch_up`` is None."""
        await self._child.aclose()


if __name__ == "__main__":
    main()
