"""Rules through the HTTP API: each condition, their order, and what each scan records."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.http.routing.conftest import ANDROID, IPAD, IPHONE, LINUX, MAC, WINDOWS, Api, start

T = "https://example.com/"


def rule(target: str, **when: object) -> dict[str, object]:
    return {"when": when, "target": target}


@pytest.mark.parametrize(
    ("device", "agent", "other"),
    [("mobile", IPHONE, WINDOWS), ("tablet", IPAD, IPHONE), ("desktop", MAC, ANDROID)],
)
def test_a_device_rule_sends_that_device_and_no_other(
    api: Api, device: str, agent: str, other: str
) -> None:
    api.code(slug="d", target=T, rules=[rule("https://example.com/d", device=device)])
    assert api.went("/d", agent=agent) == "https://example.com/d"
    assert api.went("/d", agent=other) == T


@pytest.mark.parametrize(
    ("os", "agent", "other"),
    [
        ("ios", IPHONE, ANDROID),
        ("ios", IPAD, MAC),
        ("android", ANDROID, IPHONE),
        ("windows", WINDOWS, MAC),
        ("macos", MAC, WINDOWS),
        ("linux", LINUX, ANDROID),
        ("other", "SomeTV/1.0", LINUX),
    ],
)
def test_an_os_rule_sends_that_os_and_no_other(api: Api, os: str, agent: str, other: str) -> None:
    api.code(slug="o", target=T, rules=[rule("https://example.com/o", os=os)])
    assert api.went("/o", agent=agent) == "https://example.com/o"
    assert api.went("/o", agent=other) == T


def test_language_rules_follow_the_visitors_preference_in_q_order(api: Api) -> None:
    api.code(
        slug="lang",
        target=T,
        rules=[
            rule("https://example.com/en", language="en"),
            rule("https://example.com/de", language="de"),
            rule("https://example.com/br", language="pt-BR"),
        ],
    )
    # German is preferred over English, though the English rule comes first.
    assert api.went("/lang", language="en;q=0.5, de-AT") == "https://example.com/de"
    assert api.went("/lang", language="fr, en-GB;q=0.8, de;q=0.7") == "https://example.com/en"
    assert api.went("/lang", language="pt-br") == "https://example.com/br"
    # A primary-tag rule does not take a full tag's place: pt-PT is neither en, de nor pt-BR.
    assert api.went("/lang", language="pt-PT") == T
    # q=0 means "not this one"; nonsense entries are skipped, not fatal.
    assert api.went("/lang", language="de;q=0, en;q=banana, fr") == T
    assert api.went("/lang") == T
    assert api.went("/lang", language="," * 5000 + "de") == T  # only the first 20 entries


def test_a_country_rule_uses_the_trusted_proxys_country(api: Api) -> None:
    api.code(slug="c", target=T, rules=[rule("https://example.com/de", country="de")])
    assert api.went("/c", country="DE") == "https://example.com/de"
    assert api.went("/c", country="FR") == T
    assert api.went("/c") == T
    # Stored in capitals, as matched.
    assert api.client.get("/api/v1/codes/c", headers=api.headers).json()["rules"][0]["when"] == {
        "country": "DE"
    }


def test_a_query_rule_needs_every_named_parameter_with_its_value(api: Api) -> None:
    api.code(
        slug="qq",
        target=T,
        rules=[rule("https://example.com/poster", query={"utm_source": "poster", "v": "2"})],
    )
    assert api.went("/qq?utm_source=poster&v=2&x=1") == "https://example.com/poster"
    assert api.went("/q/qq?v=2&utm_source=poster") == "https://example.com/poster"
    assert api.went("/qq?utm_source=poster") == T
    assert api.went("/qq?utm_source=flyer&v=2") == T
    assert api.went("/qq?utm_source=poster%20&v=2") == T


def test_a_schedule_rule_follows_local_days_and_times(api: Api) -> None:
    lunch = {"tz": "Europe/Berlin", "days": ["mon", "tue"], "from": "11:00", "to": "15:00"}
    night = {"tz": "America/New_York", "from": "22:00", "to": "02:00"}
    api.code(
        slug="s",
        target=T,
        rules=[
            rule("https://example.com/lunch", schedule=lunch),
            rule("https://example.com/night", schedule=night),
        ],
    )
    at = api.clock.set
    at(datetime(2026, 12, 1, 12, 0, tzinfo=UTC))  # Tuesday 13:00 in Berlin
    assert api.went("/s") == "https://example.com/lunch"
    at(datetime(2026, 12, 1, 14, 0, tzinfo=UTC))  # 15:00 in Berlin: "to" is exclusive
    assert api.went("/s") == T
    at(datetime(2026, 12, 1, 10, 0, tzinfo=UTC))  # 11:00 in Berlin: "from" is inclusive
    assert api.went("/s") == "https://example.com/lunch"
    at(datetime(2026, 12, 2, 12, 0, tzinfo=UTC))  # a Wednesday
    assert api.went("/s") == T
    at(datetime(2026, 12, 2, 4, 30, tzinfo=UTC))  # 23:30 in New York, across midnight
    assert api.went("/s") == "https://example.com/night"
    at(datetime(2026, 12, 2, 6, 59, tzinfo=UTC))  # 01:59 in New York
    assert api.went("/s") == "https://example.com/night"
    at(datetime(2026, 12, 2, 7, 0, tzinfo=UTC))  # 02:00 in New York
    assert api.went("/s") == T


def test_the_first_rule_whose_conditions_all_hold_decides(api: Api) -> None:
    api.code(
        slug="f",
        target=T,
        rules=[
            rule("https://example.com/ios-de", os="ios", country="DE"),
            rule("https://example.com/ios", os="ios"),
            rule("https://example.com/de", country="DE"),
        ],
    )
    assert api.went("/f", agent=IPHONE, country="DE") == "https://example.com/ios-de"
    assert api.went("/f", agent=IPHONE, country="FR") == "https://example.com/ios"
    assert api.went("/f", agent=ANDROID, country="DE") == "https://example.com/de"
    assert api.went("/f", agent=ANDROID, country="FR") == T


def test_every_scan_records_its_target_and_rule_and_the_stats_count_them(api: Api) -> None:
    api.code(slug="r", target=T, rules=[rule("https://example.com/ios", os="ios")])
    api.went("/r", agent=IPHONE)
    api.went("/r", agent=IPHONE, ip="203.0.113.8")
    api.went("/r", agent=WINDOWS)
    scans = api.scans("r", expect=3)
    assert [(s["target"], s["rule"], s["outcome"]) for s in scans] == [
        ("https://example.com/ios", "rules[0]", "redirect"),
        ("https://example.com/ios", "rules[0]", "redirect"),
        (T, "target", "redirect"),
    ]
    stats = api.stats("r")
    assert stats["by_target"] == {"https://example.com/ios": 2, T: 1}
    assert stats["by_rule"] == {"rules[0]": 2, "target": 1}
    csv = api.client.get("/api/v1/codes/r/scans?format=csv", headers=api.headers).text
    header, *rows = csv.splitlines()
    assert header.endswith(",target,rule,outcome,excluded")
    assert rows[0].endswith(f",{T},target,redirect,false")


def test_a_code_without_routing_records_its_target_too(api: Api) -> None:
    api.code(slug="plain", target=T)
    api.went("/plain")
    [scan] = api.scans("plain", expect=1)
    assert (scan["target"], scan["rule"], scan["outcome"]) == (T, "target", "redirect")
    assert api.stats("plain")["by_rule"] == {"target": 1}


def test_rules_are_changed_reordered_and_removed_with_patch(api: Api) -> None:
    api.code(slug="p", target=T)
    assert api.went("/p", agent=IPHONE) == T
    ios, mobile = (
        rule("https://example.com/ios", os="ios"),
        rule("https://example.com/m", device="mobile"),
    )
    assert api.patch("p", rules=[ios, mobile]).status_code == 200
    assert api.went("/p", agent=IPHONE) == "https://example.com/ios"
    changed = api.patch("p", rules=[mobile, ios])
    assert changed.json()["rules"][0]["target"] == "https://example.com/m"
    assert api.went("/p", agent=IPHONE) == "https://example.com/m"
    assert api.patch("p", rules=[]).json()["rules"] == []
    assert api.went("/p", agent=IPHONE) == T


def test_a_permanent_status_becomes_temporary_on_a_code_that_decides_per_scan(api: Api) -> None:
    api.code(slug="perm", target=T, redirect_status=301)
    assert api.scan("/perm").status_code == 301
    api.patch("perm", rules=[rule("https://example.com/ios", os="ios")])
    # A cached 301 would skip the rules on the next scan.
    assert api.scan("/perm").status_code == 302
    api.code(slug="perm8", target=T, redirect_status=308, rules=[rule(T, os="ios")])
    assert api.scan("/perm8").status_code == 307


def test_routing_survives_a_restart(scanlet_db: str, tmp_path: Path) -> None:
    when = {"os": "ios", "schedule": {"tz": "Europe/Berlin", "days": ["tue"]}}
    for api in start(scanlet_db, tmp_path):
        api.code(slug="keep", target=T, rules=[rule("https://example.com/ios", **when)])
    for api in start(scanlet_db, tmp_path):
        assert api.went("/keep", agent=IPHONE) == "https://example.com/ios"
        assert api.went("/keep", agent=ANDROID) == T
