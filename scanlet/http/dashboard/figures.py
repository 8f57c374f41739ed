"""The figures pages show: stats through the same query the stats API runs, and breakdowns.

The range and interval selectors map to a ``StatsQuery`` answered by ``compute_stats`` over
the rollups, exactly as ``/api/v1/stats`` answers it; bots are left out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import cast

from starlette.requests import Request

from scanlet.actors.analytics.buckets import INTERVALS, Interval, TooManyBuckets
from scanlet.actors.analytics.stats import Stats, StatsQuery, compute_stats
from scanlet.http.params import invalid, query_choice, query_zone
from scanlet.http.services import Services

__all__ = (
    "BREAKDOWNS",
    "RANGES",
    "Selection",
    "breakdown_rows",
    "load_stats",
    "selection",
)

RANGES: dict[str, tuple[str, timedelta]] = {
    "24h": ("Last 24 hours", timedelta(hours=24)),
    "7d": ("Last 7 days", timedelta(days=7)),
    "30d": ("Last 30 days", timedelta(days=30)),
    "90d": ("Last 90 days", timedelta(days=90)),
    "365d": ("Last 12 months", timedelta(days=365)),
}
INTERVAL_LABELS = {"hour": "Hourly", "day": "Daily", "week": "Weekly", "month": "Monthly"}
BREAKDOWNS: tuple[tuple[str, str], ...] = (
    ("by_device", "Device"),
    ("by_os", "Operating system"),
    ("by_browser", "Browser"),
    ("by_referrer", "Referrer"),
    ("by_source", "Source"),
    ("by_country", "Country"),
    # Where the routing sent scans, and which rule (or split arm, or the fallback) chose it.
    ("by_target", "Target"),
    ("by_rule", "Rule"),
)
#: Values listed per breakdown; the rest are summed into "other".
TOP_VALUES = 8


@dataclass(frozen=True, slots=True)
class Selection:
    """The range, interval and time zone a page's chart shows."""

    range: str
    interval: Interval
    tz: str


def selection(request: Request) -> Selection:
    """The chart selectors from the query string (422 for values not on offer)."""
    chosen = query_choice(request, "range", tuple(RANGES), "30d")
    default_interval = "hour" if chosen in ("24h", "7d") else "day"
    interval = cast(Interval, query_choice(request, "interval", INTERVALS, default_interval))
    return Selection(chosen, interval, query_zone(request))


async def load_stats(
    svc: Services, slug: str | None, chosen: Selection, codes: tuple[str, ...] | None = None
) -> Stats:
    """Stats of one code (or all, for None: only ``codes``, if given) over the selection,
    bots excluded."""
    end = svc.clock.now()
    query = StatsQuery(
        slug=slug,
        start=end - RANGES[chosen.range][1],
        end=end,
        interval=chosen.interval,
        tz=chosen.tz,
        codes=codes,
    )
    try:
        return await compute_stats(svc.storage.analytics, query)
    except TooManyBuckets as exc:
        raise invalid("interval", str(exc)) from None


@dataclass(frozen=True, slots=True)
class BreakdownRow:
    """One value of a breakdown with its count and share of the total (0-100)."""

    name: str
    count: int
    share: float


def breakdown_rows(values: dict[str, int]) -> list[BreakdownRow]:
    """The largest values first, the tail summed into "other"."""
    total = sum(values.values())
    ranked = sorted(values.items(), key=lambda item: (-item[1], item[0]))
    head, tail = ranked[:TOP_VALUES], ranked[TOP_VALUES:]
    if tail:
        head.append(("other", sum(count for _, count in tail)))
    return [
        BreakdownRow(name, count, 100 * count / total if total else 0.0) for name, count in head
    ]
