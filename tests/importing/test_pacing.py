"""An import shares the write lock with a running server: its commits stay small by rows and
by time, and each is followed by a pause as long as it took, while a server is using the
database (and only then: alone, commits follow each other at the row limit)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime

import pytest

from scanlet.actors.codes.domain_messages import CreateDomain
from scanlet.actors.codes.messages import ImportCode
from scanlet.actors.scans.messages import ImportedScan
from scanlet.importing import Importer, Pacing, SourceCode, SourceItem, SourceVisit, engine
from scanlet.importing.engine import COMMIT_SECONDS, MIN_VISIT_BATCH, VISIT_BATCH
from scanlet.importing.items import SourceLogo, visit_id
from scanlet.storage.errors import StorageUnavailable
from scanlet.storage.records import CodeRow

NOW = datetime(2026, 3, 1, tzinfo=UTC)


class TimedSink:
    """Takes ``seconds_per_visit`` (busy, as a held lock is) to store each visit; records
    every commit's size and when it started and ended."""

    def __init__(self, seconds_per_visit: float) -> None:
        self.seconds_per_visit = seconds_per_visit
        self.commits: list[tuple[int, float, float]] = []
        self.ids: set[str] = set()

    def is_taken(self, slug: str) -> bool:
        return False

    def now(self) -> datetime:
        return NOW

    async def known(self, origins: Sequence[str]) -> dict[str, str]:
        return {}

    async def create(self, command: ImportCode, logo: SourceLogo | None = None) -> CodeRow:
        code = command.code
        return CodeRow(
            slug=code.slug or "generated",
            target=code.target or "",
            title=None,
            tags=(),
            enabled=True,
            valid_from=None,
            valid_until=None,
            max_scans=None,
            redirect_status=302,
            created_at=NOW,
            updated_at=NOW,
        )

    async def create_domain(self, command: CreateDomain) -> None:
        raise AssertionError("no domain is registered here")

    async def delete(self, slug: str) -> None:
        raise AssertionError("nothing is deleted here")

    async def store_visits(self, scans: Sequence[ImportedScan]) -> list[bool]:
        started = time.perf_counter()
        while time.perf_counter() - started < self.seconds_per_visit * len(scans):
            pass
        fresh = [scan.id not in self.ids for scan in scans]
        self.ids.update(scan.id for scan in scans)
        self.commits.append((len(scans), started, time.perf_counter()))
        return fresh

    async def stored(self, ids: Sequence[str]) -> set[str]:
        return self.ids.intersection(ids)


async def items(visits: int) -> AsyncIterator[SourceItem]:
    yield SourceCode(origin="t:menu", label="menu", fields={"target": "https://e.x/", "slug": "m"})
    for n in range(visits):
        yield SourceVisit(
            "t:menu", ImportedScan(id=visit_id(f"t:menu#{n}"), slug="", occurred_at=NOW)
        )


async def test_cheap_commits_take_at_most_the_row_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    # A whole second a commit: the row limit alone sets their size, even when a loaded
    # machine preempts a free commit for longer than the real 2 ms (CI saw [50, 50, 24, 33]).
    monkeypatch.setattr(engine, "COMMIT_SECONDS", 1.0)
    sink = TimedSink(seconds_per_visit=0.0)
    report = await Importer(sink).run(items(3 * VISIT_BATCH + 7))
    assert report.visits_imported == 3 * VISIT_BATCH + 7
    assert [size for size, _, _ in sink.commits] == [VISIT_BATCH] * 3 + [7]


async def test_slow_commits_shrink_to_the_time_limit_and_each_is_followed_by_a_pause() -> None:
    # 0.2 ms a visit: 50 visits would hold the lock 10 ms; about 10 fit in 2 ms.
    sink = TimedSink(seconds_per_visit=0.0002)
    report = await Importer(sink, pacing=Pacing.always()).run(items(200))
    assert report.visits_imported == 200
    assert report.paced_commits == report.commits == len(sink.commits)
    sizes = [size for size, _, _ in sink.commits]
    assert sizes[0] == VISIT_BATCH
    fitting = int(COMMIT_SECONDS / 0.0002)
    assert all(MIN_VISIT_BATCH <= size <= fitting for size in sizes[1:-1]), sizes
    for (_, started, ended), (_, next_started, _) in zip(
        sink.commits, sink.commits[1:], strict=False
    ):
        # The writer was left alone at least as long as it was held.
        assert next_started - ended >= (ended - started) * 0.9
    # Run again: every visit is a duplicate, nothing stored twice.
    again = await Importer(sink).run(items(200))
    assert (again.visits_imported, again.visits_duplicate) == (0, 200)


class BusySink(TimedSink):
    """Refuses the first ``busy`` commits as a locked database does."""

    def __init__(self, busy: int) -> None:
        super().__init__(seconds_per_visit=0.0)
        self.busy = busy

    async def store_visits(self, scans: Sequence[ImportedScan]) -> list[bool]:
        if self.busy:
            self.busy -= 1
            raise StorageUnavailable("cannot write scanlet.db: database is locked")
        return await super().store_visits(scans)


async def test_a_commit_refused_as_busy_is_tried_again(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("scanlet.importing.engine.BUSY_RETRIES", (0.001, 0.001, 0.001))
    sink = BusySink(busy=2)
    report = await Importer(sink).run(items(120))
    assert (report.visits_imported, report.stopped) == (120, None)
    assert sum(size for size, _, _ in sink.commits) == 120


async def test_a_database_that_stays_busy_stops_the_import_with_what_was_stored_reported(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("scanlet.importing.engine.BUSY_RETRIES", (0.001, 0.001))
    sink = BusySink(busy=0)
    report = await Importer(sink).run(items(120))
    assert report.visits_imported == 120
    sink.busy = 10
    again = await Importer(sink).run(items(130))
    assert again.stopped == (
        "the database refused writes: cannot write scanlet.db: database is locked"
    )
    assert again.failed
    assert (again.visits_imported, again.visits_duplicate) == (0, 0)
    # Once the database is free again, a rerun goes on where it stopped.
    sink.busy = 0
    last = await Importer(sink).run(items(130))
    assert (last.visits_imported, last.visits_duplicate, last.stopped) == (10, 120, None)


async def test_without_a_server_slow_commits_are_neither_shrunk_nor_paced() -> None:
    sink = TimedSink(seconds_per_visit=0.0005)
    report = await Importer(sink, pacing=Pacing.never()).run(items(4 * VISIT_BATCH))
    assert report.visits_imported == 4 * VISIT_BATCH
    assert [size for size, _, _ in sink.commits] == [VISIT_BATCH] * 4
    assert (report.commits, report.paced_commits) == (4, 0)
    assert "paced" not in report.summary(dry_run=False)


class Ticks:
    """A clock that moves ``step`` seconds each time it is read."""

    def __init__(self, step: float) -> None:
        self.step = step
        self.now = 0.0

    def __call__(self) -> float:
        self.now += self.step
        return self.now


class ServerStartingSink(TimedSink):
    """A server starts on the database once ``before`` commits are done."""

    def __init__(self, before: int) -> None:
        super().__init__(seconds_per_visit=0.0)
        self.before = before

    async def server_running(self) -> bool:
        return len(self.commits) > self.before


async def test_a_server_started_mid_import_paces_the_commits_after_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A whole second a commit, as above: a paced commit preempted past the real 2 ms would
    # shrink the next ones and add a commit (CI saw 6 of 5).
    monkeypatch.setattr(engine, "COMMIT_SECONDS", 1.0)
    sink = ServerStartingSink(before=2)
    # Each commit reads the clock once: with a step of a whole interval, each one asks.
    pacing = Pacing(sink.server_running, every=1.0, clock=Ticks(1.0))
    report = await Importer(sink, pacing=pacing).run(items(5 * VISIT_BATCH))
    assert report.commits == 5
    assert report.paced_commits == 3
    assert "paced 3 of 5 commits: a server was using the database" in report.summary(dry_run=False)


async def test_pacing_asks_again_only_once_its_answer_is_an_interval_old() -> None:
    answers = iter([False, True])

    async def answer() -> bool:
        return next(answers)

    pacing = Pacing(answer, every=1.0, clock=Ticks(0.25))
    assert [await pacing.needed() for _ in range(4)] == [False] * 4
    assert pacing.checks == 1
    assert await pacing.needed() is True  # a whole interval after the first question
    assert pacing.checks == 2


async def test_commits_paced_without_fitting_keep_their_size_and_still_pause() -> None:
    # PostgreSQL's way: a slow commit is mostly the wait for the WAL's flush, which holds
    # nobody up, so it is not shrunk; the pause after it still leaves the server room.
    sink = TimedSink(seconds_per_visit=0.0005)

    async def running() -> bool:
        return True

    pacing = Pacing(running, fit_commits=False)
    report = await Importer(sink, pacing=pacing).run(items(3 * VISIT_BATCH))
    assert [size for size, _, _ in sink.commits] == [VISIT_BATCH] * 3
    assert (report.commits, report.paced_commits) == (3, 3)
    # Each pause lasts as long as the commit before it.
    for (_, _, ended), (_, started, _) in zip(sink.commits, sink.commits[1:], strict=False):
        assert started - ended >= VISIT_BATCH * 0.0005 * 0.9
