"""Reading a test's database from outside the server, whichever the backend: a separate
connection sees only what was committed."""

from __future__ import annotations

import re
import sqlite3
from typing import Any

import asyncpg

from scanlet.config import Settings
from tests.pg import run_async

__all__ = ("query",)


def query(settings: Settings, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    """Rows of ``sql`` (``?`` placeholders) on the database ``settings`` name."""
    if settings.postgres_url is None:
        with sqlite3.connect(settings.db) as conn:
            return [tuple(row) for row in conn.execute(sql, params).fetchall()]
    url = settings.postgres_url
    counter = iter(range(1, 1000))
    numbered = re.sub(r"\?", lambda _: f"${next(counter)}", sql)

    async def fetch() -> list[tuple[Any, ...]]:
        conn = await asyncpg.connect(url)
        try:
            return [tuple(row.values()) for row in await conn.fetch(numbered, *params)]
        finally:
            await conn.close()

    return run_async(fetch())
