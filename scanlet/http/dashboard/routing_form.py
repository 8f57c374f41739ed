"""The routing part of the code form: fallback, rules, split, query forwarding, password.

Rules and split arms are rows of plain fields (``rule-2-target``, ``rule-2-os``, ...), one
more than the code has so a rule can be added; a row is removed by its checkbox or by an
empty target, and rules are reordered by their ``order`` numbers. The rows become the same
``Rule`` and ``SplitArm`` values the API decodes, and the codes actor checks them with the
same rules: a refusal names the field by its path (``rules[1].when.schedule.tz``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode

import msgspec

from scanlet.actors.codes.code import Code
from scanlet.actors.codes.errors import InvalidField
from scanlet.actors.codes.passwords import MAX_PASSWORD_LENGTH
from scanlet.actors.codes.routing import (
    DAYS,
    DEVICES,
    MAX_RULES,
    MAX_SPLIT_ARMS,
    OPERATING_SYSTEMS,
    Conditions,
    Rule,
    SplitArm,
)

__all__ = ("CHOICES", "RULE_FIELDS", "form_rows", "routing_changes", "routing_values")

#: The fields of one rule row, after ``rule-N-``.
RULE_FIELDS = (
    "order",
    "target",
    "device",
    "os",
    "language",
    "country",
    "query",
    "tz",
    "days",
    "from",
    "to",
)
_ARM_FIELDS = ("target", "weight")


def routing_values(code: Code) -> dict[str, str]:
    """The form's routing fields for a stored code (the password is never shown)."""
    values = {
        "fallback_url": code.fallback_url or "",
        "forward_query": "on" if code.forward_query else "",
    }
    for index, rule in enumerate(code.rules):
        when = rule.when
        schedule = when.schedule or None
        row = {
            "order": str(index + 1),
            "target": rule.target,
            "device": when.device or "",
            "os": when.os or "",
            "language": when.language or "",
            "country": when.country or "",
            "query": urlencode(when.query) if when.query else "",
            "tz": schedule.tz if schedule else "",
            "days": ", ".join(schedule.days or ()) if schedule else "",
            "from": (schedule.from_ or "") if schedule else "",
            "to": (schedule.to or "") if schedule else "",
        }
        values.update({f"rule-{index}-{name}": value for name, value in row.items()})
    for index, arm in enumerate(code.split):
        values[f"arm-{index}-target"] = arm.target
        values[f"arm-{index}-weight"] = str(arm.weight)
    return values


def form_rows(values: Mapping[str, str]) -> tuple[int, int]:
    """How many rule and arm rows to show: those filled in, plus an empty one (up to the
    limits)."""
    rules = sum(1 for i in range(MAX_RULES) if values.get(f"rule-{i}-target"))
    arms = sum(1 for i in range(MAX_SPLIT_ARMS) if values.get(f"arm-{i}-target"))
    return min(rules + 1, MAX_RULES), min(max(arms + 1, 2), MAX_SPLIT_ARMS)


def _row(form: Mapping[str, str], prefix: str, names: tuple[str, ...]) -> dict[str, str]:
    return {name: form.get(f"{prefix}{name}", "").strip() for name in names}


def _conditions(row: dict[str, str], field: str) -> Conditions:
    when: dict[str, Any] = {}
    for name in ("device", "os", "language", "country"):
        if row[name]:
            when[name] = row[name]
    if row["query"]:
        when["query"] = dict(parse_qsl(row["query"], keep_blank_values=True))
    if row["days"] or row["from"] or row["to"]:
        schedule: dict[str, Any] = {"tz": row["tz"] or "UTC"}
        if row["days"]:
            schedule["days"] = row["days"].replace(",", " ").lower().split()
        for name in ("from", "to"):
            if row[name]:
                schedule[name] = row[name]
        when["schedule"] = schedule
    elif row["tz"]:
        raise InvalidField(f"{field}.schedule", "a time zone needs days, from or to")
    try:
        return msgspec.convert(when, Conditions)
    except msgspec.ValidationError as exc:
        raise InvalidField(field, str(exc)) from None


def _rules(form: Mapping[str, str]) -> tuple[Rule, ...]:
    rows: list[tuple[float, int, dict[str, str]]] = []
    for index in range(MAX_RULES + 1):
        row = _row(form, f"rule-{index}-", RULE_FIELDS)
        if not row["target"] or form.get(f"rule-{index}-remove"):
            continue
        try:
            order = float(row["order"]) if row["order"] else float(index + 1)
        except ValueError:
            order = float(index + 1)
        rows.append((order, index, row))
    rows.sort(key=lambda item: (item[0], item[1]))
    return tuple(
        Rule(when=_conditions(row, f"rules[{n}].when"), target=row["target"])
        for n, (_, _, row) in enumerate(rows)
    )


def _split(form: Mapping[str, str]) -> tuple[SplitArm, ...]:
    arms: list[SplitArm] = []
    for index in range(MAX_SPLIT_ARMS + 1):
        row = _row(form, f"arm-{index}-", _ARM_FIELDS)
        if not row["target"] or form.get(f"arm-{index}-remove"):
            continue
        field = f"split[{len(arms)}].weight"
        try:
            weight = int(row["weight"] or "0")
        except ValueError:
            raise InvalidField(field, "must be a whole number from 1 to 100") from None
        if not 1 <= weight <= 100:
            raise InvalidField(field, "must be a whole number from 1 to 100")
        arms.append(SplitArm(target=row["target"], weight=weight))
    return tuple(arms)


def routing_changes(form: Mapping[str, str]) -> dict[str, Any]:
    """The routing fields of a ``CodeChanges`` from the posted form (InvalidField naming the
    field for a value that cannot even be read). A password is changed only when one is
    typed, and removed only by its checkbox."""
    changes: dict[str, Any] = {
        "fallback_url": form.get("fallback_url", "").strip() or None,
        "forward_query": bool(form.get("forward_query")),
        "rules": _rules(form),
        "split": _split(form),
    }
    if form.get("remove_password"):
        changes["password"] = None
    elif form.get("password"):
        if len(form["password"]) > MAX_PASSWORD_LENGTH:
            raise InvalidField("password", f"must be at most {MAX_PASSWORD_LENGTH} characters")
        changes["password"] = form["password"]
    return changes


#: What the selects of a rule row offer (the empty choice: any).
CHOICES = {"device": DEVICES, "os": OPERATING_SYSTEMS, "days": DAYS}
