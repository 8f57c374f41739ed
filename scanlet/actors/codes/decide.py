"""The one decision of where a scan goes, evaluated from memory on the scan path.

``compile_router`` turns a code's routing fields into a ``Router`` once, when the codes
actor puts the code in the index; ``decide`` runs per scan and reads nothing but the router
and the ``Visit`` (the request, whose facts are worked out only when a condition asks).
A code without routing has no router at all, so the plain redirect pays nothing for this.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol
from urllib.parse import parse_qsl, quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from scanlet.actors.codes.code import Code
from scanlet.actors.codes.routing import DAYS, Conditions, Rule, minutes_of

__all__ = (
    "FALLBACK",
    "FALLBACK_STATUS",
    "TARGET",
    "Choice",
    "Router",
    "Visit",
    "compile_router",
    "decide",
    "forward_query",
    "location_of",
    "matches_language",
)

#: ``rule`` of a scan sent to the code's own target, and of one sent to its fallback.
TARGET = "target"
FALLBACK = "fallback_url"
#: A fallback is temporary by nature: the code may come back (a 301 would be cached).
FALLBACK_STATUS = 302
# A permanent redirect is cached by browsers, which would then skip the rules and the
# split on the next scan: a code that decides per scan answers with the temporary status
# of the same kind (308 keeps the method and body, like 307).
_TEMPORARY = {301: 302, 308: 307}
_URL_SAFE = ":/?#[]@!$&'()*+,;=%~"


def location_of(url: str) -> bytes:
    """A URL as a ``Location`` header value: ASCII, percent-encoded once."""
    return quote(url, safe=_URL_SAFE).encode("ascii")


class Visit(Protocol):
    """What ``decide`` may ask of a scan request (each answer computed only when asked)."""

    at: datetime

    def device(self) -> str:
        """``mobile``, ``tablet``, ``desktop`` or something else (``other``, ``bot``)."""
        ...

    def os(self) -> str:
        """``ios``, ``android``, ``windows``, ``macos``, ``linux`` or ``other``."""
        ...

    def languages(self) -> Sequence[str]:
        """Accept-Language's tags, lower case, most preferred first (q=0 left out)."""
        ...

    def country(self) -> str | None:
        """ISO alpha-2 code from the same sources analytics uses, or None."""
        ...

    def query(self) -> frozenset[tuple[str, str]]:
        """The request's query parameters, decoded, as (name, value) pairs."""
        ...

    def query_string(self) -> bytes:
        """The request's raw query string."""
        ...

    def sticky(self, slug: str) -> int:
        """A number fixed for this visitor, this code and this UTC day."""
        ...

    def inputs(
        self, agent: bool, language: bool, query: bool, country: bool, limit: int
    ) -> tuple[object, ...] | None:
        """The raw request values the asked-for facts are worked out from (the user agent,
        Accept-Language, the query string, the country header and address), or None when
        this visit cannot say or they are longer than ``limit`` characters in all (then
        nothing is remembered)."""
        ...


class Choice:
    """Where a scan goes: the target, its ``Location`` bytes and what chose it."""

    __slots__ = ("location", "rule", "target")

    def __init__(self, target: str, rule: str) -> None:
        self.target = target
        self.location = location_of(target)
        #: ``target``, ``rules[i]``, ``split[i]`` or ``fallback_url``.
        self.rule = rule


def matches_language(wanted: str, tag: str) -> bool:
    """RFC 4647 basic filtering: ``de`` matches ``de`` and ``de-at``, ``pt-br`` only
    ``pt-br`` and its longer forms (both lower case)."""
    return tag == wanted or tag.startswith(wanted + "-")


UTC_ZONE = ZoneInfo("UTC")

#: Rule decisions remembered across scans: (router, the raw inputs its rules read, and the
#: minute when a schedule is among them) -> the index of the rule that held, or -1. Popular
#: phones, languages and campaign links repeat, and ten rules cost ~10 us a scan while a
#: remembered answer costs a tuple and a lookup. Bounded; emptied when full (a code's
#: change makes a new router, so its old answers are never read again).
_MEMO_LIMIT = 4096
#: Inputs longer than this in all are worked out, never remembered: browsers send a few
#: hundred bytes, and 4096 hostile 16 KiB headers would hold 64 MiB.
_MEMO_INPUT_BYTES = 1024
_memo: dict[tuple[object, ...], int] = {}


def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


class _Compiled:
    """One rule as ``decide`` tests it: conditions in the order they cost."""

    __slots__ = (
        "choice",
        "country",
        "days",
        "device",
        "end",
        "language",
        "os",
        "query",
        "start",
        "zone",
    )

    def __init__(self, index: int, rule: Rule) -> None:
        when: Conditions = rule.when
        self.choice = Choice(rule.target, f"rules[{index}]")
        # Conditions left out are UNSET (falsy): None here, "not asked".
        self.device = when.device or None
        self.os = when.os or None
        self.language = when.language or None
        self.country = when.country or None
        self.query = frozenset(when.query.items()) if when.query else None
        schedule = when.schedule or None
        self.zone = _zone(schedule.tz) if schedule else None
        self.days = (
            frozenset(DAYS.index(day) for day in schedule.days)
            if schedule and schedule.days
            else None
        )
        if schedule and self.zone is None:
            # A zone the tz database no longer has (it was checked when stored): the rule
            # can no longer tell the local time, so it holds on no day at all.
            self.zone, self.days = UTC_ZONE, frozenset()
        self.start = minutes_of(schedule.from_) if schedule and schedule.from_ else None
        self.end = minutes_of(schedule.to) if schedule and schedule.to else None

    def holds(self, visit: Visit, language: str | None) -> bool:
        if self.device is not None and visit.device() != self.device:
            return False
        if self.os is not None and visit.os() != self.os:
            return False
        if self.language is not None and (
            language is None or not matches_language(self.language, language)
        ):
            return False
        if self.country is not None and visit.country() != self.country:
            return False
        # Every (name, value) pair among the request's: a subset test, in C.
        if self.query is not None and not self.query <= visit.query():
            return False
        if self.zone is not None:
            local = visit.at.astimezone(self.zone)
            if self.days is not None and local.weekday() not in self.days:
                return False
            minute = local.hour * 60 + local.minute
            start, end = self.start, self.end
            if start is not None and start == end:
                pass  # from 10:00 to 10:00: the whole day
            elif start is not None and end is not None and start > end:
                # Across midnight: 22:00-02:00 is from 22:00 on, or before 02:00.
                if end <= minute < start:
                    return False
            elif (start is not None and minute < start) or (end is not None and minute >= end):
                return False
        return True


class Router:
    """A code's routing, compiled: rules, split arms, fallback and query forwarding."""

    __slots__ = (
        "fallback",
        "forward",
        "languages",
        "password_hash",
        "reads",
        "rules",
        "split",
        "split_total",
        "status",
        "target",
    )

    def __init__(self, code: Code) -> None:
        target, redirect_status = code.target, code.redirect_status
        rules, split, fallback_url = code.rules, code.split, code.fallback_url
        self.target = Choice(target, TARGET)
        #: Scans must give the password whose argon2id hash this is (checked by the scan
        #: path, off the event loop); a fallback needs none.
        self.password_hash = code.password_hash
        #: The status of a redirect it decides (a fallback's is ``FALLBACK_STATUS``).
        self.status = (
            _TEMPORARY.get(redirect_status, redirect_status) if rules or split else redirect_status
        )
        self.rules = tuple(_Compiled(index, rule) for index, rule in enumerate(rules))
        #: Every language a rule names: the visitor's most preferred of these decides.
        self.languages = tuple(rule.language for rule in self.rules if rule.language)
        #: Which of a visit's inputs the rules read (agent, language, query, country, clock).
        self.reads = (
            any(r.device is not None or r.os is not None for r in self.rules),
            bool(self.languages),
            any(r.query is not None for r in self.rules),
            any(r.country is not None for r in self.rules),
            any(r.zone is not None for r in self.rules),
        )
        arms = []
        total = 0
        for index, arm in enumerate(split):
            total += arm.weight
            arms.append((total, Choice(arm.target, f"split[{index}]")))
        self.split = tuple(arms)
        self.split_total = total
        self.fallback = Choice(fallback_url, FALLBACK) if fallback_url else None
        self.forward = code.forward_query

    def _language(self, visit: Visit) -> str | None:
        """The visitor's tag (in q order) that the first rule language matches: with
        "de, en;q=0.5" and rules for en and for de, the de rule applies."""
        if not self.languages:
            return None
        for tag in visit.languages():
            if any(matches_language(wanted, tag) for wanted in self.languages):
                return tag
        return None

    def _first_holding(self, visit: Visit) -> int:
        """The index of the first rule that holds for ``visit``, or -1."""
        language = self._language(visit)
        for index, rule in enumerate(self.rules):
            if rule.holds(visit, language):
                return index
        return -1

    def _remembered(self, visit: Visit) -> int:
        """``_first_holding``, remembered by the inputs the rules read."""
        agent, language, query, country, clock = self.reads
        inputs = visit.inputs(agent, language, query, country, _MEMO_INPUT_BYTES)
        if inputs is None:
            return self._first_holding(visit)
        # Offsets are whole minutes, so a UTC minute is one local minute in every zone.
        key = (self, *inputs, int(visit.at.timestamp()) // 60 if clock else None)
        index = _memo.get(key)
        if index is None:
            index = self._first_holding(visit)
            if len(_memo) >= _MEMO_LIMIT:
                _memo.clear()
            _memo[key] = index
        return index

    def choose(self, visit: Visit, slug: str) -> Choice:
        """The first rule that holds, else the split's arm for this visitor, else the
        code's target."""
        if self.rules:
            index = self._remembered(visit)
            if index >= 0:
                return self.rules[index].choice
        if self.split:
            point = visit.sticky(slug) % self.split_total
            for bound, choice in self.split:
                if point < bound:
                    return choice
        return self.target


def compile_router(code: Code) -> Router | None:
    """The router of a code, or None when it has no routing (a plain redirect)."""
    if (
        not code.rules
        and not code.split
        and code.fallback_url is None
        and not code.forward_query
        and code.password_hash is None
    ):
        return None
    return Router(code)


def forward_query(location: bytes, query_string: bytes) -> bytes:
    """``location`` with the scan's query merged in: the scan's parameters replace the
    target's of the same name and the others are added; the fragment stays last."""
    if not query_string:
        return location
    pairs = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)
    if not pairs:
        return location
    url = location.decode("ascii")
    url, hash_, fragment = url.partition("#")
    base, _, existing = url.partition("?")
    names = {name for name, _ in pairs}
    kept = [
        piece
        for piece in existing.split("&")
        if piece and next(iter(parse_qsl(piece, keep_blank_values=True)), ("", ""))[0] not in names
    ]
    added = [f"{quote(name, safe='')}={quote(value, safe='')}" for name, value in pairs]
    merged = f"{base}?{'&'.join([*kept, *added])}{hash_}{fragment}"
    return merged.encode("ascii")


def decide(router: Router, visit: Visit, slug: str, gone: bool) -> tuple[Choice, bytes] | None:
    """Where the scan ``visit`` of a code with ``router`` goes, and its ``Location``; None
    when the code is gone and has no fallback (the caller answers 410).

    The one decision every entrance makes (``ScanPath`` calls it for the raw front and for
    the Starlette route alike).
    """
    if gone:
        choice = router.fallback
        if choice is None:
            return None
    else:
        choice = router.choose(visit, slug)
    location = choice.location
    if router.forward:
        location = forward_query(location, visit.query_string())
    return choice, location
