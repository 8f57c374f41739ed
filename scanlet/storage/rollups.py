"""The rollup arithmetic both storage adapters share: a batch of scan facts, added up.

A batch of hundreds of scans becomes one increment per (code, hour) counter and per (code,
hour, dimension, value) breakdown, and a set of (code, day, visitor) keys that may be first
sightings. The adapter stores the keys, learns which were new, and ``Rollup.increments``
turns that into the counters to add: the same figures whatever the engine, since only the
engine's own statements differ.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from operator import itemgetter
from typing import Any, cast

from scanlet.storage.ports import ALL_CODES
from scanlet.storage.records import BOT, HUMAN, OWN, Profile, ScanFact

__all__ = (
    "COUNTERS",
    "KEPT_SCANS",
    "PARTS",
    "TABLES",
    "VISITOR_WINDOW_DAYS",
    "Increments",
    "Rollup",
    "RollupRows",
    "VisitorDays",
    "add_up",
    "counted",
    "days_and_ragged_hours",
    "split_hours",
    "visitor_days",
)

#: The rollup tables, alike on both engines (a rebuild empties them; tests compare them).
TABLES = (
    "analytics_hours",
    "analytics_days",
    "analytics_breakdown_hours",
    "analytics_breakdown_days",
    "analytics_visitors",
    "analytics_visitor_days",
    "analytics_visitor_clock",
)

#: Visitor sets are kept for the newest day seen and the two before it. A visitor hash of an
#: older day cannot recur (its salt is deleted after two days), so nothing is lost.
VISITOR_WINDOW_DAYS = 3

#: A day's visitor set outlives the window while visits for it still arrive: an import
#: brings a code's years of visits and then the next code's, each older than the newest day
#: seen. So a day that got a late or imported scan keeps its set until this many scans have
#: been added up after the last such scan (counting scans, not time, so a rebuild in any
#: batch size decides alike). A million scans' sets is at most two million rows, and only
#: an import or a late replay keeps them that long.
KEPT_SCANS = 1_000_000

VisitorKey = tuple[str, int, str]
#: Before any day: the newest day seen while no scan with a visitor has been added up.
_NO_DAY = -(10**9)
#: A fact's rollup key: its code, hour and profile.
_COUNTED_BY = itemgetter(0, 1, 3)

# Where each class of scan is counted: hourly and daily rows hold [humans, bots, uniques,
# bot_uniques, own, own_uniques] (the order of their columns), breakdown rows [humans, bots,
# own].
_SCANS = {HUMAN: 0, BOT: 1, OWN: 4}
_UNIQUES = {HUMAN: 2, BOT: 3, OWN: 5}
COUNTERS = 6
PARTS = 3


def counted(*, include_bots: bool, include_excluded: bool) -> tuple[str, str]:
    """The SQL sums of scans and of unique visitors over the rollup columns that a figure
    counts: people's always, bots' and own scans' when asked."""
    scans, uniques = ["humans"], ["uniques"]
    if include_bots:
        scans.append("bots")
        uniques.append("bot_uniques")
    if include_excluded:
        scans.append("own")
        uniques.append("own_uniques")
    return " + ".join(scans), " + ".join(uniques)


class Increments:
    """What one batch adds: ``hours``/``days`` map (code, hour|day) to [humans, bots,
    uniques, bot uniques, own, own uniques]; ``parts``/``day_parts`` map (code, hour|day,
    dimension, value) to [humans, bots, own]."""

    __slots__ = ("day_parts", "days", "hours", "parts")

    def __init__(
        self,
        hours: dict[tuple[str, int], list[int]],
        parts: dict[tuple[str, int, str, str], list[int]],
    ) -> None:
        self.hours = hours
        self.parts = parts
        self.days: dict[tuple[str, int], list[int]] = _by_day(hours)
        self.day_parts: dict[tuple[str, int, str, str], list[int]] = _by_day(parts)


def _by_day(rows: dict[Any, list[int]]) -> dict[Any, list[int]]:
    """Hourly counter rows summed into daily ones (the hour, second in each key, becomes
    its day). Live scans bring one hour a day: most days are that hour's copy."""
    days: dict[Any, list[int]] = {}
    for key, counters in rows.items():
        day = (key[0], key[1] // 24, *key[2:])
        total = days.get(day)
        if total is None:
            days[day] = counters.copy()
        else:
            days[day] = [a + b for a, b in zip(total, counters, strict=True)]
    return days


class VisitorDays:
    """What the visitor sets hold before a batch: ``scans``, how many scans were added up
    so far (the clock that ``KEPT_SCANS`` counts in); ``newest``, the newest day with a set
    (None before the first); ``known``, for each day among the batch's that ever had a set,
    the clock at its last late or imported scan (None: none came)."""

    __slots__ = ("known", "newest", "scans")

    def __init__(self, scans: int, newest: int | None, known: dict[int, int | None]) -> None:
        self.scans = scans
        self.newest = newest
        self.known = known


class Rollup:
    """A batch added up, waiting for the first sightings among its visitor keys."""

    __slots__ = ("_counts", "_firsts", "days", "horizon", "scans")

    def __init__(
        self,
        counts: dict[tuple[str, int, Profile], int],
        firsts: dict[VisitorKey, tuple[int, int]],
        horizon: int | None,
        scans: int,
        days: dict[int, int | None],
    ) -> None:
        self._counts = counts
        self._firsts = firsts
        #: The newest day in the visitor sets after this batch (None: there are none).
        self.horizon = horizon
        #: The clock after this batch.
        self.scans = scans
        #: The days whose record to store (new ones, and those whose last late or imported
        #: scan moved), as in ``VisitorDays.known``.
        self.days = days

    @property
    def visitor_keys(self) -> list[VisitorKey]:
        """The (code, day, visitor) keys to store; those not stored before are first
        sightings."""
        return list(self._firsts)

    @property
    def gone(self) -> tuple[int, int] | None:
        """Visitor sets no longer needed: those of days up to the first number whose last
        late or imported scan is older than the second (or never came); None when there
        are no sets."""
        if self.horizon is None:
            return None
        return self.horizon - VISITOR_WINDOW_DAYS, self.scans - KEPT_SCANS

    def increments(self, first_sightings: Iterable[VisitorKey]) -> Increments:
        """The counters to add, given which visitor keys were new."""
        hours: dict[tuple[str, int], list[int]] = {}
        parts: dict[tuple[str, int, str, str], list[int]] = {}
        # All codes' rows are counted once per (hour, profile), whichever codes it came in.
        everywhere: dict[tuple[str, int, Profile], int] = {}
        for (_, hour, profile), n in self._counts.items():
            counted = (ALL_CODES, hour, profile)
            everywhere[counted] = everywhere.get(counted, 0) + n
        _count(hours, parts, self._counts)
        _count(hours, parts, everywhere)
        # A first sighting's hour is its first scan's, counted above.
        for key in first_sightings:
            hour, kind = self._firsts[key]
            hours[(key[0], hour)][_UNIQUES[kind]] += 1
        return Increments(hours, parts)


def _count(
    hours: dict[tuple[str, int], list[int]],
    parts: dict[tuple[str, int, str, str], list[int]],
    counts: dict[tuple[str, int, Profile], int],
) -> None:
    """Add the scans ``counts`` holds by (code, hour, profile) to their counters and to
    their breakdown rows."""
    for (code, hour, profile), n in counts.items():
        kind = profile.bot
        counters = hours.get((code, hour))
        if counters is None:
            counters = hours[(code, hour)] = [0] * COUNTERS
        counters[_SCANS[kind]] += n
        for dim, value in profile.dimensions:
            key = (code, hour, dim, value)
            found = parts.get(key)
            if found is None:
                found = parts[key] = [0] * PARTS
            found[kind] += n


class RollupRows:
    """Counts the rollup rows that facts added up together would touch: an hourly row and
    a breakdown row per dimension value, each for the code and for all codes, hourly and
    daily (the daily rows counted as if no two hours shared a day: an upper bound)."""

    __slots__ = ("_profiles", "_rows")

    def __init__(self) -> None:
        self._profiles: set[tuple[str, int, Profile]] = set()
        self._rows: set[tuple[str, int] | tuple[str, int, tuple[str, str]]] = set()

    def add(self, facts: Iterable[ScanFact]) -> int:
        """Count ``facts`` in too; the rows touched so far."""
        return self.add_keys(map(_COUNTED_BY, facts))

    def add_keys(self, keys: Iterable[tuple[str, int, Profile]]) -> int:
        """Count facts in by their (code, hour, profile) keys; the rows touched so far."""
        for key in keys:
            if key in self._profiles:
                continue
            self._profiles.add(key)
            slug, hour, profile = key
            self._rows.add((slug, hour))
            for part in profile.dimensions:
                self._rows.add((slug, hour, part))
        # Each row is counted for the code itself and for all codes, hourly and daily.
        return 4 * len(self._rows)


def ends_by_rows(facts: Sequence[ScanFact], limit: int) -> list[int]:
    """Where to cut ``facts`` (in log order) into parts whose rollups touch fewer than about
    ``limit`` rows each: every part but the last ends at the first fact that brings it to
    ``limit``; each part's end (an index past its last fact), the last ``len(facts)``."""
    # Live scans share a few (code, hour, profile) keys a batch: gathered at C speed, they
    # mostly show at once that the batch stays one part.
    if RollupRows().add_keys(set(map(_COUNTED_BY, facts))) < limit:
        return [len(facts)]
    ends: list[int] = []
    rows = RollupRows()
    for end, key in enumerate(map(_COUNTED_BY, facts), 1):
        if rows.add_keys((key,)) >= limit and end < len(facts):
            ends.append(end)
            rows = RollupRows()
    ends.append(len(facts))
    return ends


def visitor_days(facts: Iterable[ScanFact]) -> list[int]:
    """The days ``facts`` fall on: the ``VisitorDays.known`` to look up (a few for live
    scans, so the hours are gathered first, at C speed)."""
    return list({hour // 24 for hour in set(map(itemgetter(1), facts))})


def add_up(facts: Sequence[ScanFact], before: VisitorDays) -> Rollup:
    """Add up ``facts`` (in log order) onto the visitor sets as ``before`` describes them."""
    counts = Counter(map(_COUNTED_BY, facts))
    # Live scans are never late, nor imported: their batch is added up without the clock of
    # each scan (no day's record moves), at C speed where it can be. ``_in_log_order``
    # decides every batch alike; this is the same answer for batches it does not need.
    with_visitors = cast(
        "list[tuple[str, int, str, Profile]]", [fact for fact in facts if fact[2] is not None]
    )
    if not with_visitors:
        newest = before.newest
        return Rollup(counts, {}, newest, before.scans + len(facts), {})
    days = {hour // 24 for hour in set(map(itemgetter(1), with_visitors))}
    newest = max(days) if before.newest is None else max(before.newest, *days)
    if min(days) <= newest - VISITOR_WINDOW_DAYS or any(
        profile.imported for _, _, profile in counts
    ):
        return _in_log_order(facts, before, counts)
    firsts: dict[VisitorKey, tuple[int, int]] = {}
    # The first scan of each key is the last one written going backwards.
    for slug, hour, visitor, profile in reversed(with_visitors):
        day = hour // 24
        first = (hour, profile.bot)
        firsts[(slug, day, visitor)] = first
        firsts[(ALL_CODES, day, visitor)] = first
    changed: dict[int, int | None] = {day: None for day in days if day not in before.known}
    return Rollup(counts, firsts, newest, before.scans + len(facts), changed)


def _in_log_order(
    facts: Sequence[ScanFact], before: VisitorDays, counts: dict[tuple[str, int, Profile], int]
) -> Rollup:
    """``add_up`` scan by scan, each at its place on the clock (``counts`` made already)."""
    newest = before.newest if before.newest is not None else _NO_DAY
    known = dict(before.known)
    changed: dict[int, int | None] = {}
    # The (hour, bot) of the first scan in this batch of each (code, day, visitor) key that
    # could be a first sighting, for the code itself and for all codes.
    firsts: dict[VisitorKey, tuple[int, int]] = {}
    for clock, (slug, hour, visitor, profile) in enumerate(facts, before.scans):
        if visitor is None:
            continue
        day = hour // 24
        if day > newest:
            newest = day
        # A visitor counts once per code and UTC day, in the hour of its first scan. A day
        # more than the window behind the newest day seen has its set only while late or
        # imported scans keep coming for it (``KEPT_SCANS``); once that set is gone, a
        # scan of that day cannot be checked, so it never counts as a new visitor. A day
        # never seen before has nothing to check against: its set starts now. Each rule
        # depends only on the order of the log, so a rebuild in any batch size gives the
        # same figures.
        late = day <= newest - VISITOR_WINDOW_DAYS
        if day in known:
            last = known[day]
            if late and (last is None or last < clock - KEPT_SCANS):
                continue
        else:
            known[day] = changed[day] = None
        if late or profile.imported:
            known[day] = changed[day] = clock
        first = (hour, profile.bot)
        firsts.setdefault((slug, day, visitor), first)
        firsts.setdefault((ALL_CODES, day, visitor), first)
    horizon = None if newest == _NO_DAY else newest
    return Rollup(counts, firsts, horizon, before.scans + len(facts), changed)


def split_hours(start: int, end: int) -> tuple[list[tuple[int, int]], tuple[int, int]]:
    """Hours [start, end) as ragged hour ranges plus a run of whole UTC days [d0, d1).

    ``split_hours(5, 80)`` -> ``([(5, 24), (72, 80)], (1, 3))``.
    """
    first_day = -(-start // 24)
    last_day = end // 24
    if first_day >= last_day:
        return [(start, end)], (0, 0)
    ragged = [(start, first_day * 24), (last_day * 24, end)]
    return [(a, b) for a, b in ragged if a < b], (first_day, last_day)


def days_and_ragged_hours(
    start: int, end: int, select: str, params_for: Callable[[int, int], list[object]]
) -> tuple[str, list[object]]:
    """A UNION ALL over hours [start, end): whole UTC days from the daily table, the ragged
    edges from the hourly one. ``select`` names its table and column with ``{unit}``
    ("day" or "hour"); ``params_for(lo, hi)`` gives its parameters for one range."""
    ragged, (first_day, last_day) = split_hours(start, end)
    selects = [select.format(unit="day")]
    params = params_for(first_day, last_day)
    for lo, hi in ragged:
        selects.append(select.format(unit="hour"))
        params.extend(params_for(lo, hi))
    return " UNION ALL ".join(selects), params
