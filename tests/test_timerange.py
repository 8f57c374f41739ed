"""The documented span of client times agrees with the one check every entrance calls."""

import calendar
import re
from datetime import UTC, datetime, timedelta

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from scanlet.timerange import EARLIEST, LATEST, TIME_SCHEMA, time_error

PATTERN = TIME_SCHEMA["pattern"]


@given(st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)))
def test_a_utc_time_matches_the_pattern_exactly_when_it_is_accepted(moment: datetime) -> None:
    aware = moment.replace(tzinfo=UTC)
    text = aware.isoformat().replace("+00:00", "Z")
    # The pattern reads the written year, so it leaves out the one accepted instant of 9000.
    accepted = time_error(aware) is None and aware != LATEST
    assert bool(re.search(PATTERN, text)) == accepted


@given(st.from_regex(PATTERN, fullmatch=True))
def test_every_time_the_pattern_matches_is_read_by_both_parsers_and_accepted(text: str) -> None:
    parsed = msgspec.json.decode(msgspec.json.encode(text), type=datetime)
    # (Digits past microseconds: msgspec rounds them, fromisoformat drops them.)
    assert abs(parsed - datetime.fromisoformat(text.replace("z", "Z"))) <= timedelta(microseconds=1)
    # Only an offset can carry a time written in 1970 or 8999 out of the span.
    in_utc = parsed.astimezone(UTC)
    near_an_edge = in_utc < EARLIEST + timedelta(days=1) or in_utc > LATEST - timedelta(days=1)
    assert time_error(parsed) is None or near_an_edge


@pytest.mark.parametrize(
    ("text", "matches"),
    [
        ("1969-12-31T23:59:59Z", False),
        ("1970-01-01T00:00:00Z", True),
        ("2026-06-01T12:00:00.123456789+02:00", True),
        ("2024-02-29T00:00:00Z", True),
        ("2000-02-29T00:00:00z", True),
        ("8800-02-29T00:00:00Z", True),
        ("9200-02-29T00:00:00Z", False),
        ("1968-02-29T00:00:00Z", False),
        ("8999-12-31T23:59:59Z", True),
        ("9000-01-01T00:00:01Z", False),
        ("0001-01-01T00:30:00+01:00", False),
    ],
)
def test_the_edges_of_the_documented_span(text: str, matches: bool) -> None:
    assert bool(re.search(PATTERN, text)) == matches
    assert (time_error(datetime.fromisoformat(text.replace("z", "Z"))) is None) == matches


def test_every_year_and_its_29_february_match_exactly_when_they_exist_in_the_span() -> None:
    for year in range(1000, 10000):
        in_span = 1970 <= year <= 8999
        assert bool(re.search(PATTERN, f"{year}-03-01T00:00:00Z")) == in_span, year
        leap_day = f"{year}-02-29T00:00:00Z"
        assert bool(re.search(PATTERN, leap_day)) == (in_span and calendar.isleap(year)), year


@pytest.mark.parametrize(
    "text",
    [
        "1970-",
        "2026-02-29T00:00:00Z",
        "2100-02-29T00:00:00Z",
        "2026-04-31T00:00:00Z",
        "2026-01-01T24:00:00Z",
        "2026-01-01T00:00:60Z",
        "2026-01-01T00:00:00",
        "2026-01-01",
    ],
)
def test_what_is_no_time_does_not_match(text: str) -> None:
    assert not re.search(PATTERN, text)


def test_the_bounds_are_the_ones_the_pattern_names() -> None:
    # If either bound moves, the year pattern must move with it.
    assert datetime(1970, 1, 1, tzinfo=UTC) == EARLIEST
    assert datetime(9000, 1, 1, tzinfo=UTC) == LATEST
