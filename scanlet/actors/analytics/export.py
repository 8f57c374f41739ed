"""Raw scans as CSV or JSON lines, one batch of rows at a time (for streaming out)."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Sequence

import msgspec

from scanlet.storage.records import RawScan

__all__ = (
    "CSV_COLUMNS",
    "csv_header",
    "csv_rows",
    "encode_batches",
    "jsonl_rows",
    "runs_as_formula",
)

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
    "target",
    "rule",
    "outcome",
    "excluded",
)
# Spreadsheets run a cell starting with one of these as a formula ("CSV injection"); the
# user agent, referrer and device fields are written by whoever scans, so such cells get a
# leading apostrophe, which spreadsheets show as text (OWASP's CSV injection advice). Some
# spreadsheets trim leading whitespace before they look, and some take the fullwidth signs
# that East Asian input methods type for the ASCII ones, so the first character after any
# leading whitespace counts, fullwidth forms included.
_FORMULA_SIGNS = frozenset("=+-@\uff1d\uff0b\uff0d\uff20")
# A cell that starts with a tab or a line break is neutralised whatever follows: pasted or
# re-split, its next line or field starts a cell of its own.
_BREAK_START = ("\t", "\r", "\n")
_json = msgspec.json.Encoder()


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        value = _json.encode(value).decode()
    text = str(value)
    return "'" + text if runs_as_formula(text) else text


def runs_as_formula(text: str) -> bool:
    """Whether a spreadsheet might read ``text`` as a formula: its first character after
    leading whitespace (every Unicode space, the no-break and ideographic ones included,
    and line breaks) is a formula sign, or it starts with a tab or a line break."""
    if text.startswith(_BREAK_START):
        return True
    stripped = text.lstrip()  # str.lstrip() with no argument strips all Unicode whitespace
    return bool(stripped) and stripped[0] in _FORMULA_SIGNS


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
