"""One instance among several on a shared database: leader-only duties, and hearing the others.

``lead`` runs a feature's log followers (and what goes with them: retention, webhook
deliveries) only while this instance leads, under a supervisor of their own that is
stopped when the lead is lost; on SQLite the only instance leads from the start, so the
same code runs everywhere. ``hear_others`` turns the change feed's notices into this
instance's own signals: a doorbell ring for the followers and live streams when another
instance appended to the log, and a reload of the codes another instance changed.
``ClusterCollector`` reports the lead and the connection pool on ``/metrics``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Iterator, Sequence

import anyio
import structlog
from anyio.abc import TaskGroup, TaskStatus
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from scanlet.actors.events import CODE_EVENT_TYPES, DOMAIN_EVENT_TYPES, LogAppended
from scanlet.runtime import ActorStopped, EventBus, SupervisorRef, SupervisorSpec
from scanlet.storage.errors import StorageError
from scanlet.storage.ports import ChangeFeed, EventLogReader, Leadership, Storage

__all__ = (
    "ClusterCollector",
    "LeaderDuty",
    "hear_others",
    "lead",
    "resync_codes",
    "resync_interval",
)

log = structlog.get_logger("scanlet.cluster")

#: Starts a duty's actors under the given supervisor and its tasks in the given group.
LeaderDuty = Callable[[SupervisorRef, TaskGroup], Awaitable[None]]

#: A duty's supervisor restarts nothing itself: a failure goes straight up to the feature's
#: supervisor, which restarts the duty as a unit with its own intensity (and gives up, and
#: is retried, as a feature does).
DUTY_SUPERVISOR = SupervisorSpec(max_restarts=0)


async def lead(
    leadership: Leadership,
    parent: SupervisorRef,
    name: str,
    duty: LeaderDuty,
    *,
    task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED,
) -> None:
    """Run ``duty`` under a supervisor ``name`` (below ``parent``) whenever this instance
    leads, and stop it when the lead is lost; until cancelled. Started once the duty runs,
    if this instance leads already, else at once."""
    while True:
        if not leadership.leading:
            task_status.started()
            task_status = anyio.TASK_STATUS_IGNORED
            await leadership.wait_leading()
        try:
            supervisor = await parent.spawn_supervisor(name, DUTY_SUPERVISOR)
        except ActorStopped:
            return  # shutting down
        try:
            async with anyio.create_task_group() as tasks:
                await duty(supervisor, tasks)
                task_status.started()
                task_status = anyio.TASK_STATUS_IGNORED
                await leadership.wait_lost()
                tasks.cancel_scope.cancel()
        finally:
            with anyio.CancelScope(shield=True), contextlib.suppress(ActorStopped):
                await supervisor.stop()
        log.info("leader duty stopped", duty=name)


async def hear_others(
    feed: ChangeFeed,
    bus: EventBus,
    codes_changed: Callable[[Sequence[str]], None],
    *,
    task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED,
) -> None:
    """Follow the other instances until cancelled: their log appends ring this instance's
    doorbell (its followers and live streams read the log), their code changes go to
    ``codes_changed`` (an empty list: reload every code)."""

    def log_appended() -> None:
        bus.publish_nowait(LogAppended(0))

    await feed.run(codes_changed, log_appended, task_status=task_status)


#: Seconds between reads of the log's code events, in case a notice went unheard.
RESYNC_INTERVAL = 5.0
#: The same on SQLite, where nothing sends notices: the resync is how a server learns of a
#: code changed from the command line, so it looks often. Each look is one probe of the code
#: events' partial index (SQLite migration 0011), microseconds however busy the log is.
SOLE_RESYNC_INTERVAL = 0.5


def resync_interval(*, shared: bool) -> float:
    """How often to look for code events: rarely where notices come (a shared database),
    twice a second where the resync is the only way to hear of a change."""
    return RESYNC_INTERVAL if shared else SOLE_RESYNC_INTERVAL


async def resync_codes(
    log_reader: EventLogReader,
    start: int,
    codes_changed: Callable[[Sequence[str]], None],
    *,
    interval: float = RESYNC_INTERVAL,
) -> None:
    """Every ``interval`` seconds until cancelled, hand ``codes_changed`` the codes whose
    events were committed since the last look (from ``start``, a log position taken before
    the codes were loaded): a notice that went unheard (or, on SQLite, a change from another
    process) waits this long at most. The code events and the domain events have a partial
    index each on both backends, so a look costs two index probes however many scans lie
    between. A domain's events name it by its key ``host/`` (``scanlet.actors.codes.keys``),
    which ``codes_changed`` reloads as a domain."""
    positions = dict.fromkeys((CODE_EVENT_TYPES, DOMAIN_EVENT_TYPES), start)
    while True:
        await anyio.sleep(interval)
        for types, position in positions.items():
            try:
                events = await log_reader.read_after(position, 1000, types=types)
            except StorageError as exc:
                log.warning("code resync failed", error=str(exc))
                continue
            if events:
                codes_changed([e.slug for e in events if e.slug is not None])
                positions[types] = events[-1].position


class ClusterCollector(Collector):
    """``scanlet_leader`` (1 while this instance leads the followers), the count of times it
    took the lead, the database connections (``open``, ``idle``, ``max``), and the database's
    own counts: statements sent (PostgreSQL), writes held back for the WAL (SQLite)."""

    def __init__(self, leadership: Leadership, storage: Storage) -> None:
        self._leadership = leadership
        self._storage = storage

    def collect(self) -> Iterator[Metric]:
        """The current values."""
        leader = GaugeMetricFamily(
            "scanlet_leader",
            "1 while this instance leads the log followers (analytics, webhooks, retention).",
            labels=["instance"],
        )
        leader.add_metric([self._leadership.instance], 1.0 if self._leadership.leading else 0.0)
        yield leader
        terms = GaugeMetricFamily(
            "scanlet_leader_terms",
            "Times this instance has taken the lead since it started.",
        )
        terms.add_metric([], float(self._leadership.terms))
        yield terms
        pool = GaugeMetricFamily(
            "scanlet_db_connections",
            "Database connections of this instance's pool: open, idle, and the most allowed.",
            labels=["state"],
        )
        for state, count in self._storage.pool_state().items():
            pool.add_metric([state], float(count))
        yield pool
        holds = self._storage.write_holds()
        if holds is not None:
            count, seconds = holds
            yield CounterMetricFamily(
                "scanlet_db_write_holds",
                "Checkpoints that held this instance's writes back to let the WAL start over.",
                value=float(count),
            )
            yield CounterMetricFamily(
                "scanlet_db_write_hold_seconds",
                "Seconds in all that checkpoints held writes back (every scan commit waits).",
                value=seconds,
            )
        statements = self._storage.statements_run()
        if statements is not None:
            yield CounterMetricFamily(
                "scanlet_db_statements",
                "Statements this instance sent to the database server.",
                value=float(statements),
            )
