"""CSV files of codes: Scanlet's own format, Shlink's and Bitly's link exports.

The header is checked before any row is read (the columns a format needs must be there;
Scanlet's format refuses columns it does not know, so a typo is not silently ignored); then
each row becomes a code, or a failure naming its row and reason while the rest go on. The
rows are counted first, in a pass of their own over the file (the csv module's, streamed),
so the progress bar has a total and an ETA as the API importers' have.

- ``scanlet``: see ``scanlet.importing.scanlet_csv``.
- ``shlink``: ``Long URL``, ``Short code``, ``Title``, ``Domain``, ``Tags`` (``|``-separated),
  the columns Shlink's own CSV importer reads; names compared without case and spaces.
- ``bitly``: a Bitly link export; ``long_url`` (or ``Long URL``) is needed, the slug is the
  last path segment of ``link``/``bitlink``/``custom_bitlinks`` when there is one, and
  ``title``, ``tags`` (``|`` or ``,``) and ``created_at``/``created`` are read if present.
  Names are compared without case, spaces and underscores.
"""

from __future__ import annotations

import csv
import hashlib
import itertools
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import anyio

from scanlet.importing import scanlet_csv
from scanlet.importing.items import (
    SourceCode,
    SourceError,
    SourceFailure,
    SourceItem,
    SourceTotal,
)

__all__ = ("FORMATS", "csv_items")

#: Longest cell read (a target is at most 2048 characters; anything far larger is not a
#: code, and the csv module's own limit is 128 KiB).
MAX_CELL = 16 * 1024

_Row = tuple[dict[str, Any], bool, datetime | None]


def _normal(name: str, drop: str) -> str:
    return "".join(ch for ch in name.strip().lower() if ch not in drop)


def _time(text: str | None, column: str) -> datetime | None:
    if not text:
        return None
    try:
        found = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{column}: not a date and time: {text!r}") from None
    return found if found.tzinfo else found.replace(tzinfo=UTC)


def _scanlet(cells: dict[str, str]) -> _Row:
    fields, enabled, created = scanlet_csv.code_fields(cells)
    return fields, enabled, _time(created, "created_at")


def _shlink(cells: dict[str, str]) -> _Row:
    fields: dict[str, Any] = {"target": cells.get("longurl", "").strip()}
    if cells.get("shortcode", "").strip():
        fields["slug"] = cells["shortcode"].strip()
    if cells.get("title", "").strip():
        fields["title"] = cells["title"].strip()
    tags = [tag for tag in cells.get("tags", "").split("|") if tag.strip()]
    if tags:
        fields["tags"] = tags
    return fields, True, None


_BITLY_LINKS = ("custombitlinks", "link", "bitlink", "shortlink", "shorturl")
_BITLY_CREATED = ("createdat", "created", "createddate", "date")


def _bitly(cells: dict[str, str]) -> _Row:
    fields: dict[str, Any] = {"target": cells.get("longurl", "").strip()}
    for column in _BITLY_LINKS:
        link = cells.get(column, "").strip().split(",")[0].strip()
        slug = urlsplit(link if "//" in link else f"//{link}").path.strip("/")
        if slug:
            fields["slug"] = slug
            break
    if cells.get("title", "").strip():
        fields["title"] = cells["title"].strip()
    raw_tags = cells.get("tags", "")
    tags = [t.strip() for t in raw_tags.replace("|", ",").split(",") if t.strip()]
    if tags:
        fields["tags"] = tags
    created = next((cells[c] for c in _BITLY_CREATED if cells.get(c)), None)
    return fields, True, _time(created, "created_at")


#: format -> (characters dropped from header names, required, known columns (None: any), row)
FORMATS: dict[str, tuple[str, tuple[str, ...], tuple[str, ...] | None, Callable[..., _Row]]] = {
    "scanlet": (" ", scanlet_csv.REQUIRED, scanlet_csv.COLUMNS, _scanlet),
    "shlink": (" ", ("longurl",), None, _shlink),
    "bitly": (" _", ("longurl",), None, _bitly),
}


def _rows(path: Path) -> Iterator[list[str]]:
    csv.field_size_limit(MAX_CELL)
    try:
        with path.open(encoding="utf-8-sig", newline="") as file:
            yield from csv.reader(file)
    except OSError as exc:
        raise SourceError(f"cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise SourceError(f"{path} is not UTF-8 text") from None


def _count_rows(path: Path) -> int:
    """The rows after the header that are not blank: one code or failure each. A file that
    breaks off (not CSV, not UTF-8) is counted up to there, as the import reads it."""
    counted = 0
    try:
        for row in itertools.islice(_rows(path), 1, None):
            if any(cell.strip() for cell in row):
                counted += 1
    except csv.Error:
        counted += 1  # a failure of its own, and the reading ends there
    except SourceError:
        pass
    return counted


async def csv_items(path: Path, fmt: str) -> AsyncIterator[SourceItem]:
    """The codes of the CSV file ``path`` in format ``fmt``."""
    drop, required, known, convert = FORMATS[fmt]
    rows = _rows(path)
    try:
        header = [_normal(name, drop) for name in next(rows)]
    except StopIteration:
        raise SourceError(f"{path} is empty (a header row is needed)") from None
    except csv.Error as exc:
        raise SourceError(f"{path}: the header row is not CSV ({exc})") from None
    missing = [name for name in required if name not in header]
    if missing:
        raise SourceError(f"{path}: the {fmt} format needs the column(s) {', '.join(missing)}")
    unknown = [name for name in header if known is not None and name not in known]
    if unknown:
        raise SourceError(f"{path}: unknown column(s) for the {fmt} format: {', '.join(unknown)}")
    yield SourceTotal(await anyio.to_thread.run_sync(_count_rows, path))
    line = 1
    while True:
        line += 1
        label = f"{path.name} row {line}"
        try:
            row = next(rows)
        except StopIteration:
            return
        except csv.Error as exc:
            yield SourceFailure(label, f"not CSV ({exc})")
            continue
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            yield SourceFailure(label, f"{len(row)} cells for {len(header)} columns")
            continue
        try:
            fields, enabled, created_at = convert(dict(zip(header, row, strict=True)))
        except ValueError as exc:
            yield SourceFailure(label, str(exc))
            continue
        yield SourceCode(
            origin=_origin(fmt, fields, line),
            label=label,
            fields=fields,
            created_at=created_at,
            enabled=enabled,
        )


def _origin(fmt: str, fields: dict[str, Any], line: int) -> str:
    """A row's origin: its slug and target (the same row imported again is kept; another
    target under the same slug is a clash), or its line when it has no slug."""
    target = str(fields.get("target", ""))
    digest = hashlib.sha256(target.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    slug = fields.get("slug")
    return f"csv:{fmt}:{slug}:{digest}" if slug else f"csv:{fmt}:line {line}:{digest}"
