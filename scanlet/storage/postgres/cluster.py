"""What instances sharing one PostgreSQL database tell each other: who leads, what changed.

``PgLeadership``: the log followers (analytics, the webhook outbox and its deliveries,
retention) run in one instance at a time, the one holding a session advisory lock on a
connection of its own. The others try for it every second; when the leader's process
dies, PostgreSQL ends its session and frees the lock, and the next try takes it over. The
leader checks its connection every second and steps down when it breaks (its lock is gone
with the session). TCP keepalives on that connection let PostgreSQL notice a leader whose
host vanished without closing the connection. A follower's batch is committed under its
position's row lock whatever the leadership, so even two leaders for a moment apply each
event once.

``PgChangeFeed``: a connection of its own LISTENs on two channels. ``scanlet_codes`` carries
the slug of each code changed (notified inside the change's transaction); ``scanlet_log``
is rung by each instance after it committed events, at most one notice in flight at a
time, so a burst of group commits costs a handful of notices.
"""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import anyio
import asyncpg
import structlog
from anyio.abc import TaskStatus

from scanlet.storage.errors import StorageError
from scanlet.storage.postgres.codes import CODES_CHANNEL
from scanlet.storage.postgres.database import PgDatabase

if TYPE_CHECKING:
    Session = asyncpg.Connection[asyncpg.Record]
else:  # the stubs' generics do not exist at run time
    Session = asyncpg.Connection

__all__ = ("LOG_CHANNEL", "PgChangeFeed", "PgLeadership", "default_instance_name")

log = structlog.get_logger("scanlet.cluster")

#: Rung (payload: the instance's name) after an instance committed events to the log.
LOG_CHANNEL = "scanlet_log"
#: The session advisory lock whose holder leads the followers.
LEADER_LOCK = 0x5CA17E7_0002
#: Seconds between tries for the lock, and between the leader's checks of its connection.
LEADER_POLL = 1.0
#: The shortest time between two notices on ``scanlet_log`` from one instance.
RING_GAP = 0.005
#: Seconds between reconnection attempts of a lost session connection.
RECONNECT_DELAY = 1.0
# Keepalives on the leader's connection: PostgreSQL notices a vanished leader host after
# about idle + interval * count seconds and frees the lock.
_KEEPALIVE = {
    "tcp_keepalives_idle": "2",
    "tcp_keepalives_interval": "1",
    "tcp_keepalives_count": "2",
}
_CONNECTION_ERRORS = (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, TimeoutError)


def default_instance_name(port: int) -> str:
    """``host:port`` (unique among instances unless two hosts share a name)."""
    return f"{socket.gethostname()}:{port}"


async def _connect(url: str, instance: str, settings: dict[str, str] | None = None) -> Session:
    return await asyncpg.connect(
        url,
        timeout=5.0,
        server_settings={"application_name": f"scanlet {instance}"[:63], **(settings or {})},
    )


class _Once:
    """A task status reported started on the first call only."""

    def __init__(self, status: TaskStatus[None]) -> None:
        self._status: TaskStatus[None] | None = status

    def started(self) -> None:
        if self._status is not None:
            status, self._status = self._status, None
            status.started()


class PgLeadership:
    """Leadership of the followers among the instances on one database."""

    def __init__(self, db: PgDatabase, instance: str) -> None:
        self._db = db
        self._url = db.url
        self.instance = instance
        self.leading = False
        self._gained = anyio.Event()
        self._lost = anyio.Event()
        #: Times this instance took the lead (a metric).
        self.terms = 0

    async def wait_leading(self) -> None:
        """Return once this instance leads."""
        while not self.leading:
            await self._gained.wait()

    async def wait_lost(self) -> None:
        """Return once this instance, leading, stops leading."""
        while self.leading:
            await self._lost.wait()

    async def leader(self) -> str | None:
        """The name of the instance leading now, as the database sees it (None: nobody)."""
        if self.leading:
            return self.instance
        try:
            name = await self._db.fetchval(
                "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a USING (pid)"
                " WHERE l.locktype = 'advisory' AND l.granted AND l.database ="
                " (SELECT oid FROM pg_database WHERE datname = current_database())"
                " AND ((l.classid::bigint << 32) | l.objid::bigint) = $1",
                LEADER_LOCK,
            )
        except StorageError:
            return None
        if not name:
            return None
        return str(name).removeprefix("scanlet ")

    def _set(self, leading: bool) -> None:
        if leading == self.leading:
            return
        self.leading = leading
        if leading:
            self.terms += 1
            gained, self._gained = self._gained, anyio.Event()
            gained.set()
            log.info("leading the followers", instance=self.instance)
        else:
            lost, self._lost = self._lost, anyio.Event()
            lost.set()
            log.warning("no longer leading the followers", instance=self.instance)

    async def run(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Contend for the lead until cancelled; started once the first try is made (so an
        instance that can lead at start-up starts its followers right away)."""
        status = _Once(task_status)
        while True:
            try:
                conn = await _connect(self._url, self.instance, _KEEPALIVE)
            except _CONNECTION_ERRORS as exc:
                log.warning("leadership connection failed", error=str(exc))
            else:
                try:
                    await self._hold(conn, status)
                except _CONNECTION_ERRORS as exc:
                    log.warning("leadership connection lost", error=str(exc))
                finally:
                    self._set(False)
                    with anyio.CancelScope(shield=True), contextlib.suppress(*_CONNECTION_ERRORS):
                        await conn.close(timeout=2.0)
            status.started()
            await anyio.sleep(RECONNECT_DELAY)

    async def _hold(self, conn: Session, status: _Once) -> None:
        while True:
            if not self.leading:
                taken = await conn.fetchval("SELECT pg_try_advisory_lock($1)", LEADER_LOCK)
                if taken:
                    self._set(True)
            else:
                # The lock lives as long as the session: a broken connection raises here.
                await conn.fetchval("SELECT 1", timeout=LEADER_POLL * 3)
            status.started()
            await anyio.sleep(LEADER_POLL)


class PgChangeFeed:
    """Notices between the instances on one database.

    ``note_append`` (called by the database after each commit that appended events) asks
    for a ring; the ringer sends at most one notice per ``RING_GAP``, so a burst of group
    commits costs a handful of notices, not one each."""

    def __init__(self, url: str, instance: str) -> None:
        self._url = url
        self.instance = instance
        self._conn: Session | None = None
        self._wanted = anyio.Event()

    def note_append(self) -> None:
        """This instance committed events: ring the others soon."""
        self._wanted.set()

    async def run(
        self,
        on_codes: Callable[[Sequence[str]], None],
        on_log: Callable[[], None],
        *,
        task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED,
    ) -> None:
        """Listen and ring until cancelled: ``on_codes(slugs)`` when codes changed on any
        instance, ``on_log()`` when another instance appended to the log. After each
        (re)connection both are called once, for whatever was missed meanwhile."""
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(self._ring_when_wanted)
            status = _Once(task_status)
            while True:
                try:
                    conn = await _connect(self._url, self.instance, {"synchronous_commit": "off"})
                except _CONNECTION_ERRORS as exc:
                    log.warning("change feed connection failed", error=str(exc))
                else:
                    try:
                        await self._listen(conn, on_codes, on_log, status)
                    except _CONNECTION_ERRORS as exc:
                        log.warning("change feed lost", error=str(exc))
                    finally:
                        self._conn = None
                        with (
                            anyio.CancelScope(shield=True),
                            contextlib.suppress(*_CONNECTION_ERRORS),
                        ):
                            await conn.close(timeout=2.0)
                status.started()
                await anyio.sleep(RECONNECT_DELAY)

    async def _listen(
        self,
        conn: Session,
        on_codes: Callable[[Sequence[str]], None],
        on_log: Callable[[], None],
        status: _Once,
    ) -> None:
        """Deliver the notices of ``conn`` until it breaks."""
        lost = anyio.Event()

        def codes_changed(_conn: object, _pid: int, _channel: str, slug: object) -> None:
            on_codes([str(slug)])

        def log_rung(_conn: object, _pid: int, _channel: str, sender: object) -> None:
            if sender != self.instance:
                on_log()

        await conn.add_listener(CODES_CHANNEL, codes_changed)
        await conn.add_listener(LOG_CHANNEL, log_rung)
        conn.add_termination_listener(lambda _conn: lost.set())
        self._conn = conn
        on_codes(())  # none named: catch up on whatever was missed
        on_log()
        status.started()
        await lost.wait()
        log.warning("change feed connection closed")

    async def _ring_when_wanted(self) -> None:
        while True:
            await self._wanted.wait()
            self._wanted = anyio.Event()
            started = time.monotonic()
            conn = self._conn
            if conn is not None:
                # Best effort: a lost notice delays the others' streams until their poll.
                with contextlib.suppress(*_CONNECTION_ERRORS):
                    await conn.execute("SELECT pg_notify($1, $2)", LOG_CHANNEL, self.instance)
            # A few milliseconds on another instance's live stream; the notices stay cheap
            # beside the commits that ask for them.
            await anyio.sleep(max(0.0, RING_GAP - (time.monotonic() - started)))
