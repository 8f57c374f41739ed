"""Numbered SQL migrations shipped as package data, read the same way for every adapter.

Files are named ``NNNN_description.sql`` with unique, ascending numbers; each adapter applies
every one its ``schema_version`` table does not list yet, in number order. Numbers may have
gaps: work on several branches reserves numbers ahead (0009 on one, 0010 on another), and a
database migrated on one branch must still get the other's migration once they meet, which
"apply what is newer than the highest applied" would skip.
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
    if len(set(versions)) != len(versions) or (versions and versions[0] < 1):
        raise RuntimeError(f"migration numbers must be unique and from 1 up, found {versions}")
    return found
