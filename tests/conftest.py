"""Shared fixtures: every async test runs on asyncio through anyio's pytest plugin."""

import os
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import anyio
import pytest
from hypothesis import HealthCheck, settings

from scanlet import priority
from scanlet.actors.follower import CATCH_UP, CatchUp
from scanlet.adapters import agent_worker
from scanlet.config import Settings, load_settings
from scanlet.runtime import ActorRef
from scanlet.storage.opening import open_storage
from scanlet.storage.ports import Storage
from scanlet.storage.postgres.storage import PostgresStorage
from scanlet.storage.sqlite.storage import SqliteStorage
from tests.pg import PgDatabases

#: A storage of either adapter, with their test helpers (``dump``) beside the ports.
AnyStorage = SqliteStorage | PostgresStorage

BACKENDS = ("sqlite", "postgresql")

# Property tests check behaviour, not speed: hypothesis's default 200 ms deadline per
# example and its "too slow" health check are timing assertions, and on a shared 2-core
# machine (or CI) they fail tests that are correct. In CI the examples are derandomized so
# a red run can be reproduced.
settings.register_profile(
    "scanlet",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "scanlet-ci",
    parent=settings.get_profile("scanlet"),
    derandomize=True,
)
settings.load_profile("scanlet-ci" if os.environ.get("CI") == "true" else "scanlet")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(autouse=True)
def _priority_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    """Commands run in-process (``scanlet.cli.main``) keep the test worker's priority: an
    import would lower it for good (raising it again takes privileges), and every later
    test, and every server it starts, would run below the others. The executable's own
    priority is tested through the executable."""
    monkeypatch.setattr(priority, "lower_priority", lambda: None)


#: The agent worker as the server starts it, but at the test's own priority: in the idle
#: scheduling class, on a machine whose cores the other tests keep busy, its first answer
#: (parsing compiles its patterns) once took longer than its 10 s deadline. Its class is
#: tested apart, on the worker as the server starts it.
AWAKE_AGENT_WORKER = (sys.executable, "-c", "import scanlet.adapters.agent_worker as w; w.serve()")


@pytest.fixture
def awake_agent_worker(monkeypatch: pytest.MonkeyPatch) -> tuple[str, ...]:
    """Servers started by the test start the agent worker awake (``AWAKE_AGENT_WORKER``)."""
    monkeypatch.setattr(agent_worker, "COMMAND", AWAKE_AGENT_WORKER)
    return AWAKE_AGENT_WORKER


@pytest.fixture
def loose_umask() -> Iterator[None]:
    """The common 0022 umask, under which a new file is world-readable unless its creator
    says otherwise: tests of file modes run under it so a stricter umask cannot hide a gap."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--backends",
        # Both by default (issue #14): CI and a plain ``pytest`` test every backend.
        default=os.environ.get("SCANLET_TEST_BACKENDS", "sqlite,postgresql"),
        help="storage backends the backend-parametrised tests run on (comma-separated)",
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Tests that use ``backend`` (directly or through ``scanlet_db``, ``storage``, the HTTP
    ``app``...) run once per backend chosen with ``--backends``."""
    if "backend" in metafunc.fixturenames:
        chosen = [b.strip() for b in metafunc.config.getoption("backends").split(",") if b.strip()]
        unknown = set(chosen) - set(BACKENDS)
        if unknown:
            raise pytest.UsageError(f"unknown backends {sorted(unknown)}; known: {BACKENDS}")
        only = metafunc.definition.get_closest_marker("backends")
        if only is not None:
            chosen = [b for b in chosen if b in only.args]
        metafunc.parametrize("backend", chosen, scope="function")


#: Files that take longest, by path prefix, slowest kinds first: pytest-xdist's loadfile
#: hands files to its processes in collection order, and these (the real executable per
#: command, browsers, clusters, fault scripts) collected last left the run's final minutes
#: to one or two processes while the others stood idle.
_SLOW_FIRST = (
    "tests/test_cli",
    "tests/e2e/",
    "tests/cluster/",
    "tests/faults/",
    "tests/reliability/",
    "tests/importing/",
    "tests/conformance/",
    "tests/test_",
)


def _slowness(item: pytest.Item) -> int:
    for rank, prefix in enumerate(_SLOW_FIRST):
        if item.nodeid.startswith(prefix):
            return rank
    return len(_SLOW_FIRST)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # A stable sort: each file's tests keep their order, and so do files of one rank.
    items.sort(key=_slowness)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "backends(*names): run this backend-parametrised test on these backends only"
        " (where behaviour really differs; say why beside it)",
    )


@pytest.fixture(scope="session")
def pg_databases() -> Iterator[PgDatabases]:
    """This run's PostgreSQL databases, all dropped at the end."""
    databases = PgDatabases()
    try:
        yield databases
    finally:
        databases.drop_all()


@pytest.fixture
def scanlet_db(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """A new, empty database of the test's backend, as ``SCANLET_DB`` names it: a SQLite
    file path, or the URL of a PostgreSQL database made for this test (dropped after it)."""
    if backend == "sqlite":
        yield str(tmp_path / "scanlet.db")
        return
    databases: PgDatabases = request.getfixturevalue("pg_databases")
    url = databases.create()
    try:
        yield url
    finally:
        databases.drop(url)


@pytest.fixture
def db_settings(scanlet_db: str) -> Settings:
    """Settings naming ``scanlet_db`` (and nothing else): what ``tests.dbquery.query`` and
    ``open_storage`` take."""
    return load_settings({"SCANLET_DB": scanlet_db}, isatty=False)


@pytest.fixture
async def storage(db_settings: Settings) -> AsyncIterator[AnyStorage]:
    """The storage of ``scanlet_db``, open for the test."""
    async with open_storage(db_settings) as opened:
        assert isinstance(opened, SqliteStorage | PostgresStorage)
        yield opened


async def nth_position(storage: Storage, n: int) -> int:
    """The log position just after the ``n``-th event (1-based, in log order): where a
    follower that applied the first ``n`` events stands, on either backend."""
    # On PostgreSQL the log is read up to the fence, the oldest transaction still open on
    # the whole server: another test run's CREATE DATABASE can hold it back for a moment.
    with anyio.fail_after(10):
        events = await storage.events.read_after(0, n)
        while len(events) < n:  # a transaction elsewhere: nothing to wait on but time
            await anyio.sleep(0.01)
            events = await storage.events.read_after(0, n)
    assert len(events) == n
    return events[-1].position


async def last_appended(storage: Storage) -> int:
    """The position of the event appended last (0 for an empty log), fence or not."""
    last = await storage.events.last_seq()
    return (await storage.events.position_of(last) or 0) if last else 0


async def readable(storage: Storage) -> None:
    """Wait until every event appended so far can be read: at once on SQLite; on PostgreSQL
    once no transaction older than the last append is open anywhere on the server."""
    target = await last_appended(storage)
    with anyio.fail_after(10):
        # A transaction elsewhere on the server: nothing to wait on but time.
        while await storage.events.last_position() < target:  # noqa: ASYNC110
            await anyio.sleep(0.01)


#: How long one catch-up of a follower may take in a test. The analytics follower hands a
#: backlog to the projection worker, whose first slice includes starting it, 10 steps below
#: the tests' priority: on a CI machine saturated by the suite, that took more than the
#: 5 s an ask waits by default.
CATCH_UP_SECONDS = 60.0


async def caught_up(ref: ActorRef[CatchUp], storage: Storage, n: int | None = None) -> int:
    """Ask the follower ``ref`` to catch up until it stands just after the ``n``-th event
    (default: the last one appended); its position then. One ask does it on SQLite; on
    PostgreSQL a transaction anywhere on the server (another test run's) can hold the
    fence, and the follower then reads less."""
    if n is not None:
        target = await nth_position(storage, n)
    else:
        target = await last_appended(storage)
    with anyio.fail_after(2 * CATCH_UP_SECONDS):
        position: int = await ref.ask(CATCH_UP, timeout=CATCH_UP_SECONDS)
        while position < target:
            await anyio.sleep(0.01)
            position = await ref.ask(CATCH_UP, timeout=CATCH_UP_SECONDS)
    return position
