"""The rules every stored code satisfies, checked on create and on every update."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime

from msgspec.structs import replace

from scanlet.actors.codes.errors import InvalidField
from scanlet.actors.codes.validation import validate_target
from scanlet.storage.codes import CodeRow

__all__ = ("MAX_TAGS", "MAX_TAG_LENGTH", "MAX_TITLE_LENGTH", "check_code")

MAX_TITLE_LENGTH = 200
MAX_TAGS = 20
MAX_TAG_LENGTH = 64


def _printable(text: str) -> bool:
    return not any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Zl", "Zp") for ch in text)


def _aware(field: str, value: datetime | None) -> None:
    if value is not None and value.tzinfo is None:
        raise InvalidField(
            field, "must be an RFC 3339 time with an offset, e.g. 2026-01-01T00:00:00Z"
        )


def check_code(row: CodeRow) -> CodeRow:
    """Return ``row`` with tags normalised if it obeys every rule; raise InvalidField if not."""
    validate_target(row.target)
    if row.title is not None and (len(row.title) > MAX_TITLE_LENGTH or not _printable(row.title)):
        raise InvalidField("title", f"must be at most {MAX_TITLE_LENGTH} printable characters")
    tags = tuple(dict.fromkeys(tag.strip() for tag in row.tags))
    if len(tags) > MAX_TAGS:
        raise InvalidField("tags", f"at most {MAX_TAGS} tags")
    for tag in tags:
        if not tag or len(tag) > MAX_TAG_LENGTH or not _printable(tag):
            raise InvalidField("tags", f"each tag is 1 to {MAX_TAG_LENGTH} printable characters")
    _aware("valid_from", row.valid_from)
    _aware("valid_until", row.valid_until)
    if row.valid_from and row.valid_until and row.valid_until <= row.valid_from:
        raise InvalidField("valid_until", "must be later than valid_from")
    if row.max_scans is not None and row.max_scans < 1:
        raise InvalidField("max_scans", "must be at least 1 (or null for no limit)")
    # Stored and served in UTC whatever offset the caller wrote.
    valid_from = row.valid_from.astimezone(UTC) if row.valid_from else None
    valid_until = row.valid_until.astimezone(UTC) if row.valid_until else None
    # (Aware datetimes compare equal across offsets, so replace unconditionally.)
    return replace(row, tags=tags, valid_from=valid_from, valid_until=valid_until)
