"""The documented span of client times agrees with the one check every entrance calls."""

import re
from datetime import UTC, datetime

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


@pytest.mark.parametrize(
    ("text", "matches"),
    [
        ("1969-12-31T23:59:59Z", False),
        ("1970-01-01T00:00:00Z", True),
        ("2026-06-01T12:00:00+02:00", True),
        ("8999-12-31T23:59:59Z", True),
        ("9000-01-01T00:00:01Z", False),
        ("0001-01-01T00:30:00+01:00", False),
    ],
)
def test_the_edges_of_the_documented_span(text: str, matches: bool) -> None:
    assert bool(re.search(PATTERN, text)) == matches
    assert (time_error(datetime.fromisoformat(text)) is None) == matches


def test_the_bounds_are_whole_years_the_pattern_can_name() -> None:
    # If either bound moves, the year pattern must move with it.
    assert datetime(1970, 1, 1, tzinfo=UTC) == EARLIEST
    assert datetime(9000, 1, 1, tzinfo=UTC) == LATEST
