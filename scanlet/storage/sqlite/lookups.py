"""Looking rows up by many keys at once: ``WHERE key IN (...)`` a chunk at a time, since
SQLite limits the parameters of one statement."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from scanlet.storage.sqlite.database import Database

__all__ = ("CHUNK", "pairs_for")

#: Keys per statement (well below SQLite's parameter limit).
CHUNK = 500


async def pairs_for(
    db: Database, table: str, key: str, value: str, keys: Iterable[str]
) -> dict[str, Any]:
    """``{key: value}`` of the rows of ``table`` whose ``key`` is one of ``keys`` (names
    come from the adapter's own code, never from input)."""
    wanted = list(dict.fromkeys(keys))
    found: dict[str, Any] = {}
    for start in range(0, len(wanted), CHUNK):
        chunk = wanted[start : start + CHUNK]
        marks = ",".join("?" * len(chunk))
        sql = f"SELECT {key}, {value} FROM {table} WHERE {key} IN ({marks})"
        found.update({row[0]: row[1] for row in await db.fetch_all(sql, chunk)})
    return found
