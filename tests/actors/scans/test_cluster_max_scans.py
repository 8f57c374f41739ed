"""max_scans across instances sharing a PostgreSQL database: each instance learns the
cluster's total at its commits, so a code stops at its limit, overshot by at most one
group commit per instance."""

from collections.abc import Callable
from datetime import UTC, datetime

from scanlet.actors.scans.actor import ScansActor
from scanlet.actors.scans.messages import RecordScan
from scanlet.actors.scans.metrics import ScanMetrics
from scanlet.clock import FixedClock
from scanlet.runtime import ActorRef, ChildSpec
from scanlet.runtime.testing import running_system
from scanlet.storage.postgres.storage import PostgresStorage, open_postgres
from scanlet.storage.server_key import ServerKey
from tests.pg import PgDatabases

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
KEY = ServerKey(b"s" * 32)
LIMIT = 5


def scan() -> RecordScan:
    return RecordScan("menu", "qr", NOW, "203.0.113.5", "UA", None, max_scans=LIMIT)


def actor_on(storage: PostgresStorage) -> Callable[[], ScansActor]:
    return lambda: ScansActor(storage.scans, FixedClock(NOW), ScanMetrics(None), KEY)


async def test_a_limit_reached_on_one_instance_stops_the_other(
    pg_databases: PgDatabases,
) -> None:
    url = pg_databases.create()
    async with (
        open_postgres(url) as first,
        open_postgres(url) as second,
        running_system() as system,
    ):
        refs: list[ActorRef[RecordScan]] = []
        for name, storage in (("a", first), ("b", second)):
            refs.append(await system.spawn(ChildSpec(f"scans-{name}", actor_on(storage))))
        a, b = refs
        assert [await a.ask(scan()) for _ in range(LIMIT + 1)] == [True] * LIMIT + [False]
        # B loaded its counts before any scan: its first commit overshoots by one and
        # brings back the total; from then on it refuses too.
        assert await b.ask(scan()) is True
        assert [await b.ask(scan()) for _ in range(3)] == [False, False, False]
        assert await first.scans.counts_for(["menu"]) == {"menu": LIMIT + 1}
