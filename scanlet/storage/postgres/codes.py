"""The codes catalogue on PostgreSQL: ``codes`` and ``code_tags``.

Every change also notifies the channel ``scanlet_codes`` with the slug, in its transaction
(so the notice goes out at commit, or never): the other instances reload that code into
their redirect index at once, without waiting for the log.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Sequence
from datetime import datetime

from scanlet.storage.cursors import decode_cursor, encode_cursor, time_part
from scanlet.storage.postgres.database import Connection, PgDatabase
from scanlet.storage.postgres.eventlog import EventLog
from scanlet.storage.records import CodePage, CodeRow, NewEvent, StoredLogo
from scanlet.storage.rows import CODE_COLUMNS, code_row, decode_list, encode_list, format_optional
from scanlet.storage.timefmt import format_time

__all__ = ("CODES_CHANNEL", "CodeStore", "write_with_event")

#: Notified with a slug whenever that code changes.
CODES_CHANNEL = "scanlet_codes"


def _on_domains(key: str, param: int) -> str:
    """Whether the code ``key`` is on one of the hosts of parameter ``param`` (``""``: the
    default domain, whose keys have no ``host/`` part; a slug never contains ``/``)."""
    return (
        f"(CASE WHEN strpos({key}, '/') = 0 THEN '' ELSE split_part({key}, '/', 1) END)"
        f" = ANY(${param}::text[])"
    )


class CodeStore:
    """The ``codes`` and ``code_tags`` tables."""

    def __init__(self, db: PgDatabase) -> None:
        self._db = db

    async def all(self) -> list[CodeRow]:
        """Every code, deleted ones included."""
        return [code_row(row) for row in await self._db.fetch(f"SELECT {CODE_COLUMNS} FROM codes")]

    async def get(self, slug: str) -> CodeRow | None:
        """One live code, or None."""
        row = await self._db.fetchrow(
            f"SELECT {CODE_COLUMNS} FROM codes WHERE slug = $1 AND deleted_at IS NULL", slug
        )
        return code_row(row) if row else None

    async def find(self, slug: str) -> CodeRow | None:
        """The code ``slug`` as stored, a deleted one too (its tombstone), or None."""
        row = await self._db.fetchrow(f"SELECT {CODE_COLUMNS} FROM codes WHERE slug = $1", slug)
        return code_row(row) if row else None

    async def tags_of(self, slugs: Collection[str]) -> dict[str, tuple[str, ...]]:
        """The tags of the codes ``slugs`` (deleted ones: the tags they had)."""
        rows = await self._db.fetch(
            "SELECT slug, tags FROM codes WHERE slug = ANY($1::text[])", list(slugs)
        )
        return {str(row[0]): decode_list(row[1]) for row in rows}

    async def slugs_within(
        self, tags: Collection[str] | None, domains: Collection[str] | None = None
    ) -> list[str]:
        """Every code carrying one of ``tags`` (None: any) on one of ``domains`` (None: any;
        ``""`` the default domain), deleted ones by the tags they had, sorted."""
        args: list[object] = []
        if tags is None:
            source = "SELECT slug FROM codes"
        else:
            # Live codes through the tag index; tombstones keep their tags in the row only.
            args.append(list(tags))
            source = (
                "SELECT slug FROM code_tags WHERE tag = ANY($1::text[])"
                " UNION SELECT slug FROM codes"
                " WHERE deleted_at IS NOT NULL AND tags::jsonb ?| $1::text[]"
            )
        where = ""
        if domains is not None:
            args.append(list(domains))
            where = f" WHERE {_on_domains('slug', len(args))}"
        rows = await self._db.fetch(
            f"SELECT slug FROM ({source}) AS found{where} ORDER BY 1", *args
        )
        return [str(row[0]) for row in rows]

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
        """Live codes, newest first, filtered by tag and by a substring of slug/title/target
        (ASCII letters in either case, as SQLite's LIKE matches them), and by domain (the
        key's host part, ``""`` for the default domain's bare slugs); ``domains`` is a domain
        limit (a key's or user's)."""
        where = ["c.deleted_at IS NULL"]
        args: list[object] = []
        if domain == "":
            where.append("strpos(c.slug, '/') = 0")
        elif domain is not None:
            args.append(f"{domain}/")
            where.append(f"left(c.slug, {len(domain) + 1}) = ${len(args)}")
        if tag is not None:
            args.append(tag)
            where.append(f"c.slug IN (SELECT slug FROM code_tags WHERE tag = ${len(args)})")
        if within is not None:
            # Only codes with one of these tags (a tag-limited key or user).
            args.append(list(within))
            where.append(
                f"c.slug IN (SELECT slug FROM code_tags WHERE tag = ANY(${len(args)}::text[]))"
            )
        if domains is not None:
            args.append(list(domains))
            where.append(_on_domains("c.slug", len(args)))
        if q:
            args.append("%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%")
            n = len(args)
            where.append(f"(c.slug ILIKE ${n} OR c.title ILIKE ${n} OR c.target ILIKE ${n})")
        if cursor is not None:
            after_created, after_slug = decode_cursor(cursor, 2)
            time_part(after_created)
            args.extend([after_created, after_slug])
            where.append(f"(c.created_at, c.slug) < (${len(args) - 1}, ${len(args)})")
        columns = ", ".join(f"c.{name.strip()}" for name in CODE_COLUMNS.split(","))
        args.append(limit + 1)
        sql = (
            f"SELECT {columns} FROM codes c WHERE {' AND '.join(where)}"
            f" ORDER BY c.created_at DESC, c.slug DESC LIMIT ${len(args)}"
        )
        rows = [code_row(row) for row in await self._db.fetch(sql, *args)]
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

        async def insert(conn: Connection) -> None:
            await _insert(conn, row)
            if logo is not None:
                await _store_logo(conn, row.slug, logo)
            if origin is not None:
                await conn.execute(
                    "INSERT INTO import_origins (origin, slug) VALUES ($1, $2)", origin, row.slug
                )

        return await self._with_event(row.slug, entry, recorded_at, insert)

    async def origins(self, origins: Sequence[str]) -> dict[str, str]:
        """The slugs of the codes imports made of ``origins``."""
        rows = await self._db.fetch(
            "SELECT origin, slug FROM import_origins WHERE origin = ANY($1::text[])",
            list(dict.fromkeys(origins)),
        )
        return {row[0]: row[1] for row in rows}

    async def update(self, row: CodeRow, entry: NewEvent, recorded_at: datetime) -> int:
        """Overwrite a code's fields and append its event; the event's seq."""
        return await self._with_event(row.slug, entry, recorded_at, lambda c: _update(c, row))

    async def delete(self, slug: str, at: datetime, entry: NewEvent, recorded_at: datetime) -> int:
        """Turn a code into a tombstone and append its event; the event's seq."""
        return await self._with_event(slug, entry, recorded_at, lambda c: _delete(c, slug, at))

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

        async def change(conn: Connection) -> None:
            digest = None if logo is None else logo.digest
            await conn.execute(
                "UPDATE codes SET logo = $2, updated_at = $3 WHERE slug = $1",
                slug,
                digest,
                format_time(at),
            )
            if logo is None:
                await conn.execute("DELETE FROM code_logos WHERE slug = $1", slug)
            else:
                await _store_logo(conn, slug, logo)

        return await self._with_event(slug, entry, recorded_at, change)

    async def logo_digest(self, slug: str) -> str | None:
        """The content hash of the live code ``slug``'s logo, or None."""
        digest: str | None = await self._db.fetchval(
            "SELECT logo FROM codes WHERE slug = $1 AND deleted_at IS NULL", slug
        )
        return digest

    async def logo(self, slug: str) -> StoredLogo | None:
        """The live code ``slug``'s logo, or None."""
        row = await self._db.fetchrow(
            "SELECT l.media_type, l.digest, l.data FROM code_logos l"
            " JOIN codes c ON c.slug = l.slug WHERE l.slug = $1 AND c.deleted_at IS NULL",
            slug,
        )
        return None if row is None else StoredLogo(row[0], row[1], bytes(row[2]))

    async def _with_event(
        self,
        slug: str,
        entry: NewEvent,
        recorded_at: datetime,
        change: Callable[[Connection], Awaitable[None]],
    ) -> int:
        return await write_with_event(self._db, slug, entry, recorded_at, change)


async def write_with_event(
    db: PgDatabase,
    key: str,
    entry: NewEvent,
    recorded_at: datetime,
    change: Callable[[Connection], Awaitable[None]],
) -> int:
    """Make ``change`` to the codes context's tables, append ``entry`` and notify the other
    instances of ``key`` (a code's key, or ``host/`` for a domain) in one transaction; the
    event's seq."""
    stamp = format_time(recorded_at)

    async def store(conn: Connection) -> int:
        await change(conn)
        seq = await EventLog.add(conn, [entry], stamp)
        await conn.execute("SELECT pg_notify($1, $2)", CODES_CHANNEL, key)
        return seq

    return await db.write(store)


async def _insert(conn: Connection, row: CodeRow) -> None:
    await conn.execute(
        f"INSERT INTO codes ({CODE_COLUMNS})"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, NULL, $12, $13, NULL, $14)",
        row.slug,
        row.target,
        row.title,
        encode_list(row.tags),
        row.enabled,
        format_optional(row.valid_from),
        format_optional(row.valid_until),
        row.max_scans,
        row.redirect_status,
        format_time(row.created_at),
        format_time(row.updated_at),
        row.routing,
        row.password_hash,
        row.content,
    )
    await _write_tags(conn, row)


async def _store_logo(conn: Connection, slug: str, logo: StoredLogo) -> None:
    await conn.execute("UPDATE codes SET logo = $2 WHERE slug = $1", slug, logo.digest)
    await conn.execute(
        "INSERT INTO code_logos (slug, digest, media_type, data) VALUES ($1, $2, $3, $4)"
        " ON CONFLICT (slug) DO UPDATE SET digest = excluded.digest,"
        " media_type = excluded.media_type, data = excluded.data",
        slug,
        logo.digest,
        logo.media_type,
        logo.data,
    )


async def _update(conn: Connection, row: CodeRow) -> None:
    await conn.execute(
        "UPDATE codes SET target = $2, title = $3, tags = $4, enabled = $5, valid_from = $6,"
        " valid_until = $7, max_scans = $8, redirect_status = $9, updated_at = $10,"
        " routing = $11, password_hash = $12, content = $13 WHERE slug = $1",
        row.slug,
        row.target,
        row.title,
        encode_list(row.tags),
        row.enabled,
        format_optional(row.valid_from),
        format_optional(row.valid_until),
        row.max_scans,
        row.redirect_status,
        format_time(row.updated_at),
        row.routing,
        row.password_hash,
        row.content,
    )
    await conn.execute("DELETE FROM code_tags WHERE slug = $1", row.slug)
    await _write_tags(conn, row)


async def _delete(conn: Connection, slug: str, at: datetime) -> None:
    await conn.execute(
        "UPDATE codes SET deleted_at = $2, updated_at = $2 WHERE slug = $1", slug, format_time(at)
    )
    await conn.execute("DELETE FROM code_tags WHERE slug = $1", slug)
    await conn.execute("DELETE FROM code_logos WHERE slug = $1", slug)


async def _write_tags(conn: Connection, row: CodeRow) -> None:
    if row.tags:
        await conn.execute(
            "INSERT INTO code_tags (tag, slug) SELECT t, $2 FROM unnest($1::text[]) AS t"
            " ON CONFLICT DO NOTHING",
            list(row.tags),
            row.slug,
        )
