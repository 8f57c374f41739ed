"""``add_up`` and ``Rollup.increments`` against the rules written out scan by scan.

``add_up`` takes a batch of live scans (none late, none imported) without walking the
clock scan by scan, and ``increments`` counts all codes' rows once per (hour, profile):
both must give exactly what the plain reading of the rules gives, for any batch.
"""

from __future__ import annotations

from unittest import mock

from hypothesis import given, settings
from hypothesis import strategies as st

from scanlet.storage import rollups
from scanlet.storage.ports import ALL_CODES
from scanlet.storage.records import BOT, HUMAN, OWN, Profile, ScanFact
from scanlet.storage.rollups import COUNTERS, PARTS, Rollup, VisitorDays, add_up

PROFILES = [
    Profile(bot=False, dimensions=(("source", "qr"), ("device", "mobile"))),
    Profile(bot=False, dimensions=(("source", "qr"), ("device", "desktop"))),
    Profile(bot=True, dimensions=(("source", "link"), ("device", "bot"))),
    Profile(bot=False, dimensions=(("source", "qr"), ("device", "mobile")), own=True),
    Profile(bot=False, dimensions=(("source", "import"), ("device", "mobile"))),
]
LIVE_PROFILES = [p for p in PROFILES if not p.imported]
#: Hours since the epoch around day 1000: the same day, the days around it, a week back.
DAY = 1000


def facts(profiles: list[Profile], hours: st.SearchStrategy[int]) -> st.SearchStrategy[ScanFact]:
    return st.tuples(
        st.sampled_from(["menu", "flyer", "card"]),
        hours,
        st.sampled_from([None, "v1", "v2", "v3"]),
        st.sampled_from(profiles),
    )


ANY_HOUR = st.integers((DAY - 7) * 24, (DAY + 1) * 24 + 23)
#: Hours of two neighbouring days: no scan of such a batch is ever late.
LIVE_HOUR = st.integers(DAY * 24, DAY * 24 + 47)


@st.composite
def befores(draw: st.DrawFn) -> VisitorDays:
    newest = draw(st.one_of(st.none(), st.integers(DAY - 5, DAY + 2)))
    known = draw(
        st.dictionaries(
            st.integers(DAY - 7, DAY + 2), st.one_of(st.none(), st.integers(0, 5000)), max_size=4
        )
    )
    return VisitorDays(draw(st.integers(0, 5000)), newest, known)


def scan_by_scan(facts: list[ScanFact], before: VisitorDays) -> Rollup:
    """``add_up`` as its rules read: every scan at its place on the clock."""
    counts: dict[tuple[str, int, Profile], int] = {}
    for slug, hour, _, profile in facts:
        counts[(slug, hour, profile)] = counts.get((slug, hour, profile), 0) + 1
    return rollups._in_log_order(facts, before, counts)


def parts_of(rollup: Rollup) -> tuple[object, ...]:
    return (
        dict(rollup._counts),
        dict(rollup._firsts),
        rollup.horizon,
        rollup.scans,
        dict(rollup.days),
    )


@settings(max_examples=400, deadline=None)
@given(st.lists(facts(PROFILES, ANY_HOUR), max_size=40), befores(), st.sampled_from([3, 10**6]))
def test_a_batch_adds_up_as_scan_by_scan_whatever_it_holds(
    batch: list[ScanFact], before: VisitorDays, kept: int
) -> None:
    with mock.patch.object(rollups, "KEPT_SCANS", kept):
        assert parts_of(add_up(batch, before)) == parts_of(scan_by_scan(batch, before))


@settings(max_examples=200, deadline=None)
@given(st.lists(facts(LIVE_PROFILES, LIVE_HOUR), min_size=1, max_size=40), befores())
def test_a_batch_of_live_scans_adds_up_as_scan_by_scan(
    batch: list[ScanFact], before: VisitorDays
) -> None:
    # Most of these take the batch's own way (the newest day seen is at most two back).
    assert parts_of(add_up(batch, before)) == parts_of(scan_by_scan(batch, before))


def expanded(batch: list[ScanFact], new: set[tuple[str, int, str]]) -> tuple[object, ...]:
    """The counters of ``batch`` scan by scan, for its code and all codes, given the new
    visitor keys (each counted in the hour of its first scan)."""
    slots = {HUMAN: 0, BOT: 1, OWN: 4}
    uniques = {HUMAN: 2, BOT: 3, OWN: 5}
    hours: dict[tuple[str, int], list[int]] = {}
    parts: dict[tuple[str, int, str, str], list[int]] = {}
    seen: set[tuple[str, int, str]] = set()
    for slug, hour, visitor, profile in batch:
        for code in (slug, ALL_CODES):
            row = hours.setdefault((code, hour), [0] * COUNTERS)
            row[slots[profile.bot]] += 1
            key = (code, hour // 24, visitor or "")
            if visitor is not None and key in new and key not in seen:
                seen.add(key)
                row[uniques[profile.bot]] += 1
            for dim, value in profile.dimensions:
                parts.setdefault((code, hour, dim, value), [0] * PARTS)[profile.bot] += 1
    days: dict[tuple[object, ...], list[int]] = {}
    for table in (hours, parts):
        for (code, hour, *rest), counts in table.items():
            total = days.setdefault((code, hour // 24, *rest), [0] * len(counts))
            for i, n in enumerate(counts):
                total[i] += n
    return hours, parts, days


@settings(max_examples=300, deadline=None)
@given(st.lists(facts(PROFILES, ANY_HOUR), max_size=40), st.data())
def test_increments_are_the_counters_of_each_scan_for_its_code_and_all_codes(
    batch: list[ScanFact], data: st.DataObject
) -> None:
    rollup = add_up(batch, VisitorDays(0, None, {}))
    keys = rollup.visitor_keys
    new = set(data.draw(st.lists(st.sampled_from(keys)))) if keys else set()
    added = rollup.increments(new)
    hours, parts, days = expanded(batch, new)
    assert added.hours == hours
    assert added.parts == parts
    daily = [*added.days.items(), *added.day_parts.items()]
    assert dict(daily) == days
