"""Fallback, the A/B split and query forwarding through the HTTP API."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from tests.http.routing.conftest import IPHONE, Api

T = "https://example.com/"
GONE = "https://example.com/over"


def test_a_disabled_code_with_a_fallback_redirects_there_and_records_it(api: Api) -> None:
    api.code(slug="fb", target=T, fallback_url=GONE)
    assert api.went("/fb") == T
    api.patch("fb", enabled=False)
    reply = api.scan("/fb")
    assert (reply.status_code, reply.headers["location"]) == (302, GONE)
    scans = api.scans("fb", expect=2)
    assert [(s["target"], s["rule"], s["outcome"]) for s in scans] == [
        (T, "target", "redirect"),
        (GONE, "fallback_url", "fallback"),
    ]
    assert api.stats("fb")["by_rule"] == {"target": 1, "fallback_url": 1}


def test_expired_and_not_yet_valid_codes_fall_back_and_without_one_answer_410(api: Api) -> None:
    later = (api.clock.now() + timedelta(days=1)).isoformat()
    earlier = (api.clock.now() - timedelta(days=1)).isoformat()
    api.code(slug="soon", target=T, valid_from=later, fallback_url=GONE)
    api.code(slug="past", target=T, valid_until=earlier, fallback_url=GONE, redirect_status=301)
    api.code(slug="bare", target=T, valid_until=earlier)
    assert api.went("/soon") == GONE
    # A fallback is temporary, whatever the code's own status.
    assert (api.scan("/q/past").status_code, api.went("/q/past")) == (302, GONE)
    assert api.scan("/bare").status_code == 410
    assert api.scans("bare") == []


def test_a_used_up_code_falls_back_and_its_fallback_scans_do_not_count_as_used(api: Api) -> None:
    api.code(slug="once", target=T, max_scans=1, fallback_url=GONE)
    assert api.went("/once") == T
    assert api.went("/once") == GONE
    assert api.went("/once", traced=True) == GONE
    code = api.client.get("/api/v1/codes/once", headers=api.headers).json()
    assert code["scans"] == 1
    assert [s["outcome"] for s in api.scans("once", expect=3)] == [
        "redirect",
        "fallback",
        "fallback",
    ]
    # Clearing the fallback brings the 410 back.
    api.patch("once", fallback_url=None)
    assert api.scan("/once").status_code == 410


def test_a_split_is_sticky_per_visitor_per_day_and_spreads_visitors(api: Api) -> None:
    arms = [
        {"target": "https://example.com/a", "weight": 50},
        {"target": "https://example.com/b", "weight": 50},
    ]
    api.code(slug="ab", target=T, split=arms)
    visitors = [f"198.51.100.{n}" for n in range(1, 61)]
    first = {ip: api.went("/ab", ip=ip) for ip in visitors}
    # The same visitor gets the same arm all day, by either entrance.
    api.clock.advance(timedelta(hours=5))
    assert {ip: api.went("/ab", ip=ip, traced=True) for ip in visitors} == first
    shares = Counter(first.values())
    assert set(shares) == {"https://example.com/a", "https://example.com/b"}
    # Another day is another draw: some visitor moves (60 coin flips all the same: 2^-60).
    api.clock.set(datetime(2026, 12, 2, 12, 0, tzinfo=UTC))
    assert {ip: api.went("/ab", ip=ip) for ip in visitors} != first
    scans = api.scans("ab", expect=180)
    assert {s["rule"] for s in scans} == {"split[0]", "split[1]"}


def test_rules_come_before_the_split(api: Api) -> None:
    arms = [{"target": "https://example.com/a", "weight": 1}] * 2
    api.code(
        slug="rs",
        target=T,
        split=arms,
        rules=[{"when": {"os": "ios"}, "target": "https://example.com/ios"}],
    )
    assert api.went("/rs", agent=IPHONE) == "https://example.com/ios"
    assert api.went("/rs", agent="Mozilla/5.0 (Windows NT 10.0)") == "https://example.com/a"


def test_forward_query_merges_the_scans_parameters_into_the_target(api: Api) -> None:
    api.code(slug="fq", target="https://example.com/p?lang=en&keep=1#top", forward_query=True)
    assert api.went("/fq?lang=de&utm_source=poster") == (
        "https://example.com/p?keep=1&lang=de&utm_source=poster#top"
    )
    assert api.went("/fq") == "https://example.com/p?lang=en&keep=1#top"
    # Whatever the scan's query holds, the Location stays one well-formed, encoded URL.
    hostile = api.went('/fq?x=%0d%0aSet-Cookie:%20a=b&y=%E2%82%AC&<z>="')
    assert hostile == (
        "https://example.com/p?lang=en&keep=1&x=%0D%0ASet-Cookie%3A%20a%3Db&y=%E2%82%AC"
        "&%3Cz%3E=%22#top"
    )
    api.code(slug="fq2", target="https://example.com/", forward_query=True, fallback_url=GONE)
    api.patch("fq2", enabled=False)
    assert api.went("/fq2?a=1") == GONE + "?a=1"


def test_without_forward_query_the_scans_query_is_dropped(api: Api) -> None:
    api.code(slug="nf", target="https://example.com/p?x=1")
    assert api.went("/nf?utm=1") == "https://example.com/p?x=1"
