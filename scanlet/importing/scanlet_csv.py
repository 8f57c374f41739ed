"""The ``scanlet`` CSV format: one code a row, written by ``GET /api/v1/codes?format=csv``
and read by ``scanlet import csv --format scanlet``. One module, so both sides agree.

Columns (header row first): ``slug, target, title, tags, enabled, valid_from,
valid_until, max_scans, redirect_status, created_at, scans, fallback_url, forward_query,
rules, split, has_password, kind, content, tracked``. Tags are joined with ``|`` (a ``|``
or ``\\`` inside a tag is escaped with ``\\``); times are RFC 3339 in UTC; ``rules`` and
``split`` are JSON lists as the API takes them; empty cells are absent values. ``scans`` is
what the code counted: written for reading, ignored on import (a count cannot become
visits). ``has_password`` says a code asks for a password; only its hash is kept, and a
CSV carries none, so such a row is refused on import rather than made into an open code
(an archive moves it). ``kind`` is ``url`` (or empty: CSVs written before kinds) or the
kind of a code that is not a link, whose ``content`` is its JSON object as the API takes
it (``target`` empty); ``tracked`` is true for a tracked vcard. A code on a domain other
than the default one has its key, ``HOST/SLUG``, as its ``slug``, and is made on that
domain again (which must be registered).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import msgspec

from scanlet.actors.analytics.export import runs_as_formula
from scanlet.actors.codes.code import Code
from scanlet.actors.codes.keys import split_key
from scanlet.storage.records import CodeRow
from scanlet.storage.timefmt import format_time

__all__ = (
    "COLUMNS",
    "REQUIRED",
    "code_fields",
    "code_row",
    "escape_cell",
    "join_tags",
    "split_tags",
    "unescape_cell",
)

COLUMNS = (
    "slug",
    "target",
    "title",
    "tags",
    "enabled",
    "valid_from",
    "valid_until",
    "max_scans",
    "redirect_status",
    "created_at",
    "scans",
    "fallback_url",
    "forward_query",
    "rules",
    "split",
    "has_password",
    "kind",
    "content",
    "tracked",
)
REQUIRED = ("target",)


def escape_cell(text: str) -> str:
    """A cell a spreadsheet will not run as a formula (slugs may start with ``-``, titles
    and tags with anything): one apostrophe before a text that, past the apostrophes it
    already starts with, would run as one. ``unescape_cell`` takes exactly that one off,
    so every text comes back as it was."""
    return "'" + text if runs_as_formula(text.lstrip("'")) else text


def unescape_cell(cell: str) -> str:
    """The text ``escape_cell`` wrote ``cell`` for."""
    if cell.startswith("'") and runs_as_formula(cell.lstrip("'")):
        return cell[1:]
    return cell


def join_tags(tags: Sequence[str]) -> str:
    return "|".join(tag.replace("\\", "\\\\").replace("|", "\\|") for tag in tags)


def split_tags(cell: str) -> list[str]:
    """The tags of a cell as ``join_tags`` wrote them."""
    if not cell:
        return []
    parts: list[str] = []
    current: list[str] = []
    chars = iter(cell)
    for char in chars:
        if char == "\\":
            current.append(next(chars, ""))
        elif char == "|":
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return [part for part in parts if part.strip()]


def _json_cell(value: Sequence[msgspec.Struct]) -> str:
    return msgspec.json.encode(value).decode() if value else ""


def _flag(cells: dict[str, str], name: str, *, default: bool = False) -> bool:
    """A true/false cell; an empty or absent one is ``default``."""
    text = (cells.get(name) or str(default)).strip().lower()
    if text not in ("true", "false"):
        raise ValueError(f"{name}: must be true or false, not {cells[name]!r}")
    return text == "true"


def code_row(row: CodeRow, scans: int) -> list[str]:
    """A code as one CSV row, in ``COLUMNS`` order."""
    code = Code.from_row(row)
    return [
        escape_cell(row.slug),
        escape_cell(row.target),
        escape_cell(row.title or ""),
        escape_cell(join_tags(row.tags)),
        "true" if row.enabled else "false",
        format_time(row.valid_from) if row.valid_from else "",
        format_time(row.valid_until) if row.valid_until else "",
        "" if row.max_scans is None else str(row.max_scans),
        str(row.redirect_status),
        format_time(row.created_at),
        str(scans),
        escape_cell(code.fallback_url or ""),
        "true" if code.forward_query else "false",
        _json_cell(code.rules),
        _json_cell(code.split),
        "true" if code.password_hash else "false",
        code.kind,
        "" if code.content is None else msgspec.json.encode(code.content).decode(),
        "true" if code.tracked else "false",
    ]


def code_fields(cells: dict[str, str]) -> tuple[dict[str, Any], bool, str | None]:
    """The create fields of a row (by column name), whether it is enabled, and its
    ``created_at`` text; ValueError naming the column for a value that cannot be one."""
    cells = {name: unescape_cell(cell) for name, cell in cells.items()}
    fields: dict[str, Any] = {}
    if cells.get("slug"):
        # A code of another domain is written by its key, HOST/SLUG: it goes back there.
        host, fields["slug"] = split_key(cells["slug"])
        if host is not None:
            fields["domain"] = host
    for name in ("target", "title", "valid_from", "valid_until", "fallback_url"):
        if cells.get(name):
            fields[name] = cells[name]
    if cells.get("tags"):
        fields["tags"] = split_tags(cells["tags"])
    for name in ("max_scans", "redirect_status"):
        if cells.get(name):
            try:
                fields[name] = int(cells[name])
            except ValueError:
                raise ValueError(f"{name}: not a whole number: {cells[name]!r}") from None
    if _flag(cells, "forward_query"):
        fields["forward_query"] = True
    for name in ("rules", "split"):
        if cells.get(name):
            try:
                fields[name] = json.loads(cells[name])
            except ValueError:
                raise ValueError(f"{name}: not a JSON list: {cells[name]!r}") from None
    kind = cells.get("kind") or "url"
    if kind != "url":
        fields["kind"] = kind
        if cells.get("content"):
            try:
                fields["content"] = json.loads(cells["content"])
            except ValueError:
                raise ValueError(f"content: not a JSON object: {cells['content']!r}") from None
        if _flag(cells, "tracked"):
            fields["tracked"] = True
    if _flag(cells, "has_password"):
        raise ValueError(
            "has_password: a CSV carries no password (only its hash is kept); import this "
            "code from an archive, or leave the column false and set a password again"
        )
    return fields, _flag(cells, "enabled", default=True), cells.get("created_at") or None
