"""Property: whichever entrance serves a scan (the raw front, or the Starlette route that
traced requests take), the routing decision and what is recorded of it are the same."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.http.routing.conftest import ANDROID, IPAD, IPHONE, LINUX, MAC, WINDOWS, Api

AGENTS = [IPHONE, ANDROID, IPAD, WINDOWS, MAC, LINUX, "", "curl/8.0"]
LANGUAGES = [None, "de", "en;q=0.5, de-AT", "pt-BR, en;q=0.1", "fr;q=0, *", "en-GB,en;q=0.9"]
COUNTER = itertools.count()
TIMES = ["00:00", "06:30", "11:00", "15:00", "22:00", "23:59"]

conditions = st.fixed_dictionaries(
    {},
    optional={
        "device": st.sampled_from(["mobile", "tablet", "desktop"]),
        "os": st.sampled_from(["ios", "android", "windows", "macos", "linux", "other"]),
        "language": st.sampled_from(["de", "en", "pt-BR", "fr"]),
        "country": st.sampled_from(["DE", "FR", "us"]),
        "query": st.sampled_from([{"a": "1"}, {"b": ""}, {"a": "1", "b": "2"}]),
        "schedule": st.fixed_dictionaries(
            {"tz": st.sampled_from(["UTC", "Europe/Berlin", "Asia/Kolkata"])},
            optional={
                "days": st.lists(
                    st.sampled_from(["mon", "tue", "wed", "thu", "fri", "sat", "sun"]),
                    min_size=1,
                    max_size=7,
                ),
                "from": st.sampled_from(TIMES),
                "to": st.sampled_from(TIMES),
            },
        ).filter(lambda s: len(s) > 1 and s.get("from") != s.get("to")),
    },
).filter(bool)
rules = st.lists(
    st.builds(
        lambda when, n: {"when": when, "target": f"https://example.com/r{n}"},
        conditions,
        st.integers(0, 9),
    ),
    max_size=5,
)
splits = st.one_of(
    st.just([]),
    st.lists(
        st.builds(
            lambda n, w: {"target": f"https://example.com/s{n}", "weight": w},
            st.integers(0, 9),
            st.integers(1, 100),
        ),
        min_size=2,
        max_size=4,
    ),
)
requests = st.fixed_dictionaries(
    {
        "agent": st.sampled_from(AGENTS),
        "ip": st.builds(lambda a, b: f"198.51.{a}.{b}", st.integers(0, 255), st.integers(1, 254)),
        "language": st.sampled_from(LANGUAGES),
        "country": st.sampled_from([None, "DE", "FR", "US", "XX"]),
    }
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    rules=rules,
    split=splits,
    forward=st.booleans(),
    enabled=st.booleans(),
    query=st.sampled_from(["", "?a=1", "?a=1&b=2", "?b=", "?a=2&c=%E2%82%AC"]),
    qr=st.booleans(),
    minutes=st.integers(0, 7 * 24 * 60),
    request=requests,
)
def test_both_entrances_decide_the_same(
    api: Api,
    rules: list[dict[str, Any]],
    split: list[dict[str, Any]],
    forward: bool,
    enabled: bool,
    query: str,
    qr: bool,
    minutes: int,
    request: dict[str, Any],
) -> None:
    # A code per example: its two scans are the code's only ones.
    slug = f"p{next(COUNTER)}"
    api.code(slug=slug, target="https://example.com/t", fallback_url="https://example.com/f")
    changed = api.patch(slug, rules=rules, split=split, forward_query=forward, enabled=enabled)
    assert changed.status_code == 200, changed.text
    path = f"/q/{slug}" if qr else f"/{slug}"
    api.clock.set(datetime(2026, 11, 30, tzinfo=UTC) + timedelta(minutes=minutes))
    front = api.scan(path + query, **request)
    route = api.scan(path + query, traced=True, **request)
    # They did come by different entrances: only the full stack names the request.
    assert "x-request-id" not in front.headers
    assert "x-request-id" in route.headers
    assert front.status_code == route.status_code == 302
    assert front.headers["location"] == route.headers["location"]
    first, second = api.scans(slug, expect=2)
    for field in ("target", "rule", "outcome", "ip", "visitor", "country", "source"):
        assert first[field] == second[field]
    assert first["target"] in front.headers["location"]
