"""Throwaway PostgreSQL databases for tests: one template per run, one copy per test.

The machine's PostgreSQL (``SCANLET_TEST_POSTGRES``, default the local server as
``postgres``) is asked for a template database named after this run, migrated once, and
each test that wants PostgreSQL gets ``CREATE DATABASE ... TEMPLATE`` of it (tens of
milliseconds). Every database of the run is dropped at the end, and the names carry the
run's random prefix, so runs never see each other's data.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import asyncpg

__all__ = ("ADMIN_URL", "PgDatabases", "run_async")

T = TypeVar("T")

ADMIN_URL = os.environ.get("SCANLET_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` on a loop of its own in a thread of its own (callers may be inside a
    running loop, or in a sync fixture between an async test's loop runs)."""
    result: list[T] = []
    error: list[BaseException] = []

    def target() -> None:
        try:
            result.append(asyncio.run(coro))
        except BaseException as exc:  # handed to the caller's thread
            error.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if error:
        raise error[0]
    return result[0]


def url_of(name: str) -> str:
    """The URL of the database ``name`` on the admin URL's server."""
    parts = urlsplit(ADMIN_URL)
    return urlunsplit(parts._replace(path=f"/{name}"))


class PgDatabases:
    """The databases of one test run."""

    def __init__(self) -> None:
        self.prefix = f"scanlet_t{secrets.token_hex(4)}"
        self.template = f"{self.prefix}_template"
        self._made: list[str] = []
        self._count = 0
        self._ready = False

    def _prepare(self) -> None:
        """Make the migrated template (on first use)."""
        if self._ready:
            return
        from scanlet.storage.postgres.storage import open_postgres

        async def make() -> None:
            admin = await asyncpg.connect(ADMIN_URL)
            try:
                await admin.execute(f'CREATE DATABASE "{self.template}"')
            finally:
                await admin.close()
            async with open_postgres(url_of(self.template)):
                pass

        run_async(make())
        self._made.append(self.template)
        self._ready = True

    def create(self) -> str:
        """A new, migrated, empty database: its URL."""
        self._prepare()
        self._count += 1
        name = f"{self.prefix}_{self._count}"

        async def make() -> None:
            admin = await asyncpg.connect(ADMIN_URL)
            try:
                await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"')
            finally:
                await admin.close()

        run_async(make())
        self._made.append(name)
        return url_of(name)

    def create_empty(self) -> str:
        """A new database without Scanlet's tables: its URL."""
        self._count += 1
        name = f"{self.prefix}_{self._count}"

        async def make() -> None:
            admin = await asyncpg.connect(ADMIN_URL)
            try:
                await admin.execute(f'CREATE DATABASE "{name}"')
            finally:
                await admin.close()

        run_async(make())
        self._made.append(name)
        return url_of(name)

    def drop(self, url: str) -> None:
        """Drop one database of this run now (connections still open are ended)."""
        name = urlsplit(url).path.lstrip("/")
        if name in self._made:
            self._made.remove(name)
            run_async(_drop([name]))

    def drop_all(self) -> None:
        """Drop every database of this run."""
        made, self._made = self._made, []
        if made:
            run_async(_drop(made))


async def _drop(names: list[str]) -> None:
    admin = await asyncpg.connect(ADMIN_URL)
    try:
        for name in reversed(names):
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()
