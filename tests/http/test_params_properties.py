"""Property tests: no query string makes a parser raise anything but a 422 problem."""

import re
from datetime import datetime, timedelta
from typing import cast
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from hypothesis import example, given, settings
from hypothesis import strategies as st
from starlette.requests import Request

from scanlet.actors.analytics.buckets import INTERVALS, Interval, TooManyBuckets, bucket_bounds
from scanlet.actors.webhooks.signing import EVENT_TYPES
from scanlet.http.params import (
    query_bool,
    query_choice,
    query_int,
    query_str,
    query_time,
    query_zone,
)
from scanlet.http.problems import Problem
from scanlet.http.stats_api import time_range
from scanlet.http.stream import LAST_EVENT_ID_PATTERN, MAX_TYPES_LENGTH, TYPES_PATTERN
from scanlet.http.stream import _last_event_id as last_event_id
from scanlet.http.stream import _types as stream_types

# Any text a URL can carry, including surrogate-free unicode, controls and digits of all
# scripts ("١٢" is a digit to str.isdigit but no integer here).
values = st.text(st.characters(exclude_categories=["Cs"]), max_size=80)
times = st.one_of(
    values,
    st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat()),
    st.datetimes().map(lambda d: d.isoformat()),
)


def request(**params: str) -> Request:
    query = urlencode(params).encode()
    return Request({"type": "http", "method": "GET", "query_string": query, "headers": []})


def assert_422(problem: Problem, name: str) -> None:
    assert problem.status == 422
    assert problem.errors is not None
    assert problem.errors[0].loc == ["query", name]


@given(values)
@example("١٢")
@example("-1")
@example("9" * 400)
def test_query_int_returns_a_bounded_integer_or_a_422(raw: str) -> None:
    try:
        value = query_int(request(limit=raw), "limit", default=50, low=1, high=1000)
    except Problem as problem:
        assert_422(problem, "limit")
    else:
        assert 1 <= value <= 1000


@given(values)
def test_text_choice_and_bool_parsers_only_refuse_with_422(raw: str) -> None:
    req = request(q=raw, interval=raw, include_bots=raw)
    for parse, name in (
        (lambda: query_str(req, "q", max_length=16), "q"),
        (lambda: query_choice(req, "interval", INTERVALS, "day"), "interval"),
        (lambda: query_bool(req, "include_bots", default=False), "include_bots"),
    ):
        try:
            parse()
        except Problem as problem:
            assert_422(problem, name)


@given(times)
@example("2026-01-01T00:00:00z")
@example("0001-01-01T00:00:00+00:00")
@example("9999-12-31T23:59:59-23:59")
def test_query_time_gives_an_aware_time_or_a_422(raw: str) -> None:
    try:
        value = query_time(request(**{"from": raw}), "from")
    except Problem as problem:
        assert_422(problem, "from")
    else:
        assert value is not None
        assert value.tzinfo is not None


@given(times, times)
def test_a_stats_range_is_in_order_and_in_bounds_or_a_422(start: str, end: str) -> None:
    try:
        first, last = time_range(request(**{"from": start, "to": end}))
    except Problem as problem:
        assert_422(problem, str(problem.errors[0].loc[1]) if problem.errors else "")
    else:
        assert first is not None
        assert last is not None
        assert first < last


@given(values)
@example("Europe")
@example("../../etc/passwd")
@example("/etc/localtime")
@example("Europe/Berlin\x00")
@example(".")
def test_a_time_zone_name_is_known_or_a_422(raw: str) -> None:
    try:
        name = query_zone(request(tz=raw))
    except Problem as problem:
        assert_422(problem, "tz")
    else:
        ZoneInfo(name)


@settings(max_examples=200)
@given(
    st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(8999, 1, 1)),
    st.integers(min_value=1, max_value=400 * 24),
    st.sampled_from(INTERVALS),
    st.sampled_from(["UTC", "Europe/Berlin", "Asia/Kolkata", "America/St_Johns"]),
)
def test_buckets_are_bounded_or_refused_with_too_many_buckets(
    start: datetime, hours: int, interval: str, zone: str
) -> None:
    tz = ZoneInfo(zone)
    begin = start.replace(tzinfo=tz)
    try:
        end = begin + timedelta(hours=hours)
        bounds = bucket_bounds(begin, end, cast(Interval, interval), tz)
    except TooManyBuckets:
        return
    assert 2 <= len(bounds) <= 10_001
    assert bounds == sorted(bounds)


type_lists = st.lists(
    st.sampled_from([*EVENT_TYPES, "", " ", "\t", "code", "scan.recorded ", "*"]), max_size=5
).map(",".join)


@given(st.one_of(type_lists, values))
@example("code.created,,scan.recorded")
@example(" , ")
def test_the_stream_types_pattern_matches_exactly_what_the_stream_accepts(raw: str) -> None:
    try:
        stream_types(request(types=raw))
    except Problem as problem:
        assert_422(problem, "types")
        assert not re.search(TYPES_PATTERN, raw) or len(raw) > MAX_TYPES_LENGTH
    else:
        assert re.search(TYPES_PATTERN, raw)


@given(st.one_of(st.from_regex(r"[ \t]*[0-9]{0,20}[ \t]*", fullmatch=True), values))
def test_the_last_event_id_pattern_matches_exactly_what_the_stream_accepts(raw: str) -> None:
    headers = [(b"last-event-id", raw.encode("latin-1", "replace"))]
    scope = {"type": "http", "method": "GET", "query_string": b"", "headers": headers}
    sent = headers[0][1].decode("latin-1")
    try:
        last_event_id(Request(scope))
    except Problem:
        assert not re.search(LAST_EVENT_ID_PATTERN, sent)
    else:
        assert re.search(LAST_EVENT_ID_PATTERN, sent)
