"""What a scan handed in from outside (a device's event, an imported visit) may carry: the
rules device ingest and imports share, so neither can store what the other refuses."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from typing import Any

import msgspec

__all__ = ("MAX_DATA_BYTES", "MAX_DATA_DEPTH", "canonical_id", "data_error")

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
