"""What a scan handed in from outside (a device's event, an imported visit) may carry: the
rules device ingest and imports share, so neither can store what the other refuses."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

import msgspec

from scanlet.actors.codes.domains import MAX_HOST_LENGTH
from scanlet.actors.codes.validation import MAX_SLUG_LENGTH
from scanlet.actors.scans.messages import ImportedScan
from scanlet.timerange import time_error

__all__ = (
    "MAX_CLOCK_SKEW",
    "MAX_DATA_BYTES",
    "MAX_DATA_DEPTH",
    "MAX_VISIT_PATH",
    "canonical_id",
    "data_error",
    "imported_visit_error",
)

#: How far ahead of this server's clock a scan's time may be. Devices replay offline scans
#: later, so old times are fine; a time far in the future is a broken clock, and storing it
#: would put a scan in a bucket that has not happened yet.
MAX_CLOCK_SKEW = timedelta(hours=1)
#: The longest path an imported visit may name: an orphan visit's path on another domain
#: is named by its key, ``host/slug``.
MAX_VISIT_PATH = MAX_HOST_LENGTH + 1 + MAX_SLUG_LENGTH

#: What a device may attach to one scan (``data``), encoded, and how deeply it may nest: a
#: scan's event is read back by every follower, so it stays small and shallow.
MAX_DATA_BYTES = 4096
MAX_DATA_DEPTH = 8
#: A UUID as ``str(uuid.UUID(...))`` writes it.
_CANONICAL = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _depth(value: object, limit: int) -> int:
    """How deeply ``value`` nests, counting no further than ``limit + 1``."""
    if limit < 0:
        return 1
    if isinstance(value, dict):
        children: Iterable[object] = value.values()
    elif isinstance(value, list):
        children = value
    else:
        return 0
    return 1 + max((_depth(child, limit - 1) for child in children), default=0)


def data_error(data: dict[str, Any] | None) -> str | None:
    """Why ``data`` cannot be stored with a scan, or None."""
    if data is None:
        return None
    if len(msgspec.json.encode(data)) > MAX_DATA_BYTES:
        return f"data is larger than {MAX_DATA_BYTES} bytes encoded"
    if _depth(data, MAX_DATA_DEPTH) > MAX_DATA_DEPTH:
        return f"data nests deeper than {MAX_DATA_DEPTH} levels"
    return None


def canonical_id(raw: str) -> str | None:
    """A scan id from outside in its canonical UUID form, or None if it is not a UUID (the
    ids claimed against duplicates must be spelled one way)."""
    if _CANONICAL.fullmatch(raw):
        # Already spelled that way (devices send what uuid4() prints): parsing and printing
        # it again, 3 us, was a tenth of ingesting an event.
        return raw
    try:
        return str(uuid.UUID(raw))
    except ValueError:
        return None


def imported_visit_error(scan: ImportedScan, now: datetime) -> str | None:
    """Why an imported visit cannot be stored (the rules device ingest applies, and the
    path's), or None: the one check every way an import reaches the scans context makes."""
    if not 1 <= len(scan.slug) <= MAX_VISIT_PATH or not scan.slug.isprintable():
        which = "an orphan visit's" if scan.orphan else "a visit's"
        return f"{which} path must be 1 to {MAX_VISIT_PATH} printable characters"
    problem = time_error(scan.occurred_at)
    if problem is None and scan.occurred_at > now + MAX_CLOCK_SKEW:
        problem = "is in the future"
    if problem is not None:
        return f"time {problem}"
    if canonical_id(scan.id) is None:
        return "id must be a UUID"
    return data_error(scan.data)
