"""Analytics rollups on PostgreSQL: the same tables and arithmetic as SQLite's.

The batch is added up in Python (``storage.rollups``), then each table gets one upsert
statement whose rows arrive as arrays. Only the instance leading the followers (and a
``scanlet rebuild``) writes here, each batch under the position's row lock.
"""

from __future__ import annotations

from collections.abc import Sequence

from scanlet.storage.ports import ALL_CODES, Codes
from scanlet.storage.postgres.database import Connection, PgDatabase, numbered
from scanlet.storage.postgres.positions import PositionStore
from scanlet.storage.postgres.raw_scans import RawScanStore
from scanlet.storage.records import DIMENSIONS, CodeTotal, HourRow, ScanFact
from scanlet.storage.rollups import (
    COUNTERS,
    PARTS,
    TABLES,
    Increments,
    Rollup,
    add_up,
    counted,
    days_and_ragged_hours,
    visitor_days,
)
from scanlet.storage.visitor_state import VisitorState

__all__ = ("AnalyticsStore",)

_COUNTERS = (
    "INSERT INTO {table} (slug, {unit}, humans, bots, uniques, bot_uniques, own, own_uniques)"
    " SELECT * FROM unnest($1::text[], $2::int[], $3::bigint[], $4::bigint[], $5::bigint[],"
    " $6::bigint[], $7::bigint[], $8::bigint[]) ON CONFLICT (slug, {unit}) DO UPDATE SET"
    " humans = {table}.humans + excluded.humans, bots = {table}.bots + excluded.bots,"
    " uniques = {table}.uniques + excluded.uniques,"
    " bot_uniques = {table}.bot_uniques + excluded.bot_uniques,"
    " own = {table}.own + excluded.own, own_uniques = {table}.own_uniques + excluded.own_uniques"
)
_PARTS = (
    "INSERT INTO {table} (slug, {unit}, dim, value, humans, bots, own)"
    " SELECT * FROM unnest($1::text[], $2::int[], $3::text[], $4::text[],"
    " $5::bigint[], $6::bigint[], $7::bigint[]) ON CONFLICT (slug, {unit}, dim, value)"
    " DO UPDATE SET humans = {table}.humans + excluded.humans,"
    " bots = {table}.bots + excluded.bots, own = {table}.own + excluded.own"
)


def _columns(rows: Sequence[tuple[object, ...]], width: int) -> list[list[object]]:
    if not rows:
        return [[] for _ in range(width)]
    return [list(column) for column in zip(*rows, strict=True)]


class AnalyticsStore:
    """The rollup tables: ``apply`` under the follower's position lock, queries on the pool."""

    def __init__(self, db: PgDatabase) -> None:
        self._db = db
        #: The visitor sets' state this store's last apply left (None: read it first).
        self._visitors: VisitorState | None = None

    async def apply(
        self,
        name: str,
        expected: int,
        position: int,
        facts: Sequence[ScanFact],
        raw_cutoff: str | None,
    ) -> None:
        """Add ``facts`` and the log's scans past ``expected`` up to ``position`` (those
        stored at or after ``raw_cutoff``; None: all) and move the follower ``name`` from
        ``expected`` to ``position`` in one transaction; ``PositionMoved`` (nothing
        applied) otherwise."""
        # Held again only once this commit has succeeded (see ``VisitorState``).
        held, self._visitors = self._visitors, None

        async def commit(conn: Connection) -> VisitorState:
            await PositionStore.claim(conn, name, expected)
            state = held if held is not None and held.position == expected else None
            if state is None:
                state = await _visitor_state(conn, expected)
            if facts:
                state = await _add(conn, facts, state, position)
            else:
                state = state.after(position, None, ())
            await RawScanStore.copy_from_log(conn, expected, position, raw_cutoff)
            await PositionStore.save(conn, name, position)
            return state

        self._visitors = await self._db.write(commit)

    async def reset(self, name: str) -> None:
        """Empty every analytics read model and the follower's position (a rebuild)."""
        self._visitors = None

        async def reset(conn: Connection) -> None:
            await conn.execute(f"TRUNCATE {', '.join(TABLES)}, raw_scans")
            await PositionStore.reset(conn, name)

        await self._db.write(reset)

    async def hours(self, slug: Codes, start: int, end: int) -> list[HourRow]:
        """Rows of ``slug`` (several codes': summed) for hours in [start, end), ascending."""
        which, code = _which(slug)
        rows = await self._db.fetch(
            numbered(
                "SELECT hour, SUM(humans), SUM(bots), SUM(uniques), SUM(bot_uniques), SUM(own),"
                f" SUM(own_uniques) FROM analytics_hours WHERE {which} AND hour >= ?"
                " AND hour < ? GROUP BY hour ORDER BY hour"
            ),
            code,
            start,
            end,
        )
        return [HourRow(*(int(v) for v in row)) for row in rows]

    async def breakdowns(
        self,
        slug: Codes,
        start: int,
        end: int,
        *,
        include_bots: bool,
        include_excluded: bool = False,
    ) -> dict[str, dict[str, int]]:
        """Scans per dimension value over hours [start, end), largest first."""
        count, _ = counted(include_bots=include_bots, include_excluded=include_excluded)
        which, code = _which(slug)
        rows, params = days_and_ragged_hours(
            start,
            end,
            f"SELECT dim, value, {count} AS n FROM analytics_breakdown_{{unit}}s"
            f" WHERE {which} AND {{unit}} >= ? AND {{unit}} < ?",
            lambda lo, hi: [code, lo, hi],
        )
        sql = (
            f"SELECT dim, value, SUM(n) AS total FROM ({rows}) AS parts"
            " GROUP BY dim, value HAVING SUM(n) > 0 ORDER BY dim, total DESC, value"
        )
        found: dict[str, dict[str, int]] = {dim: {} for dim in DIMENSIONS}
        for dim, value, total in await self._db.fetch(numbered(sql), *params):
            found.setdefault(dim, {})[value] = int(total)
        return found

    async def top_codes(
        self,
        start: int,
        end: int,
        *,
        include_bots: bool,
        limit: int,
        include_excluded: bool = False,
        within: tuple[str, ...] | None = None,
    ) -> list[CodeTotal]:
        """The codes (of ``within`` only, when given) with the most scans over hours
        [start, end), then by slug."""
        scans, uniques = counted(include_bots=include_bots, include_excluded=include_excluded)
        which, code = _which(within) if within is not None else ("slug != ?", ALL_CODES)
        rows, params = days_and_ragged_hours(
            start,
            end,
            f"SELECT slug, {scans} AS s, {uniques} AS u FROM analytics_{{unit}}s"
            f" WHERE {{unit}} >= ? AND {{unit}} < ? AND {which}",
            lambda lo, hi: [lo, hi, code],
        )
        sql = (
            f"SELECT slug, SUM(s) AS total, SUM(u) FROM ({rows}) AS counts"
            " GROUP BY slug HAVING SUM(s) > 0 ORDER BY total DESC, slug LIMIT ?"
        )
        params.append(limit)
        return [
            CodeTotal(row[0], int(row[1]), int(row[2]))
            for row in await self._db.fetch(numbered(sql), *params)
        ]

    async def dump(self) -> dict[str, list[tuple[object, ...]]]:
        """Every rollup row, sorted (tests compare a rebuild with the incremental path)."""
        found: dict[str, list[tuple[object, ...]]] = {}
        for table in TABLES:
            rows = await self._db.fetch(f"SELECT * FROM {table}")
            found[table] = sorted(tuple(row.values()) for row in rows)
        return found


def _which(codes: Codes) -> tuple[str, object]:
    """The condition on ``slug`` that picks ``codes``, and its one parameter."""
    if isinstance(codes, str):
        return "slug = ?", codes
    return "slug = ANY(?::text[])", list(codes)


async def _add(
    conn: Connection, facts: Sequence[ScanFact], state: VisitorState, position: int
) -> VisitorState:
    """Add ``facts`` (in log order) within the caller's transaction onto the visitor sets as
    ``state`` holds them; their state after, at ``position``."""
    days = visitor_days(facts)
    rollup = add_up(facts, state.before(days, await _days(conn, state.unknown(days))))
    keys = rollup.visitor_keys
    new = await conn.fetch(
        "INSERT INTO analytics_visitors (slug, day, visitor)"
        " SELECT * FROM unnest($1::text[], $2::int[], $3::text[])"
        " ON CONFLICT DO NOTHING RETURNING slug, day, visitor",
        *_columns(keys, 3),
    )
    await _upsert(conn, rollup.increments([(r[0], r[1], r[2]) for r in new]))
    pruned = await _keep_visitor_days(conn, rollup, state.prunable(rollup))
    return state.after(position, rollup, pruned)


async def _visitor_state(conn: Connection, position: int) -> VisitorState:
    """The visitor sets' state as the tables hold it (at ``position``)."""
    # A SELECT without FROM always gives its one row.
    state = await conn.fetchrow(
        "SELECT (SELECT scans FROM analytics_visitor_clock),"
        " (SELECT MAX(day) FROM analytics_visitor_days)"
    )
    scans, newest = (state[0], state[1]) if state is not None else (0, None)
    kept = await conn.fetch("SELECT day, last FROM analytics_visitor_days WHERE NOT pruned")
    return VisitorState(position, scans or 0, newest, {row[0]: row[1] for row in kept})


async def _days(conn: Connection, days: list[int]) -> dict[int, int | None]:
    """The records of ``days`` (pruned ones: the kept are in the state)."""
    if not days:
        return {}
    found = await conn.fetch(
        "SELECT day, last FROM analytics_visitor_days WHERE day = ANY($1::int[])", days
    )
    return {row[0]: row[1] for row in found}


async def _keep_visitor_days(conn: Connection, rollup: Rollup, prunable: list[int]) -> list[int]:
    """Store the clock and the days' records; drop the sets no longer needed (none unless
    ``prunable`` names some); the days pruned."""
    await conn.execute(
        "INSERT INTO analytics_visitor_clock (id, scans) VALUES (1, $1)"
        " ON CONFLICT (id) DO UPDATE SET scans = excluded.scans",
        rollup.scans,
    )
    if rollup.days:
        await conn.execute(
            "INSERT INTO analytics_visitor_days (day, last)"
            " SELECT * FROM unnest($1::int[], $2::bigint[])"
            " ON CONFLICT (day) DO UPDATE SET last = excluded.last",
            *_columns(list(rollup.days.items()), 2),
        )
    gone = rollup.gone
    if gone is None or not prunable:
        return []
    days = [
        row[0]
        for row in await conn.fetch(
            "UPDATE analytics_visitor_days SET pruned = TRUE WHERE NOT pruned AND day <= $1"
            " AND (last IS NULL OR last < $2) RETURNING day",
            *gone,
        )
    ]
    if days:
        await conn.execute("DELETE FROM analytics_visitors WHERE day = ANY($1::int[])", days)
    return days


async def _upsert(conn: Connection, added: Increments) -> None:
    for table, unit, values in (
        ("analytics_hours", "hour", added.hours),
        ("analytics_days", "day", added.days),
    ):
        if values:
            rows = [(*key, *counters) for key, counters in sorted(values.items())]
            await conn.execute(
                _COUNTERS.format(table=table, unit=unit), *_columns(rows, 2 + COUNTERS)
            )
    for table, unit, parts in (
        ("analytics_breakdown_hours", "hour", added.parts),
        ("analytics_breakdown_days", "day", added.day_parts),
    ):
        if parts:
            rows = [(*key, *counts) for key, counts in sorted(parts.items())]
            await conn.execute(_PARTS.format(table=table, unit=unit), *_columns(rows, 4 + PARTS))
