"""Archives written by hand for import tests: a header, one code and its visits."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

__all__ = ("write_archive",)

_HEADER = {"kind": "scanlet-archive", "version": 1, "exported_at": "2026-01-01T00:00:00Z"}


def write_archive(path: Path, slug: str, visits: int) -> Path:
    """An archive at ``path`` of the code ``slug`` and ``visits`` visits of it, each with
    an id of its own (derived from ``slug``, so another slug's never clash)."""
    code = {
        "kind": "code",
        "slug": slug,
        "target": "https://example.com/",
        "created_at": "2025-01-01T00:00:00Z",
        "updated_at": "2025-01-01T00:00:00Z",
    }
    scans = [
        {
            "kind": "scan",
            "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{slug}#{n}")),
            "slug": slug,
            "occurred_at": f"2025-01-{1 + n % 28:02d}T12:00:00Z",
            "source": "qr",
            "user_agent": f"Mozilla/5.0 (test {n})",
        }
        for n in range(visits)
    ]
    lines = [_HEADER, code, *scans]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path
