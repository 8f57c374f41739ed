"""Stored time text: fixed-width UTC with microseconds, whatever the input's zone."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scanlet.storage.timefmt import format_time, parse_time

ZONES = st.sampled_from([UTC, timezone(timedelta(hours=-5)), timezone(timedelta(minutes=330))])


def test_a_utc_time_keeps_six_fraction_digits_even_when_they_are_zero() -> None:
    assert format_time(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)) == "2026-01-02T03:04:05.000000Z"
    assert format_time(datetime(2026, 1, 2, 3, 4, 5, 10, tzinfo=UTC)) == (
        "2026-01-02T03:04:05.000010Z"
    )


def test_another_offset_is_converted_to_utc() -> None:
    moment = datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=timezone(timedelta(hours=2)))
    assert format_time(moment) == "2026-01-02T01:04:05.000006Z"


def test_a_naive_time_is_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        format_time(datetime(2026, 1, 2))


@given(st.datetimes(min_value=datetime(1000, 1, 2), timezones=ZONES))
def test_text_is_fixed_width_sorts_like_the_times_and_parses_back(moment: datetime) -> None:
    text = format_time(moment)
    reference = moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    assert text == reference
    assert parse_time(text) == moment
