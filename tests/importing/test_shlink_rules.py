"""Shlink's redirect rules and device long URLs as Scanlet rules: what maps, what is left
out and why (the import of them end to end is in ``test_shlink``)."""

from __future__ import annotations

from scanlet.actors.codes.routing import MAX_RULES
from scanlet.importing.sources.shlink_rules import (
    DeviceLongUrls,
    ShlinkCondition,
    ShlinkRule,
    carry_device_urls,
    carry_rules,
)


def rule(
    url: str, *conditions: tuple[str, str | None, str | None], priority: int = 1
) -> ShlinkRule:
    return ShlinkRule(
        longUrl=url,
        priority=priority,
        conditions=[ShlinkCondition(kind, key, value) for kind, key, value in conditions],
    )


def test_rules_come_over_in_priority_order_with_their_conditions_mapped() -> None:
    carried = carry_rules(
        [
            rule("https://e.x/fr", ("language", None, "fr_CA"), priority=3),
            rule("https://e.x/android", ("device", None, "android"), priority=1),
            rule(
                "https://e.x/poster-es",
                ("query-param", "utm", "poster"),
                ("geolocation-country-code", None, "es"),
                priority=2,
            ),
            rule("https://e.x/debug", ("valueless-query-param", "debug", None), priority=4),
            rule(
                "https://e.x/desk",
                ("device", None, "desktop"),
                ("device", None, "windows"),
                priority=5,
            ),
        ]
    )
    assert carried.dropped == []
    assert carried.rules == [
        {"when": {"os": "android"}, "target": "https://e.x/android"},
        {"when": {"query": {"utm": "poster"}, "country": "ES"}, "target": "https://e.x/poster-es"},
        {"when": {"language": "fr-CA"}, "target": "https://e.x/fr"},
        {"when": {"query": {"debug": ""}}, "target": "https://e.x/debug"},
        {"when": {"device": "desktop", "os": "windows"}, "target": "https://e.x/desk"},
    ]


def test_mobile_becomes_one_rule_for_ios_and_one_for_android() -> None:
    carried = carry_rules(
        [rule("https://e.x/m", ("device", None, "mobile"), ("language", None, "de"))]
    )
    assert carried.rules == [
        {"when": {"os": "ios", "language": "de"}, "target": "https://e.x/m"},
        {"when": {"os": "android", "language": "de"}, "target": "https://e.x/m"},
    ]
    # Mobile and iOS at once is iOS, once.
    both = carry_rules([rule("https://e.x/i", ("device", None, "mobile"), ("device", None, "ios"))])
    assert both.rules == [{"when": {"os": "ios"}, "target": "https://e.x/i"}]


def test_a_rule_scanlet_cannot_express_is_left_out_whole_with_the_reason() -> None:
    carried = carry_rules(
        [
            rule("https://e.x/lan", ("ip-address", None, "10.0.0.0/8"), ("language", None, "en")),
            rule("https://e.x/chrome", ("browser", None, "chrome"), priority=2),
            rule("https://e.x/cros", ("device", None, "chromeos"), priority=3),
            rule("https://e.x/any", ("any-value-query-param", "ref", None), priority=4),
            rule(
                "https://e.x/never",
                ("device", None, "ios"),
                ("device", None, "android"),
                priority=5,
            ),
            rule("https://e.x/q", ("query-param", "a", "1"), ("query-param", "a", "2"), priority=6),
            rule("https://e.x/none", priority=7),
            rule("https://e.x/ok", ("language", None, "en"), priority=8),
        ]
    )
    assert carried.rules == [{"when": {"language": "en"}, "target": "https://e.x/ok"}]
    assert carried.dropped == [
        "redirect rule 1 (to https://e.x/lan) not carried over: Scanlet has no equivalent of "
        "the condition 'ip-address 10.0.0.0/8'",
        "redirect rule 2 (to https://e.x/chrome) not carried over: Scanlet has no equivalent "
        "of the condition 'browser chrome'",
        "redirect rule 3 (to https://e.x/cros) not carried over: Scanlet has no equivalent of "
        "the condition 'device chromeos'",
        "redirect rule 4 (to https://e.x/any) not carried over: Scanlet has no equivalent of "
        "the condition 'any-value-query-param ref='",
        "redirect rule 5 (to https://e.x/never) not carried over: Scanlet cannot combine its "
        "conditions in one rule (they contradict)",
        "redirect rule 6 (to https://e.x/q) not carried over: Scanlet cannot combine its "
        "conditions in one rule (they contradict)",
        "redirect rule 7 (to https://e.x/none) not carried over: it has no conditions (Shlink "
        "never applies it)",
    ]


def test_rules_beyond_the_limit_are_reported_not_cut_silently() -> None:
    many = [rule(f"https://e.x/{n}", ("language", None, f"l{n}"), priority=n) for n in range(25)]
    carried = carry_rules(many)
    assert len(carried.rules) == MAX_RULES
    assert len(carried.dropped) == 25 - MAX_RULES
    assert carried.dropped[0].endswith(f"a code has at most {MAX_RULES} rules")


def test_device_long_urls_of_shlink_3_become_rules() -> None:
    carried = carry_device_urls(
        DeviceLongUrls(android="https://e.x/a", ios=None, desktop="https://e.x/d")
    )
    assert carried.rules == [
        {"when": {"os": "android"}, "target": "https://e.x/a"},
        {"when": {"device": "desktop"}, "target": "https://e.x/d"},
    ]
    assert carried.dropped == []
