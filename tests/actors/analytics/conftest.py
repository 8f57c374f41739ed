"""A temporary database and helpers to put scan events into its log."""

from collections.abc import Sequence
from datetime import UTC, datetime

from prometheus_client import Gauge

from scanlet.actors.analytics.actor import AnalyticsFollower, RemoteCatchUp, rebuild
from scanlet.actors.analytics.facts import AgentPrefetch
from scanlet.actors.analytics.projection import AnalyticsProjection
from scanlet.actors.events import DomainEvent, ScanOrphaned, ScanRecorded, encode_event
from scanlet.storage.ports import Storage
from scanlet.storage.records import NewEvent
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


def follower(
    storage: Storage,
    projection: AnalyticsProjection,
    lag: Gauge | None = None,
    prefetch: AgentPrefetch | None = None,
    remote: RemoteCatchUp | None = None,
) -> AnalyticsFollower:
    """The analytics follower on ``storage``'s ports."""
    return AnalyticsFollower(
        storage.events, storage.positions, storage.analytics, projection, lag, prefetch, remote
    )


async def rebuild_all(storage: Storage, projection: AnalyticsProjection) -> int:
    """``rebuild`` on ``storage``'s ports."""
    return await rebuild(storage.events, storage.positions, storage.analytics, projection)


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


async def append(storage: Storage, events: Sequence[DomainEvent]) -> None:
    await storage.events.append([new_event(e) for e in events], datetime(2026, 1, 1, tzinfo=UTC))
