"""The rollup arithmetic both storage adapters share: a batch of scan facts, added up.

A batch of hundreds of scans becomes one increment per (code, hour) counter and per (code,
hour, dimension, value) breakdown, and a set of (code, day, visitor) keys that may be first
sightings. The adapter stores the keys, learns which were new, and ``Rollup.increments``
turns that into the counters to add: the same figures whatever the engine, since only the
engine's own statements differ.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from operator import itemgetter

from scanlet.storage.ports import ALL_CODES
from scanlet.storage.records import BOT, HUMAN, OWN, Profile, ScanFact

__all__ = (
    "COUNTERS",
    "KEPT_SCANS",
    "PARTS",
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
        days: defaultdict[tuple[str, int], list[int]] = defaultdict(lambda: [0] * COUNTERS)
        for (slug, hour), counters in hours.items():
            total = days[(slug, hour // 24)]
            for i, n in enumerate(counters):
                total[i] += n
        day_parts: defaultdict[tuple[str, int, str, str], list[int]] = defaultdict(
            lambda: [0] * PARTS
        )
        for (slug, hour, dim, value), counts in parts.items():
            total = day_parts[(slug, hour // 24, dim, value)]
            for i, n in enumerate(counts):
                total[i] += n
        self.days = dict(days)
        self.day_parts = dict(day_parts)


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
        hours: defaultdict[tuple[str, int], list[int]] = defaultdict(lambda: [0] * COUNTERS)
        parts: defaultdict[tuple[str, int, str, str], list[int]] = defaultdict(lambda: [0] * PARTS)
        for (slug, hour, profile), n in self._counts.items():
            kind = profile.bot
            scans = _SCANS[kind]
            for code in (slug, ALL_CODES):
                hours[(code, hour)][scans] += n
                for dim, value in profile.dimensions:
                    parts[(code, hour, dim, value)][kind] += n
        for key in first_sightings:
            hour, kind = self._firsts[key]
            hours[(key[0], hour)][_UNIQUES[kind]] += 1
        return Increments(dict(hours), dict(parts))


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
        for slug, hour, _visitor, profile in facts:
            key = (slug, hour, profile)
            if key in self._profiles:
                continue
            self._profiles.add(key)
            self._rows.add((slug, hour))
            for part in profile.dimensions:
                self._rows.add((slug, hour, part))
        # Each row is counted for the code itself and for all codes, hourly and daily.
        return 4 * len(self._rows)


def visitor_days(facts: Iterable[ScanFact]) -> list[int]:
    """The days ``facts`` fall on: the ``VisitorDays.known`` to look up (a few for live
    scans, so the hours are gathered first, at C speed)."""
    return list({hour // 24 for hour in set(map(itemgetter(1), facts))})


def add_up(facts: Sequence[ScanFact], before: VisitorDays) -> Rollup:
    """Add up ``facts`` (in log order) onto the visitor sets as ``before`` describes them."""
    newest = before.newest if before.newest is not None else _NO_DAY
    known = dict(before.known)
    changed: dict[int, int | None] = {}
    counts: dict[tuple[str, int, Profile], int] = {}
    # The (hour, bot) of the first scan in this batch of each (code, day, visitor) key that
    # could be a first sighting, for the code itself and for all codes.
    firsts: dict[VisitorKey, tuple[int, int]] = {}
    for clock, (slug, hour, visitor, profile) in enumerate(facts, before.scans):
        key = (slug, hour, profile)
        counts[key] = counts.get(key, 0) + 1
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
