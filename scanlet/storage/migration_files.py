"""Numbered SQL migrations shipped as package data, read the same way for every adapter.

Files are named ``NNNN_description.sql`` and must run 1..N without gaps; each adapter
applies them in its own way and records them in its ``schema_version`` table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

__all__ = ("Migration", "migrations_in")

_NAME_RE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True, slots=True)
class Migration:
    """One numbered schema change."""

    version: int
    name: str
    sql: str


def migrations_in(package: str) -> list[Migration]:
    """Every migration in ``package``'s directory, in version order."""
    found: list[Migration] = []
    for entry in resources.files(package).iterdir():
        match = _NAME_RE.match(entry.name)
        if match:
            found.append(Migration(int(match.group(1)), match.group(2), entry.read_text("utf-8")))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if versions != list(range(1, len(found) + 1)):
        raise RuntimeError(f"migration numbers must run 1..N without gaps, found {versions}")
    return found
