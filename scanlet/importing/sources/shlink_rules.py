"""Shlink's redirect rules (Shlink 4+) and device long URLs (Shlink 3.5-3.7) as Scanlet
rules, with a reason for each rule that cannot come over.

A Shlink rule holds when all its conditions do, and the rule of lowest ``priority`` that
holds decides: the same as Scanlet's ``rules``, checked in order. The conditions map as:

- ``device``: ``android``, ``ios`` -> ``os``; ``desktop`` -> ``device``; since Shlink 4.5
  also ``windows``, ``macos``, ``linux`` -> ``os``, and ``mobile`` (any Android or iOS
  platform, tablets included) -> two rules, ``os: ios`` and ``os: android``; ``chromeos``
  has no equivalent.
- ``language`` -> ``language`` (``en_US`` written ``en-US``); ``geolocation-country-code``
  -> ``country``; ``query-param`` -> ``query``; ``valueless-query-param`` -> ``query`` with
  an empty value (Scanlet reads ``?foo`` as ``foo=``).
- ``any-value-query-param``, ``ip-address``, ``geolocation-city-name``, ``before-date``,
  ``after-date``, ``browser`` and any type Scanlet does not know: no equivalent. Such a
  rule is left out whole (dropping only the condition would widen it and send visitors
  where Shlink never did) and reported.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import msgspec

from scanlet.actors.codes.routing import MAX_RULES

__all__ = ("CarriedRules", "DeviceLongUrls", "ShlinkRule", "carry_device_urls", "carry_rules")

#: A rule's ``when`` as a dict of the API's condition names.
When = dict[str, Any]

#: Each Shlink device type as the Scanlet conditions one of which must hold.
_DEVICES: dict[str, list[When]] = {
    "android": [{"os": "android"}],
    "ios": [{"os": "ios"}],
    "mobile": [{"os": "ios"}, {"os": "android"}],
    "desktop": [{"device": "desktop"}],
    "windows": [{"os": "windows"}],
    "macos": [{"os": "macos"}],
    "linux": [{"os": "linux"}],
}


class ShlinkCondition(msgspec.Struct):
    # Field names as Shlink spells them (camelCase).
    type: str
    matchKey: str | None = None
    matchValue: str | None = None


class ShlinkRule(msgspec.Struct):
    """One entry of ``redirectRules`` (``GET /rest/v3/short-urls/{shortCode}/redirect-rules``)."""

    longUrl: str
    priority: float = 0
    conditions: list[ShlinkCondition] = []


class DeviceLongUrls(msgspec.Struct):
    """A short URL's ``deviceLongUrls`` (Shlink 3.5 to 3.7; removed in 4.0)."""

    android: str | None = None
    ios: str | None = None
    desktop: str | None = None


@dataclass
class CarriedRules:
    """The rules as ``POST /api/v1/codes`` takes them, and why others did not come over."""

    rules: list[dict[str, Any]] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)


def _describe(condition: ShlinkCondition) -> str:
    key = f"{condition.matchKey}=" if condition.matchKey else ""
    return f"{condition.type} {key}{condition.matchValue or ''}".rstrip()


def _alternatives(condition: ShlinkCondition) -> list[When] | None:
    """The Scanlet conditions one of which must hold where ``condition`` does, or None if
    Scanlet has no equivalent."""
    value = condition.matchValue or ""
    kind = condition.type
    if kind == "device":
        return _DEVICES.get(value.lower())
    if kind == "language" and value:
        return [{"language": value.replace("_", "-")}]
    if kind == "geolocation-country-code" and value:
        return [{"country": value.upper()}]
    if kind == "query-param" and condition.matchKey:
        return [{"query": {condition.matchKey: value}}]
    if kind == "valueless-query-param":
        # The name is matchKey; Shlink's own importer reads it from matchValue: take either.
        name = condition.matchKey or condition.matchValue
        return [{"query": {name: ""}}] if name else None
    return None


def _merge(whens: Sequence[When]) -> When | None:
    """One ``when`` holding exactly where all of ``whens`` do, or None if they contradict
    each other (two operating systems, say: the rule could never hold)."""
    merged: When = {}
    for when in whens:
        for name, value in when.items():
            if name == "query":
                query = dict(merged.get("query", {}))
                for key, wanted in value.items():
                    if query.setdefault(key, wanted) != wanted:
                        return None
                merged["query"] = query
            elif merged.setdefault(name, value) != value:
                return None
    return merged


def _rule_whens(rule: ShlinkRule) -> list[When] | str:
    """The Scanlet ``when`` of each rule ``rule`` becomes, or why it cannot come over."""
    if not rule.conditions:
        return "it has no conditions (Shlink never applies it)"
    choices = []
    for condition in rule.conditions:
        found = _alternatives(condition)
        if found is None:
            return f"Scanlet has no equivalent of the condition {_describe(condition)!r}"
        choices.append(found)
    whens = [m for combo in itertools.product(*choices) if (m := _merge(combo)) is not None]
    if not whens:
        return "Scanlet cannot combine its conditions in one rule (they contradict)"
    # Duplicates (``mobile`` with ``ios``) would be the same rule twice.
    unique = {msgspec.json.encode(when): when for when in whens}
    return list(unique.values())


def carry_rules(rules: Sequence[ShlinkRule]) -> CarriedRules:
    """Shlink's rules, in priority order, as Scanlet rules (at most ``MAX_RULES``)."""
    carried = CarriedRules()
    ordered = sorted(enumerate(rules, 1), key=lambda pair: (pair[1].priority, pair[0]))
    for number, rule in ordered:
        label = f"redirect rule {number} (to {rule.longUrl})"
        whens = _rule_whens(rule)
        if isinstance(whens, str):
            carried.dropped.append(f"{label} not carried over: {whens}")
        elif len(carried.rules) + len(whens) > MAX_RULES:
            carried.dropped.append(
                f"{label} not carried over: a code has at most {MAX_RULES} rules"
            )
        else:
            carried.rules.extend({"when": when, "target": rule.longUrl} for when in whens)
    return carried


def carry_device_urls(urls: DeviceLongUrls) -> CarriedRules:
    """Shlink 3's device long URLs as rules (Android, iOS, then desktop)."""
    pairs = (("android", urls.android), ("ios", urls.ios), ("desktop", urls.desktop))
    return carry_rules(
        [
            ShlinkRule(longUrl=url, conditions=[ShlinkCondition("device", matchValue=device)])
            for device, url in pairs
            if url
        ]
    )
