"""The rules every stored code satisfies, checked on create and on every update."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from datetime import datetime

from msgspec.structs import replace

from scanlet.actors.codes.code import Code
from scanlet.actors.codes.errors import InvalidField
from scanlet.actors.codes.kinds import NO_REDIRECT_FIELDS, NO_SCAN_FIELDS
from scanlet.actors.codes.messages import MAX_SCANS_LIMIT
from scanlet.actors.codes.origins import OwnOrigins
from scanlet.actors.codes.payloads import check_payload
from scanlet.actors.codes.routing import check_routing
from scanlet.actors.codes.validation import (
    MAX_TAG_LENGTH,
    MAX_TAGS,
    MAX_TITLE_LENGTH,
    UNPRINTABLE,
    validate_target,
)
from scanlet.timerange import check_time

__all__ = ("check_code", "normal_tags")


def _printable(text: str) -> bool:
    return not any(unicodedata.category(ch) in UNPRINTABLE for ch in text)


def _utc(field: str, value: datetime | None) -> datetime | None:
    """``value`` in UTC (stored and served so whatever offset the caller wrote)."""
    if value is None:
        return None
    try:
        return check_time(value)
    except ValueError as exc:
        raise InvalidField(field, str(exc)) from None


def normal_tags(raw: Iterable[str]) -> tuple[str, ...]:
    """Tags trimmed, without repeats, each 1 to 64 printable characters, at most 20; raise
    InvalidField("tags") if not. The rule of a code's tags and of a key's or user's limit."""
    tags = tuple(dict.fromkeys(tag.strip() for tag in raw))
    if len(tags) > MAX_TAGS:
        raise InvalidField("tags", f"at most {MAX_TAGS} tags")
    for tag in tags:
        if not tag or len(tag) > MAX_TAG_LENGTH or not _printable(tag):
            raise InvalidField("tags", f"each tag is 1 to {MAX_TAG_LENGTH} printable characters")
    return tags


#: What each field a code that is not a link leaves out is when it is left out.
_LEFT_OUT: dict[str, object] = {
    "target": "",
    "redirect_status": 302,
    "rules": (),
    "split": (),
    "forward_query": False,
    "password_hash": None,
    "fallback_url": None,
    "max_scans": None,
    "valid_from": None,
    "valid_until": None,
}


def _check_not_a_link(code: Code) -> None:
    """A code of another kind than url: content that fits a QR code, and none of the fields
    of a redirect (nor, when static, of scans)."""
    if code.content is None:
        raise InvalidField("content", f"is required for a {code.kind} code")
    check_payload(code.content)
    unused = NO_REDIRECT_FIELDS if code.tracked else NO_REDIRECT_FIELDS + NO_SCAN_FIELDS
    for name in unused:
        attribute = "password_hash" if name == "password" else name
        if getattr(code, attribute) != _LEFT_OUT[attribute]:
            why = "has no target" if name in NO_REDIRECT_FIELDS else "is static (no scans)"
            raise InvalidField(name, f"must be left out: a {code.kind} code {why}")
    if not code.tracked and not code.enabled:
        raise InvalidField("enabled", f"a static {code.kind} code cannot be disabled")


def check_code(
    code: Code, own_origins: OwnOrigins, *, target_is_new: bool, routing_is_new: bool = True
) -> Code:
    """Return ``code`` with tags normalised if it obeys every rule; raise InvalidField if not.

    A target on the server's own origins is refused only when it is being set
    (``target_is_new``): a code stored before its target became own (the server moved to
    that origin) must still be disabled, retitled or given a new target.
    """
    if code.kind == "url":
        validate_target(code.target)
        if target_is_new:
            own_origins.check_target(code.target)
    else:
        _check_not_a_link(code)
    if code.title is not None and (
        len(code.title) > MAX_TITLE_LENGTH or not _printable(code.title)
    ):
        raise InvalidField("title", f"must be at most {MAX_TITLE_LENGTH} printable characters")
    tags = normal_tags(code.tags)
    valid_from = _utc("valid_from", code.valid_from)
    valid_until = _utc("valid_until", code.valid_until)
    if valid_from and valid_until and valid_until <= valid_from:
        raise InvalidField("valid_until", "must be later than valid_from")
    if code.max_scans is not None and not 1 <= code.max_scans <= MAX_SCANS_LIMIT:
        raise InvalidField("max_scans", f"must be 1 to {MAX_SCANS_LIMIT} (or null for no limit)")
    rules = check_routing(
        fallback_url=code.fallback_url,
        rules=code.rules,
        split=code.split,
        own=own_origins if routing_is_new else None,
    )
    # (Aware datetimes compare equal across offsets, so replace unconditionally.)
    return replace(code, tags=tags, valid_from=valid_from, valid_until=valid_until, rules=rules)
