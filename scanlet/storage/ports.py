"""The storage ports: what the contexts and the HTTP layer ask of storage, whatever the engine.

Each Protocol is implemented by the SQLite adapter (``scanlet.storage.sqlite``) and, for
several instances, by the PostgreSQL one. A method that changes a context's tables also
appends that change's events to the log, in one transaction: the context hands in the rows
and the log entries it made, and the adapter decides how to commit them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Protocol

from scanlet.storage.records import CodePage, CodeRow, NewEvent, ScanBatch, ScanCommit

__all__ = ("CodeRepository", "ScanRepository")


class CodeRepository(Protocol):
    """The codes catalogue (written by the codes context only)."""

    async def all(self) -> list[CodeRow]:
        """Every code, deleted ones included (their slugs stay taken)."""
        ...

    async def get(self, slug: str) -> CodeRow | None:
        """The live code ``slug``, or None."""
        ...

    async def page(
        self, *, limit: int, cursor: str | None, tag: str | None, q: str | None
    ) -> CodePage:
        """A page of live codes, newest first."""
        ...

    async def create(self, row: CodeRow, entry: NewEvent, recorded_at: datetime) -> int:
        """Store a new code and its event; the event's seq."""
        ...

    async def update(self, row: CodeRow, entry: NewEvent, recorded_at: datetime) -> int:
        """Overwrite a code's fields and append its event; the event's seq."""
        ...

    async def delete(self, slug: str, at: datetime, entry: NewEvent, recorded_at: datetime) -> int:
        """Turn a code into a tombstone and append its event; the event's seq."""
        ...


class ScanRepository(Protocol):
    """The scans context's tables: scan counters, device event ids, the daily salts."""

    async def load_counters(self) -> dict[str, int]:
        """Every code's scan count."""
        ...

    async def counts_for(self, slugs: Iterable[str]) -> dict[str, int]:
        """Scan counts for ``slugs`` (missing ones have no scans yet)."""
        ...

    async def salt_for(self, day: date) -> bytes:
        """The visitor salt of ``day``, created on first use; older days' salts are
        forgotten after two days."""
        ...

    async def record(self, batch: ScanBatch, recorded_at: datetime) -> ScanCommit:
        """One group commit: claim the device ids, append every new event, add to the
        counters, all in one transaction."""
        ...
