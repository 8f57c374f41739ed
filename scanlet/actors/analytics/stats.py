"""Stats: bucketed series, totals, breakdowns and top codes, read from the rollups only.

A range is first widened to whole buckets, so ``series`` always adds up to ``total`` and
``unique_visitors``. The work is one range read of hourly rows (at most one per hour of the
range) plus breakdown rows per day and value: it grows with the range, never with the scans.
"""

from __future__ import annotations

from bisect import bisect_right
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import msgspec

from scanlet.actors.analytics.buckets import Interval, bucket_bounds
from scanlet.storage.ports import ALL_CODES, AnalyticsReader, Codes
from scanlet.storage.records import CodeTotal

__all__ = ("Bucket", "Stats", "StatsQuery", "compute_stats")

TOP_CODES = 10
#: Values a breakdown lists by default (the most frequent); the rest are summed as "other".
TOP_VALUES = 20
MAX_TOP_VALUES = 100
OTHER = "other"


class StatsQuery(msgspec.Struct, frozen=True, kw_only=True):
    """What to count: one code (or all with ``slug=None``), a range, buckets, bots or not."""

    slug: str | None
    start: datetime
    end: datetime
    interval: Interval
    tz: str
    include_bots: bool = False
    #: Count own scans (``SCANLET_EXCLUDE_FROM``, exclude-me) in every figure.
    include_excluded: bool = False
    #: How many values each breakdown lists before the rest become ``"other"``.
    top: int = TOP_VALUES
    #: Across codes (``slug=None``), only these, summed: a tag-limited view of every code.
    #: Unique visitors are then each code's added up (one visitor of two codes counts
    #: twice), as ``top_codes`` adds them: the rollups keep visitors per code and for all.
    codes: tuple[str, ...] | None = None


class Bucket(msgspec.Struct, frozen=True):
    """One bucket of the series; ``start`` is its first instant in UTC."""

    start: datetime
    scans: int
    unique_visitors: int


class Stats(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """The stats resource (``slug`` only for one code, ``top_codes`` only across codes)."""

    slug: str | None = None
    from_: datetime = msgspec.field(name="from")
    to: datetime
    interval: str
    tz: str
    include_bots: bool
    include_excluded: bool
    total: int
    unique_visitors: int
    bots: int
    excluded: int
    series: list[Bucket]
    by_source: dict[str, int]
    by_device: dict[str, int]
    by_os: dict[str, int]
    by_browser: dict[str, int]
    by_referrer: dict[str, int]
    by_country: dict[str, int]
    by_target: dict[str, int]
    by_rule: dict[str, int]
    top_codes: list[CodeTotal] | None = None


def top_values(counts: dict[str, int], top: int) -> dict[str, int]:
    """The ``top`` most frequent values of a breakdown (ties by name), the rest summed as
    ``"other"``: 500 referrer hosts must not make an answer 500 entries long.

    ``{"a": 5, "b": 3, "c": 1}`` with ``top=1`` -> ``{"a": 5, "other": 4}``.
    """
    if len(counts) <= top:
        return counts
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    kept = dict(ranked[:top])
    kept[OTHER] = kept.get(OTHER, 0) + sum(count for _, count in ranked[top:])
    return kept


def _utc(hour: int) -> datetime:
    return datetime.fromtimestamp(hour * 3600, UTC)


async def compute_stats(model: AnalyticsReader, query: StatsQuery) -> Stats:
    """Answer ``query`` from the rollups (raises TooManyBuckets for an oversized range)."""
    bounds = bucket_bounds(query.start, query.end, query.interval, ZoneInfo(query.tz))
    first, last = bounds[0], bounds[-1]
    slug: Codes = ALL_CODES
    if query.slug is not None:
        slug = query.slug
    elif query.codes is not None:
        slug = query.codes
    scans = [0] * (len(bounds) - 1)
    uniques = [0] * (len(bounds) - 1)
    bots = own = 0
    with_bots, with_own = query.include_bots, query.include_excluded
    for row in await model.hours(slug, first, last):
        index = bisect_right(bounds, row.hour) - 1
        scans[index] += row.humans + (row.bots if with_bots else 0) + (row.own if with_own else 0)
        uniques[index] += (
            row.uniques
            + (row.bot_uniques if with_bots else 0)
            + (row.own_uniques if with_own else 0)
        )
        bots += row.bots
        own += row.own
    parts = await model.breakdowns(
        slug, first, last, include_bots=with_bots, include_excluded=with_own
    )
    top = None
    if query.slug is None:
        top = await model.top_codes(
            first,
            last,
            include_bots=with_bots,
            limit=TOP_CODES,
            include_excluded=with_own,
            within=query.codes,
        )
    return Stats(
        slug=query.slug,
        from_=_utc(first),
        to=_utc(last),
        interval=query.interval,
        tz=query.tz,
        include_bots=query.include_bots,
        include_excluded=query.include_excluded,
        total=sum(scans),
        unique_visitors=sum(uniques),
        bots=bots,
        excluded=own,
        series=[Bucket(_utc(bounds[i]), scans[i], uniques[i]) for i in range(len(bounds) - 1)],
        by_source=top_values(parts.get("source", {}), query.top),
        by_device=top_values(parts.get("device", {}), query.top),
        by_os=top_values(parts.get("os", {}), query.top),
        by_browser=top_values(parts.get("browser", {}), query.top),
        by_referrer=top_values(parts.get("referrer", {}), query.top),
        by_country=top_values(parts.get("country", {}), query.top),
        by_target=top_values(parts.get("target", {}), query.top),
        by_rule=top_values(parts.get("rule", {}), query.top),
        top_codes=top,
    )
