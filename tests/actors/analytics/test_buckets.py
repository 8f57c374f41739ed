"""Buckets are local calendar periods, built in local time and converted to UTC hours."""

from datetime import UTC, datetime
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest

from scanlet.actors.analytics.buckets import MAX_BUCKETS, TooManyBuckets, bucket_bounds

BERLIN = ZoneInfo("Europe/Berlin")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def hours(bounds: list[int]) -> list[str]:
    return [datetime.fromtimestamp(h * 3600, UTC).strftime("%Y-%m-%dT%H") for h in bounds]


def test_the_spring_forward_day_is_23_hours_long() -> None:
    bounds = bucket_bounds(at("2026-03-28T12:00Z"), at("2026-03-30T12:00Z"), "day", BERLIN)
    assert hours(bounds) == ["2026-03-27T23", "2026-03-28T23", "2026-03-29T22", "2026-03-30T22"]
    assert [b - a for a, b in pairwise(bounds)] == [24, 23, 24]


def test_the_fall_back_day_is_25_hours_long() -> None:
    bounds = bucket_bounds(
        at("2026-10-25T00:00+02:00"), at("2026-10-26T00:00+01:00"), "day", BERLIN
    )
    assert hours(bounds) == ["2026-10-24T22", "2026-10-25T23"]


def test_weeks_start_on_monday_and_months_on_the_first_in_local_time() -> None:
    weeks = bucket_bounds(at("2026-03-25T10:00Z"), at("2026-04-02T00:00Z"), "week", BERLIN)
    assert hours(weeks) == ["2026-03-22T23", "2026-03-29T22", "2026-04-05T22"]
    months = bucket_bounds(at("2026-01-15T00:00Z"), at("2026-03-02T00:00Z"), "month", BERLIN)
    assert hours(months) == ["2025-12-31T23", "2026-01-31T23", "2026-02-28T23", "2026-03-31T22"]
    december = bucket_bounds(
        at("2026-12-10T00:00Z"), at("2027-01-02T00:00Z"), "month", ZoneInfo("UTC")
    )
    assert hours(december) == ["2026-12-01T00", "2027-01-01T00", "2027-02-01T00"]


def test_hour_buckets_cover_the_range_in_utc_hours() -> None:
    bounds = bucket_bounds(at("2026-01-01T10:30Z"), at("2026-01-01T12:00Z"), "hour", BERLIN)
    assert hours(bounds) == ["2026-01-01T10", "2026-01-01T11", "2026-01-01T12"]


def test_half_hour_zones_start_their_days_at_the_enclosing_utc_hour() -> None:
    kolkata = ZoneInfo("Asia/Kolkata")
    bounds = bucket_bounds(
        at("2026-01-02T00:00+05:30"), at("2026-01-03T00:00+05:30"), "day", kolkata
    )
    assert hours(bounds) == ["2026-01-01T18", "2026-01-02T18"]


def test_a_range_with_too_many_buckets_is_refused() -> None:
    with pytest.raises(TooManyBuckets):
        bucket_bounds(at("2000-01-01T00:00Z"), at("2026-01-01T00:00Z"), "hour", BERLIN)
    days = bucket_bounds(at("2000-01-01T00:00Z"), at("2026-01-01T00:00Z"), "day", BERLIN)
    assert len(days) - 1 <= MAX_BUCKETS
