"""A temporary database and helpers to put scan events into its log."""

from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from pathlib import Path

import pytest

from scanlet.actors.events import DomainEvent, ScanOrphaned, ScanRecorded, encode_event
from scanlet.storage.records import NewEvent
from scanlet.storage.sqlite.database import Database, open_database
from scanlet.storage.sqlite.eventlog import EventLog
from scanlet.storage.timefmt import format_time

PHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1"
)
DESKTOP = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
)
BOT = "curl/8.4.0"


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    async with open_database(tmp_path / "a.db") as database:
        yield database


_counter = [0]


def scan(
    slug: str,
    at: datetime,
    *,
    visitor: str | None = "v1",
    agent: str | None = PHONE,
    referrer: str | None = None,
    source: str = "qr",
    country: str | None = None,
    ip: str | None = "203.0.113.0",
) -> ScanRecorded:
    _counter[0] += 1
    return ScanRecorded(
        id=f"e{_counter[0]}",
        occurred_at=at,
        slug=slug,
        source=source,  # type: ignore[arg-type]
        ip=ip,
        visitor=visitor,
        user_agent=agent,
        referrer=referrer,
        country=country,
    )


def orphan(slug: str, at: datetime) -> ScanOrphaned:
    _counter[0] += 1
    return ScanOrphaned(
        id=f"o{_counter[0]}", occurred_at=at, slug=slug, source="link", ip="1.2.3.0"
    )


def new_event(event: DomainEvent) -> NewEvent:
    kind = "scan.orphaned" if isinstance(event, ScanOrphaned) else "scan.recorded"
    slug = getattr(event, "slug", None)
    return NewEvent(event.id, kind, slug, format_time(event.occurred_at), encode_event(event))


async def append(db: Database, events: Sequence[DomainEvent]) -> None:
    rows = [new_event(e) for e in events]
    await db.write(lambda conn: EventLog.append(conn, rows, "2026-01-01T00:00:00.000000Z"))
