"""Raw scans as CSV or JSON lines, one batch of rows at a time (for streaming out)."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Sequence

import msgspec

from scanlet.storage.raw_scans import RawScan

__all__ = ("CSV_COLUMNS", "csv_header", "csv_rows", "encode_batches", "jsonl_rows")

CSV_COLUMNS = (
    "seq",
    "id",
    "slug",
    "orphan",
    "occurred_at",
    "source",
    "ip",
    "visitor",
    "user_agent",
    "referrer",
    "referrer_host",
    "country",
    "device",
    "os",
    "browser",
    "bot",
    "device_id",
    "data",
)
# Spreadsheets run a cell starting with one of these as a formula ("CSV injection"); the
# user agent, referrer and device fields are written by whoever scans, so such cells get a
# leading apostrophe, which spreadsheets show as text (OWASP's advice).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_json = msgspec.json.Encoder()


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        value = _json.encode(value).decode()
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def csv_header() -> str:
    """The CSV header line."""
    return ",".join(CSV_COLUMNS) + "\r\n"


def csv_rows(scans: Sequence[RawScan]) -> str:
    """``scans`` as CSV lines (RFC 4180 quoting, CRLF line ends)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerows([_cell(getattr(scan, column)) for column in CSV_COLUMNS] for scan in scans)
    return out.getvalue()


def jsonl_rows(scans: Sequence[RawScan]) -> str:
    """``scans`` as JSON lines, one object per scan."""
    return "".join(_json.encode(scan).decode() + "\n" for scan in scans)


async def encode_batches(batches: AsyncIterator[list[RawScan]], fmt: str) -> AsyncIterator[str]:
    """Text chunks of ``fmt`` (``csv`` or ``jsonl``) for each batch; CSV starts with its
    header even when there are no rows."""
    if fmt == "csv":
        yield csv_header()
    async for batch in batches:
        yield csv_rows(batch) if fmt == "csv" else jsonl_rows(batch)
