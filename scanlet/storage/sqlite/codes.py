"""The codes catalogue table: written by the codes context, read by the API's list and get."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Collection, Sequence
from datetime import datetime

from scanlet.storage.cursors import decode_cursor, encode_cursor, time_part
from scanlet.storage.records import CodePage, CodeRow, NewEvent, StoredLogo
from scanlet.storage.rows import CODE_COLUMNS as _COLUMNS
from scanlet.storage.rows import code_row as _row
from scanlet.storage.rows import decode_list, encode_list
from scanlet.storage.rows import format_optional as _fmt_opt
from scanlet.storage.sqlite.database import Database
from scanlet.storage.sqlite.eventlog import EventLog
from scanlet.storage.sqlite.lookups import pairs_for
from scanlet.storage.timefmt import format_time

__all__ = ("CodeStore", "write_with_event")

#: Whether the code ``{key}`` is on one of the hosts of the JSON array ``{hosts}`` (``""``:
#: the default domain, whose keys have no ``host/`` part; a slug never contains ``/``).
_ON_DOMAINS = (
    "(CASE WHEN instr({key}, '/') = 0 THEN '' ELSE substr({key}, 1, instr({key}, '/') - 1) END)"
    " IN (SELECT value FROM json_each({hosts}))"
)


async def write_with_event(
    db: Database,
    entry: NewEvent,
    recorded_at: datetime,
    change: Callable[[sqlite3.Connection], object],
) -> int:
    """Append ``entry`` to the log and make ``change`` to the codes context's tables in one
    write transaction (codes and domains alike); the event's seq."""
    stamp = format_time(recorded_at)

    def store(conn: sqlite3.Connection) -> int:
        seq = EventLog.add(conn, [entry], stamp)
        change(conn)
        return seq

    return await db.write(store)


class CodeStore:
    """The ``codes`` and ``code_tags`` tables."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def all(self) -> list[CodeRow]:
        """Every code, deleted ones included (to rebuild the in-memory index on start)."""
        return [_row(row) for row in await self._db.fetch_all(f"SELECT {_COLUMNS} FROM codes")]

    async def get(self, slug: str) -> CodeRow | None:
        """One live code, or None (also for deleted ones)."""
        row = await self._db.fetch_one(
            f"SELECT {_COLUMNS} FROM codes WHERE slug = ? AND deleted_at IS NULL", (slug,)
        )
        return _row(row) if row else None

    async def find(self, slug: str) -> CodeRow | None:
        """The code ``slug`` as stored, a deleted one too (its tombstone), or None."""
        row = await self._db.fetch_one(f"SELECT {_COLUMNS} FROM codes WHERE slug = ?", (slug,))
        return _row(row) if row else None

    async def tags_of(self, slugs: Collection[str]) -> dict[str, tuple[str, ...]]:
        """The tags of the codes ``slugs`` (deleted ones: the tags they had)."""
        # One JSON parameter however many slugs: no limit on bound variables to meet.
        sql = "SELECT slug, tags FROM codes WHERE slug IN (SELECT value FROM json_each(?))"
        return {
            str(row[0]): decode_list(row[1])
            for row in await self._db.fetch_all(sql, (encode_list(tuple(slugs)),))
        }

    async def slugs_within(
        self, tags: Collection[str] | None, domains: Collection[str] | None = None
    ) -> list[str]:
        """Every code carrying one of ``tags`` (None: any) on one of ``domains`` (None: any;
        ``""`` the default domain), deleted ones by the tags they had, sorted."""
        # Live codes through the tag index; tombstones keep their tags in the row only.
        if tags is None:
            source = "SELECT slug FROM codes"
        else:
            source = (
                "SELECT slug FROM code_tags WHERE tag IN (SELECT value FROM json_each(:tags))"
                " UNION SELECT c.slug FROM codes c, json_each(c.tags) t"
                " WHERE c.deleted_at IS NOT NULL"
                " AND t.value IN (SELECT value FROM json_each(:tags))"
            )
        where = (
            "" if domains is None else f" WHERE {_ON_DOMAINS.format(key='slug', hosts=':domains')}"
        )
        sql = f"SELECT slug FROM ({source}){where} ORDER BY 1"
        params = {
            "tags": encode_list(tuple(tags or ())),
            "domains": encode_list(tuple(domains or ())),
        }
        return [str(row[0]) for row in await self._db.fetch_all(sql, params)]

    async def page(
        self,
        *,
        limit: int,
        cursor: str | None = None,
        tag: str | None = None,
        q: str | None = None,
        within: Sequence[str] | None = None,
        domain: str | None = None,
        domains: Sequence[str] | None = None,
    ) -> CodePage:
        """Live codes, newest first, filtered by tag, by a substring of slug/title/target
        and by domain (the key's host part, ``""`` for the default domain's bare slugs);
        ``domains`` is a domain limit (a key's or user's)."""
        where = ["c.deleted_at IS NULL"]
        params: list[object] = []
        if domain == "":
            where.append("instr(c.slug, '/') = 0")
        elif domain is not None:
            where.append(f"substr(c.slug, 1, {len(domain) + 1}) = ?")
            params.append(f"{domain}/")
        if tag is not None:
            where.append("c.slug IN (SELECT slug FROM code_tags WHERE tag = ?)")
            params.append(tag)
        if within is not None:
            # Only codes with one of these tags (a tag-limited key or user).
            marks = ", ".join("?" * len(within)) or "NULL"
            where.append(f"c.slug IN (SELECT slug FROM code_tags WHERE tag IN ({marks}))")
            params.extend(within)
        if domains is not None:
            where.append(_ON_DOMAINS.format(key="c.slug", hosts="?"))
            params.append(encode_list(tuple(domains)))
        if q:
            pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            where.append(
                "(c.slug LIKE ? ESCAPE '\\' OR c.title LIKE ? ESCAPE '\\'"
                " OR c.target LIKE ? ESCAPE '\\')"
            )
            params.extend([pattern] * 3)
        if cursor is not None:
            after_created, after_slug = decode_cursor(cursor, 2)
            time_part(after_created)
            where.append("(c.created_at, c.slug) < (?, ?)")
            params.extend([after_created, after_slug])
        columns = ", ".join(f"c.{name.strip()}" for name in _COLUMNS.split(","))
        sql = (
            f"SELECT {columns} FROM codes c WHERE {' AND '.join(where)}"
            " ORDER BY c.created_at DESC, c.slug DESC LIMIT ?"
        )
        params.append(limit + 1)
        rows = [_row(row) for row in await self._db.fetch_all(sql, params)]
        more = len(rows) > limit
        rows = rows[:limit]
        next_cursor = (
            encode_cursor(format_time(rows[-1].created_at), rows[-1].slug) if more else None
        )
        return CodePage(rows, next_cursor)

    async def create(
        self,
        row: CodeRow,
        entry: NewEvent,
        recorded_at: datetime,
        *,
        origin: str | None = None,
        logo: StoredLogo | None = None,
    ) -> int:
        """Store a new code and its event (and the import item it was made of, and its logo)
        in one transaction; the event's seq."""

        def insert(conn: sqlite3.Connection) -> None:
            self._insert(conn, row)
            if logo is not None:
                self._store_logo(conn, row.slug, logo)
            if origin is not None:
                conn.execute(
                    "INSERT INTO import_origins (origin, slug) VALUES (?, ?)", (origin, row.slug)
                )

        return await self._with_event(entry, recorded_at, insert)

    async def origins(self, origins: Sequence[str]) -> dict[str, str]:
        """The slugs of the codes imports made of ``origins``."""
        found = await pairs_for(self._db, "import_origins", "origin", "slug", origins)
        return {origin: str(slug) for origin, slug in found.items()}

    async def update(self, row: CodeRow, entry: NewEvent, recorded_at: datetime) -> int:
        """Overwrite a code's fields and append its event; the event's seq."""
        return await self._with_event(entry, recorded_at, lambda conn: self._update(conn, row))

    async def delete(self, slug: str, at: datetime, entry: NewEvent, recorded_at: datetime) -> int:
        """Turn a code into a tombstone and append its event; the event's seq."""
        return await self._with_event(
            entry, recorded_at, lambda conn: self._mark_deleted(conn, slug, at)
        )

    async def set_logo(
        self,
        slug: str,
        logo: StoredLogo | None,
        at: datetime,
        entry: NewEvent,
        recorded_at: datetime,
    ) -> int:
        """Give a code ``logo`` (None: take its logo away) and append its event; the
        event's seq."""

        def change(conn: sqlite3.Connection) -> None:
            digest = None if logo is None else logo.digest
            conn.execute(
                "UPDATE codes SET logo = ?, updated_at = ? WHERE slug = ?",
                (digest, format_time(at), slug),
            )
            if logo is None:
                conn.execute("DELETE FROM code_logos WHERE slug = ?", (slug,))
            else:
                self._store_logo(conn, slug, logo)

        return await self._with_event(entry, recorded_at, change)

    async def logo_digest(self, slug: str) -> str | None:
        """The content hash of the live code ``slug``'s logo, or None."""
        row = await self._db.fetch_one(
            "SELECT logo FROM codes WHERE slug = ? AND deleted_at IS NULL", (slug,)
        )
        return None if row is None else row[0]

    async def logo(self, slug: str) -> StoredLogo | None:
        """The live code ``slug``'s logo, or None."""
        row = await self._db.fetch_one(
            "SELECT l.media_type, l.digest, l.data FROM code_logos l"
            " JOIN codes c ON c.slug = l.slug WHERE l.slug = ? AND c.deleted_at IS NULL",
            (slug,),
        )
        return None if row is None else StoredLogo(row[0], row[1], bytes(row[2]))

    async def _with_event(
        self, entry: NewEvent, recorded_at: datetime, change: Callable[[sqlite3.Connection], object]
    ) -> int:
        return await write_with_event(self._db, entry, recorded_at, change)

    @staticmethod
    def _insert(conn: sqlite3.Connection, row: CodeRow) -> None:
        """Store a new code within the caller's write transaction."""
        conn.execute(
            f"INSERT INTO codes ({_COLUMNS})"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, NULL, ?)",
            (
                row.slug,
                row.target,
                row.title,
                encode_list(row.tags),
                int(row.enabled),
                _fmt_opt(row.valid_from),
                _fmt_opt(row.valid_until),
                row.max_scans,
                row.redirect_status,
                format_time(row.created_at),
                format_time(row.updated_at),
                row.routing,
                row.password_hash,
                row.content,
            ),
        )
        CodeStore._write_tags(conn, row)

    @staticmethod
    def _store_logo(conn: sqlite3.Connection, slug: str, logo: StoredLogo) -> None:
        """Give a code ``logo`` within the caller's write transaction."""
        conn.execute("UPDATE codes SET logo = ? WHERE slug = ?", (logo.digest, slug))
        conn.execute(
            "INSERT INTO code_logos (slug, digest, media_type, data) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (slug) DO UPDATE SET digest = excluded.digest,"
            " media_type = excluded.media_type, data = excluded.data",
            (slug, logo.digest, logo.media_type, logo.data),
        )

    @staticmethod
    def _update(conn: sqlite3.Connection, row: CodeRow) -> None:
        """Overwrite a code's editable fields within the caller's write transaction."""
        conn.execute(
            "UPDATE codes SET target = ?, title = ?, tags = ?, enabled = ?, valid_from = ?,"
            " valid_until = ?, max_scans = ?, redirect_status = ?, updated_at = ?, routing = ?,"
            " password_hash = ?, content = ? WHERE slug = ?",
            (
                row.target,
                row.title,
                encode_list(row.tags),
                int(row.enabled),
                _fmt_opt(row.valid_from),
                _fmt_opt(row.valid_until),
                row.max_scans,
                row.redirect_status,
                format_time(row.updated_at),
                row.routing,
                row.password_hash,
                row.content,
                row.slug,
            ),
        )
        conn.execute("DELETE FROM code_tags WHERE slug = ?", (row.slug,))
        CodeStore._write_tags(conn, row)

    @staticmethod
    def _mark_deleted(conn: sqlite3.Connection, slug: str, at: datetime) -> None:
        """Turn a code into a tombstone within the caller's write transaction."""
        conn.execute(
            "UPDATE codes SET deleted_at = ?, updated_at = ? WHERE slug = ?",
            (format_time(at), format_time(at), slug),
        )
        conn.execute("DELETE FROM code_tags WHERE slug = ?", (slug,))
        conn.execute("DELETE FROM code_logos WHERE slug = ?", (slug,))

    @staticmethod
    def _write_tags(conn: sqlite3.Connection, row: CodeRow) -> None:
        if row.tags:
            conn.executemany(
                "INSERT OR IGNORE INTO code_tags (tag, slug) VALUES (?, ?)",
                [(tag, row.slug) for tag in row.tags],
            )
