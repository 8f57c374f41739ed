"""How a code chooses where a scan goes: its rules, split and fallback, and their checks.

These are the types the API takes, the events record and the catalogue stores (as JSON);
``decide`` compiles them into what the scan path evaluates from memory. Each check raises
``InvalidField`` naming the field by its path in the body (``rules[2].when.schedule.tz``),
so a 422 says exactly which value is wrong.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

import msgspec
from msgspec import UNSET
from msgspec import UnsetType as Unset

from scanlet.actors.codes.errors import InvalidField
from scanlet.actors.codes.origins import OwnOrigins
from scanlet.actors.codes.patterns import TARGET_PATTERN
from scanlet.actors.codes.validation import MAX_TARGET_LENGTH, validate_target
from scanlet.timerange import time_zones

__all__ = (
    "DAYS",
    "DEVICES",
    "MAX_QUERY_PAIRS",
    "MAX_RULES",
    "MAX_SPLIT_ARMS",
    "OPERATING_SYSTEMS",
    "Conditions",
    "Rule",
    "Rules",
    "Schedule",
    "Split",
    "SplitArm",
    "Url",
    "check_routing",
    "minutes_of",
)

MAX_RULES = 20
MAX_SPLIT_ARMS = 10
MAX_QUERY_PAIRS = 10
MAX_QUERY_NAME = 64
MAX_QUERY_VALUE = 256

Device = Literal["mobile", "tablet", "desktop"]
OperatingSystem = Literal["ios", "android", "windows", "macos", "linux", "other"]
Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
DEVICES: tuple[str, ...] = ("mobile", "tablet", "desktop")
OPERATING_SYSTEMS: tuple[str, ...] = ("ios", "android", "windows", "macos", "linux", "other")
#: In ``datetime.weekday()`` order (Monday is 0).
DAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

_CLOCK = r"^(?:[01][0-9]|2[0-3]):[0-5][0-9]$"
# A BCP 47 language range as Accept-Language writes one (RFC 4647 basic ranges, no '*').
_LANGUAGE = r"^[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8}){0,3}$"
_COUNTRY = r"^[A-Za-z]{2}$"

Url = Annotated[
    str,
    msgspec.Meta(
        max_length=MAX_TARGET_LENGTH,
        extra_json_schema={"pattern": TARGET_PATTERN},
        description="An absolute http(s) URL, with the same rules as a code's target.",
        examples=["https://example.com/menu"],
    ),
]
ClockTime = Annotated[
    str, msgspec.Meta(pattern=_CLOCK, description="Local time HH:MM (24 h).", examples=["11:00"])
]
TimeZoneName = Annotated[
    str,
    msgspec.Meta(
        max_length=64,
        description="An IANA time zone name of the server's tz database.",
        examples=["Europe/Berlin"],
        extra_json_schema={"enum": sorted(time_zones())},
    ),
]
QueryName = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_QUERY_NAME)]
QueryValue = Annotated[str, msgspec.Meta(max_length=MAX_QUERY_VALUE)]


class Schedule(
    msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, omit_defaults=True
):
    """Local days and times in ``tz``: ``from`` inclusive, ``to`` exclusive; ``from`` after
    ``to`` spans midnight (22:00-02:00), ``from`` equal to ``to`` is the whole day.
    ``days`` is the local day of the scan. At least one of days, from and to."""

    tz: TimeZoneName = "UTC"
    days: Annotated[tuple[Day, ...], msgspec.Meta(min_length=1, max_length=7)] | Unset = UNSET
    from_: ClockTime | Unset = msgspec.field(name="from", default=UNSET)
    to: ClockTime | Unset = UNSET


class Conditions(
    msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, omit_defaults=True
):
    """What a scan must be for a rule to apply: every condition named must hold, one left
    out is no condition (at least one)."""

    # Left out is UNSET, and null is refused (it would read as "none"): UNSET is falsy and
    # every value a condition can have is truthy, so ``if when.device:`` tests both.
    device: (
        Annotated[
            Device,
            msgspec.Meta(
                description="The device type, as the stats' by_device counts it.",
                examples=["mobile"],
            ),
        ]
        | Unset
    ) = UNSET
    os: (
        Annotated[
            OperatingSystem,
            msgspec.Meta(
                description="The operating system (ios: iPhone and iPad).", examples=["ios"]
            ),
        ]
        | Unset
    ) = UNSET
    language: (
        Annotated[
            str,
            msgspec.Meta(
                pattern=_LANGUAGE,
                description="A primary tag (de) or a full one (pt-BR).",
                examples=["de"],
            ),
        ]
        | Unset
    ) = UNSET
    country: (
        Annotated[
            str,
            msgspec.Meta(pattern=_COUNTRY, description="ISO 3166-1 alpha-2 code.", examples=["DE"]),
        ]
        | Unset
    ) = UNSET
    query: (
        Annotated[
            dict[QueryName, QueryValue],
            msgspec.Meta(
                min_length=1,
                max_length=MAX_QUERY_PAIRS,
                description="Query parameters the scan's URL must carry with these values.",
                examples=[{"utm_source": "poster"}],
            ),
        ]
        | Unset
    ) = UNSET
    schedule: WhenSchedule | Unset = UNSET


#: At least one condition (JSON Schema for what ``_check_conditions`` checks).
NonEmptyConditions = Annotated[Conditions, msgspec.Meta(extra_json_schema={"minProperties": 1})]


class Rule(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """``{"when": {...}, "target": URL}``: the first rule whose conditions all hold decides."""

    when: NonEmptyConditions
    target: Url


class SplitArm(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One arm of an A/B split: it gets ``weight`` out of the arms' total."""

    target: Url
    weight: Annotated[int, msgspec.Meta(ge=1, le=100)]


#: A schedule names days, from or to (JSON Schema for what ``_check_conditions`` checks).
SCHEDULE_SCHEMA = {"anyOf": [{"required": [name]} for name in ("days", "from", "to")]}
WhenSchedule = Annotated[Schedule, msgspec.Meta(extra_json_schema=SCHEDULE_SCHEMA)]
Rules = Annotated[
    tuple[Rule, ...],
    msgspec.Meta(
        max_length=MAX_RULES,
        description="Checked in order: the first rule whose conditions all hold decides.",
    ),
]
Split = Annotated[
    tuple[SplitArm, ...],
    msgspec.Meta(
        max_length=MAX_SPLIT_ARMS,
        # Two arms or more, or none: a one-armed split is a mistake.
        extra_json_schema={"not": {"minItems": 1, "maxItems": 1}},
        description="An A/B split used when no rule holds: each visitor gets one arm per "
        "UTC day, drawn by weight.",
    ),
]


def minutes_of(clock: str) -> int:
    """``"11:30"`` -> 690."""
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


def _url(field: str, value: str, own: OwnOrigins | None) -> None:
    validate_target(value, field)
    if own is not None:
        own.check_target(value, field)


def _check_conditions(field: str, when: Conditions) -> Conditions:
    if when == Conditions():
        raise InvalidField(field, "must name at least one condition")
    if when.language and not re.fullmatch(_LANGUAGE, when.language):
        raise InvalidField(f"{field}.language", "must be a language tag such as de or pt-BR")
    if when.country and not re.fullmatch(_COUNTRY, when.country):
        raise InvalidField(f"{field}.country", "must be an ISO 3166-1 alpha-2 code such as DE")
    for name, value in (when.query or {}).items():
        if not name or len(name) > MAX_QUERY_NAME or len(value) > MAX_QUERY_VALUE:
            raise InvalidField(f"{field}.query", "names are 1-64 characters, values up to 256")
    schedule = when.schedule
    if schedule:
        if schedule.tz not in time_zones():
            raise InvalidField(
                f"{field}.schedule.tz", "expected an IANA time zone such as Europe/Berlin"
            )
        for name, clock in (("from", schedule.from_), ("to", schedule.to)):
            if clock and not re.fullmatch(_CLOCK, clock):
                raise InvalidField(f"{field}.schedule.{name}", "expected HH:MM, 00:00 to 23:59")
        if not (schedule.days or schedule.from_ or schedule.to):
            raise InvalidField(f"{field}.schedule", "must name days, from or to")
    # Stored as the matching compares them: country codes in capitals, language tags in
    # lower case (Accept-Language is case-insensitive).
    return msgspec.structs.replace(
        when,
        language=when.language.lower() if when.language else UNSET,
        country=when.country.upper() if when.country else UNSET,
        schedule=(
            msgspec.structs.replace(schedule, days=tuple(dict.fromkeys(schedule.days)))
            if schedule and schedule.days
            else schedule
        ),
    )


def check_routing(
    *,
    fallback_url: str | None,
    rules: tuple[Rule, ...],
    split: tuple[SplitArm, ...],
    own: OwnOrigins | None,
) -> tuple[Rule, ...]:
    """The rules, normalised, if every routing field obeys its rules; raise InvalidField.

    URLs on the server's ``own`` origins are refused (None: not checked, as for a code's
    ``target`` that is not being set, see ``check_code``).
    """
    if fallback_url is not None:
        _url("fallback_url", fallback_url, own)
    if len(rules) > MAX_RULES:
        raise InvalidField("rules", f"at most {MAX_RULES} rules")
    checked = []
    for index, rule in enumerate(rules):
        _url(f"rules[{index}].target", rule.target, own)
        when = _check_conditions(f"rules[{index}].when", rule.when)
        checked.append(msgspec.structs.replace(rule, when=when))
    if len(split) > MAX_SPLIT_ARMS:
        raise InvalidField("split", f"at most {MAX_SPLIT_ARMS} arms")
    if len(split) == 1:
        raise InvalidField("split", "needs at least two arms (or none)")
    for index, arm in enumerate(split):
        _url(f"split[{index}].target", arm.target, own)
        if not 1 <= arm.weight <= 100:
            raise InvalidField(f"split[{index}].weight", "must be 1 to 100")
    return tuple(checked)
