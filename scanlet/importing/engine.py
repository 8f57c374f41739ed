"""The import engine: one pass over a source's items, idempotent and resumable.

Codes go to the codes context as ``ImportCode`` commands (the rules of ``POST
/api/v1/codes``, the same ``msgspec`` types first), each naming the source item it was made
of; a second run finds that item's code by its origin and keeps it. Visits go to the scans
context as ``ImportedScan`` batches whose ids are derived from the source and the visit, so a
visit stored once is a duplicate on every later run: an interrupted import is resumed by
running it again.

A server on the same database must keep answering redirects meanwhile. On SQLite its group
commits wait for the write lock an import's commit holds (trying again every millisecond or
two, while its loop serves on), and its redirects wait for those commits, so every commit is
kept short by rows and by time (``VISIT_BATCH`` visits, fewer when one commit took longer than
``COMMIT_SECONDS``) and followed by a pause as long as it took: the import holds the lock
at most half the time, and a waiting writer gets it at its next try. Only while a server is
using the database, though (``Pacing`` asks): alone, the import commits back to back.
"""

from __future__ import annotations

import enum
import re
import time
from collections.abc import AsyncIterable, Awaitable, Callable, Sequence
from datetime import datetime
from functools import partial
from typing import Any, Protocol, TypeVar

import anyio
import msgspec

from scanlet.actors.codes.domain_messages import CreateDomain
from scanlet.actors.codes.errors import CodeError, DomainTaken, InvalidField, SlugTaken
from scanlet.actors.codes.keys import code_key
from scanlet.actors.codes.messages import CreateCode, ImportCode
from scanlet.actors.codes.validation import MAX_SLUG_LENGTH, RESERVED_SLUGS
from scanlet.actors.scans.limits import canonical_id, imported_visit_error
from scanlet.actors.scans.messages import ImportedScan
from scanlet.importing.items import (
    SourceCode,
    SourceDomain,
    SourceError,
    SourceFailure,
    SourceItem,
    SourceLogo,
    SourceNote,
    SourceRead,
    SourceTotal,
    SourceVisit,
)
from scanlet.importing.pacing import Pacing
from scanlet.importing.report import ImportReport
from scanlet.storage.errors import StorageUnavailable
from scanlet.storage.records import CodeRow
from scanlet.timerange import time_error

__all__ = ("COMMIT_SECONDS", "VISIT_BATCH", "Conflict", "ImportSink", "Importer")

#: Visits per commit at most: about a millisecond of the shared writer (500 took 8-11 ms
#: here, and a server's redirects waited behind each).
VISIT_BATCH = 50
#: The longest an import's commit should hold the write lock: a commit that took longer
#: makes the next one smaller in proportion (never below ``MIN_VISIT_BATCH``). At 2 ms
#: rather than 5, bench/import.py (alternating, four runs each) put the server's loop lag
#: p99 in (2, 3] ms every time against (3, 5] ms every time (about 2.95 against 3.35 ms
#: in the two runs each that estimated it) and the redirects' p99 at 7.7-7.9 against
#: 8.4-8.7 ms, for an import about a fifth slower beside a server (1.6-1.7k visits/s
#: against 1.9-2.1k there; alone it does not pace at all).
COMMIT_SECONDS = 0.002
MIN_VISIT_BATCH = 5
#: Pauses before trying a write again that the database refused as busy (a server's
#: transaction held the lock longer than the writer waits, as on a starved machine).
BUSY_RETRIES = (0.05, 0.2, 0.5, 1.0, 2.0)
T = TypeVar("T")
#: Renamed slugs tried (``menu-2`` ... ``menu-100``) before giving up on an item.
MAX_RENAMES = 99
_RESERVED = frozenset(name.lower() for name in RESERVED_SLUGS)
#: Where an error names a rule: the codes context's ``rules[2].target``, msgspec's
#: ``- at `$.rules[2].when.language```.
_RULE_AT = re.compile(r"(?:^|\$\.)rules\[(\d+)\]")


class Conflict(enum.StrEnum):
    """What to do with a code whose slug another code has: leave it out (and its visits),
    create it under ``SLUG-2`` (``-3``, ...), or stop the import there."""

    SKIP = "skip"
    RENAME = "rename"
    FAIL = "fail"


class ImportSink(Protocol):
    """Where an import's codes and visits go (the codes and scans contexts)."""

    def is_taken(self, slug: str) -> bool:
        """Whether a code has, or once had, ``slug``."""
        ...

    def now(self) -> datetime:
        """The current time (visits later than this and the skew are refused)."""
        ...

    async def known(self, origins: Sequence[str]) -> dict[str, str]:
        """The slugs earlier imports made of ``origins``."""
        ...

    async def create(self, command: ImportCode, logo: SourceLogo | None = None) -> CodeRow:
        """Create a code, with ``logo`` if given (``CodeError`` when either is refused);
        with ``dry_run``, only check them."""
        ...

    async def delete(self, slug: str) -> None:
        """Delete a code just imported (an archive's tombstone, whose slug stays taken)."""
        ...

    async def create_domain(self, command: CreateDomain) -> None:
        """Register a domain (``DomainTaken`` when it is already, ``CodeError`` when
        refused)."""
        ...

    async def store_visits(self, scans: Sequence[ImportedScan]) -> list[bool]:
        """Store visits in one commit; per visit, whether it is new."""
        ...

    async def stored(self, ids: Sequence[str]) -> set[str]:
        """Those of the visit ids ``ids`` stored already (a dry run's duplicates)."""
        ...


async def _retrying_when_busy(write: Callable[[], Awaitable[T]]) -> T:
    """``write()``, tried again after each of ``BUSY_RETRIES`` while the database refuses it
    as unavailable; then the refusal is raised. Safe for an import's writes: a busy
    database refuses a transaction before it begins, any other refused one rolled back
    whole, and visit ids are claimed, so a retry never stores anything twice."""
    for pause in BUSY_RETRIES:
        try:
            return await write()
        except StorageUnavailable:
            await anyio.sleep(pause)
    return await write()


class _Stop(Exception):
    """Raised inside the engine to stop at a clash under ``--on-conflict fail``."""


class Importer:
    """Runs one source through a sink; ``progress(codes, visits)`` is called as it goes,
    ``total(codes)`` when the source says how many codes it holds, ``read(done, size)``
    when a file source says how many bytes of its file it has read. ``pacing`` says
    whether commits make room for a server (always, unless given)."""

    def __init__(
        self,
        sink: ImportSink,
        *,
        on_conflict: Conflict = Conflict.SKIP,
        dry_run: bool = False,
        batch: int = VISIT_BATCH,
        progress: Callable[[int, int], None] = lambda codes, visits: None,
        total: Callable[[int], None] = lambda codes: None,
        read: Callable[[int, int | None], None] = lambda done, size: None,
        pacing: Pacing | None = None,
    ) -> None:
        self._sink = sink
        self._on_conflict = on_conflict
        self._dry_run = dry_run
        self._batch = batch
        self._progress = progress
        self._total = total
        self._read = read
        self._pacing = pacing or Pacing.always()
        self.report = ImportReport()
        # origin -> the slug its visits go to (None: the code was left out, so are they).
        self._slugs: dict[str, str | None] = {}
        # Slugs a dry run would have created, so that a later clash is seen as one.
        self._planned: set[str] = set()
        self._pending: list[ImportedScan] = []
        # Visits the next commit takes: ``batch`` at most, fewer after a slow commit.
        self._commit_size = batch

    async def run(self, items: AsyncIterable[SourceItem]) -> ImportReport:
        """Import every item; the report says what happened (never raises for an item)."""
        started = time.monotonic()
        try:
            await self._run(items)
        finally:
            self.report.seconds = time.monotonic() - started
        return self.report

    async def _run(self, items: AsyncIterable[SourceItem]) -> None:
        try:
            async for item in items:
                if isinstance(item, SourceVisit):
                    await self._visit(item)
                elif isinstance(item, SourceCode):
                    await self._flush()
                    await self._code(item)
                elif isinstance(item, SourceDomain):
                    await self._domain(item)
                elif isinstance(item, SourceNote):
                    self.report.notes.append((item.label, item.text))
                elif isinstance(item, SourceTotal):
                    self._total(item.codes)
                elif isinstance(item, SourceRead):
                    self._read(item.done, item.size)
                else:
                    self._failed_item(item)
            await self._flush()
        except (_Stop, SourceError) as stop:
            self.report.stopped = str(stop)
            await self._flush_after_stop()
        except StorageUnavailable as exc:
            # What was committed stays (and is reported); running it again goes on.
            self.report.stopped = f"the database refused writes: {exc}"

    async def _flush_after_stop(self) -> None:
        """Store what the source gave before it stopped."""
        try:
            await self._flush()
        except StorageUnavailable as exc:
            self.report.stopped = f"{self.report.stopped}; the database refused writes: {exc}"

    def _failed_item(self, item: SourceFailure) -> None:
        self.report.codes["failed"] += 1
        self.report.items.append((item.label, "failed", item.reason))
        self.report.fail(item.label, item.reason)
        self._progress(1, 0)

    def _outcome(self, item: SourceCode, outcome: str, detail: str) -> None:
        self.report.codes[outcome] += 1
        self.report.items.append((item.label, outcome, detail))
        if outcome == "failed":
            self.report.fail(item.label, detail)
        self._progress(1, 0)
        if item.total_visits:
            self.report.visits_uncounted += item.total_visits

    def _taken(self, slug: str, domain: str | None = None) -> bool:
        key = code_key(domain, slug)
        return slug.lower() in _RESERVED or self._sink.is_taken(key) or key in self._planned

    async def _domain(self, item: SourceDomain) -> None:
        """Register an archive's domain, so its codes can live there again; one that is
        registered already is kept as it is."""
        try:
            command = msgspec.convert(item.fields, CreateDomain)
        except msgspec.ValidationError as exc:
            self.report.items.append((item.label, "failed", str(exc)))
            self.report.fail(item.label, str(exc))
            return
        if self._dry_run:
            self.report.notes.append((item.label, "would be registered"))
            return
        try:
            await self._sink.create_domain(command)
        except DomainTaken:
            self.report.items.append((item.label, "kept", command.host))
        except CodeError as exc:
            self.report.items.append((item.label, "failed", str(exc)))
            self.report.fail(item.label, str(exc))
        else:
            self.report.items.append((item.label, "created", command.host))

    async def _code(self, item: SourceCode) -> None:
        # A dry run remembers what it would have created, as a real run's database does: the
        # same item again (a CSV row twice) is kept, not a clash with itself.
        known = self._slugs.get(item.origin) if self._dry_run else None
        if known is None:
            known = (await self._sink.known([item.origin])).get(item.origin)
        if known is not None:
            self._slugs[item.origin] = known
            self._outcome(item, "kept", known)
            return
        self._slugs[item.origin] = None
        fields = dict(item.fields)
        command = self._command(item, fields)
        if command is None:
            return
        for name, at in (("created_at", item.created_at), ("updated_at", item.updated_at)):
            problem = time_error(at) if at is not None else None
            if problem is not None:
                self._outcome(item, "failed", f"{name} {problem}")
                return
        wanted = command.slug
        for candidate in self._candidates(wanted):
            if candidate is not None and self._taken(candidate, command.domain):
                continue
            if candidate != wanted and self._on_conflict is not Conflict.RENAME:
                self._clash(item, wanted or "")
                return
            try:
                row = await self._create(item, fields, candidate)
            except SlugTaken:
                continue  # taken meanwhile (by a server on the same database): next one
            except CodeError as exc:
                self._outcome(item, "failed", str(exc))
                return
            await self._settle(item, row.slug)
            self._outcome(item, "created" if candidate == wanted else "renamed", row.slug)
            return
        self._outcome(item, "failed", f"no free slug near {wanted!r}")

    def _command(self, item: SourceCode, fields: dict[str, Any]) -> CreateCode | None:
        """The item's ``fields`` as a create command (the API's types), or None after
        reporting the item failed. A rule they refuse is left out (see ``_without_rule``)."""
        while True:
            try:
                return msgspec.convert(fields, CreateCode)
            except msgspec.ValidationError as exc:
                if not self._without_rule(item, fields, str(exc)):
                    self._outcome(item, "failed", str(exc))
                    return None

    async def _create(self, item: SourceCode, fields: dict[str, Any], slug: str | None) -> CodeRow:
        """Create the code of ``fields`` (checked by ``_command``) under ``slug``; a rule
        the codes context refuses is left out."""
        while True:
            command = msgspec.convert(fields, CreateCode)
            try:
                order = ImportCode(
                    code=msgspec.structs.replace(command, slug=slug),
                    origin=item.origin,
                    created_at=item.created_at,
                    updated_at=item.updated_at,
                    enabled=item.enabled,
                    password_hash=item.password_hash,
                    dry_run=self._dry_run,
                )
                return await _retrying_when_busy(partial(self._sink.create, order, item.logo))
            except InvalidField as exc:
                if not self._without_rule(item, fields, exc.field, str(exc)):
                    raise

    def _without_rule(
        self, item: SourceCode, fields: dict[str, Any], where: str, reason: str | None = None
    ) -> bool:
        """Leave out of ``fields`` the rule that ``where`` (an error's field or message)
        names, with a note; False if it names none. One redirect rule Scanlet refuses (a
        target on this server, a language it cannot read) should not cost the code and its
        visits: the code comes over without it, as a rule with no Scanlet equivalent does."""
        found = _RULE_AT.search(where)
        rules = fields.get("rules")
        if found is None or not isinstance(rules, list | tuple) or int(found[1]) >= len(rules):
            return False
        index = int(found[1])
        rule = rules[index]
        target = rule.get("target") if isinstance(rule, dict) else getattr(rule, "target", None)
        fields["rules"] = [*rules[:index], *rules[index + 1 :]]
        text = f"a redirect rule to {target} not carried over: {reason or where}"
        self.report.notes.append((item.label, text))
        return True

    def _clash(self, item: SourceCode, slug: str) -> None:
        reason = f"slug {slug!r} is taken by another code"
        if self._on_conflict is Conflict.FAIL:
            self._outcome(item, "failed", reason)
            raise _Stop(f"stopped at {item.label}: {reason} (--on-conflict fail)")
        self._outcome(item, "skipped", reason)

    @staticmethod
    def _candidates(wanted: str | None) -> list[str | None]:
        """The slug asked for, then its renamed forms (cut to fit 64 characters)."""
        if wanted is None:
            return [None]
        renamed = []
        for n in range(2, MAX_RENAMES + 2):
            suffix = f"-{n}"
            renamed.append(wanted[: MAX_SLUG_LENGTH - len(suffix)] + suffix)
        return [wanted, *renamed]

    async def _settle(self, item: SourceCode, slug: str) -> None:
        """Record where the item's visits go, and bring an archive's state over."""
        self._slugs[item.origin] = slug
        if self._dry_run:
            self._planned.add(slug)
            return
        if item.deleted:
            await self._sink.delete(slug)

    async def _visit(self, visit: SourceVisit) -> None:
        scan = visit.scan
        if visit.origin is not None:
            slug = self._slugs.get(visit.origin)
            if slug is None:
                self.report.visits_skipped += 1
                return
            scan = msgspec.structs.replace(scan, slug=slug, orphan=False)
        else:
            scan = msgspec.structs.replace(scan, orphan=True)
        problem = imported_visit_error(scan, self._sink.now())
        if problem is not None:
            self.report.visits_failed += 1
            self.report.fail(f"visit {scan.id}", problem)
            return
        self._pending.append(msgspec.structs.replace(scan, id=canonical_id(scan.id) or ""))
        if len(self._pending) >= self._commit_size:
            await self._flush()

    async def _flush(self) -> None:
        pending, self._pending = self._pending, []
        if not pending:
            return
        if self._dry_run:
            await self._count_unstored(pending)
        else:
            for start in range(0, len(pending), self._commit_size):
                await self._commit(pending[start : start + self._commit_size])
        self._progress(0, len(pending))

    async def _count_unstored(self, visits: list[ImportedScan]) -> None:
        """Count ``visits`` as a commit of them would: those stored already, or twice among
        them, as duplicates. (Across two batches a dry run cannot tell: it would have to
        keep every id of the source in memory.)"""
        seen = await self._sink.stored([visit.id for visit in visits])
        for visit in visits:
            if visit.id in seen:
                self.report.visits_duplicate += 1
            else:
                seen.add(visit.id)
                self.report.visits_imported += 1

    async def _commit(self, visits: list[ImportedScan]) -> None:
        """Store ``visits`` in one commit; while a server uses the database, pause as long
        as it took and fit the next one in ``COMMIT_SECONDS`` (see above)."""
        started = time.perf_counter()
        fresh = await _retrying_when_busy(partial(self._sink.store_visits, visits))
        took = time.perf_counter() - started
        new = sum(fresh)
        self.report.visits_imported += new
        self.report.visits_duplicate += len(fresh) - new
        self.report.commits += 1
        if not await self._pacing.needed():
            self._commit_size = self._batch
            return
        self.report.paced_commits += 1
        # As many as fit in COMMIT_SECONDS at this commit's pace, growing at most twofold.
        fitting = self._batch
        if self._pacing.fit_commits and took > 0:
            fitting = int(len(visits) * COMMIT_SECONDS / took)
        self._commit_size = max(MIN_VISIT_BATCH, min(self._batch, 2 * self._commit_size, fitting))
        await anyio.sleep(took)
