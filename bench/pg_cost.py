"""What one scan costs PostgreSQL: statements, commits, rows and WAL bytes per scan.

One ``scanlet serve`` on a new database of the server named by ``--db`` (an admin URL),
driven by wrk at ``--connections`` (64 by default) for ``--seconds``, once with the scan
path alone (SCANLET_FEATURES=none) and once with the whole product (analytics, webhooks and
the dashboard following the log). The figures are counts, not times, so a busy machine
moves them little; the batch size of the group commit (and so commits and statements per
scan) does depend on the concurrency, which is why it is printed.

Statements come from the instance's own count (``scanlet_db_statements`` on /metrics);
commits and rows from ``pg_stat_database``, read after the instance stopped (a backend
reports its statistics when it ends); WAL bytes from ``pg_current_wal_lsn()``. The server's
other databases add to the WAL figure only if they write meanwhile.
Run: python bench/pg_cost.py --db postgresql://postgres@127.0.0.1:5432/postgres
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from pathlib import Path

import asyncpg
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness import require_wrk
from redirect import SLUG, PgServer, stored_scans

from tests.pg import run_async
from tests.processes import served
from tests.wrk import SERVER_CORE, run_wrk

STATS_SQL = (
    "SELECT xact_commit, tup_inserted, tup_updated, tup_deleted, pg_current_wal_lsn()::text"
    " FROM pg_stat_database WHERE datname = current_database()"
)


def database_stats(url: str) -> tuple[int, int, int, int, str]:
    """Commits, rows inserted, updated and deleted of the database; the WAL position."""

    async def read() -> tuple[int, int, int, int, str]:
        conn = await asyncpg.connect(url)
        try:
            await conn.execute("SELECT pg_stat_clear_snapshot()")
            row = await conn.fetchrow(STATS_SQL)
            assert row is not None
            return int(row[0]), int(row[1]), int(row[2]), int(row[3]), str(row[4])
        finally:
            await conn.close()

    return run_async(read())


def wal_bytes(url: str, start: str, end: str) -> int:
    async def diff() -> int:
        conn = await asyncpg.connect(url)
        try:
            sql = "SELECT pg_wal_lsn_diff($1::text::pg_lsn, $2::text::pg_lsn)"
            return int(await conn.fetchval(sql, end, start))
        finally:
            await conn.close()

    return run_async(diff())


def statements_sent(base: str) -> int:
    text = httpx.get(f"{base}/metrics", timeout=10).text
    match = re.search(r"^scanlet_db_statements_total ([\d.e+]+)$", text, re.MULTILINE)
    if match is None:
        raise RuntimeError("no scanlet_db_statements_total on /metrics")
    return int(float(match.group(1)))


def measure(pg: PgServer, features: str, seconds: int, connections: int) -> dict[str, float]:
    """One instance under wrk; the costs per scan stored."""
    url = pg.create(features)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        env = {
            "SCANLET_DB": url,
            "SCANLET_FEATURES": features,
            "SCANLET_LOG_LEVEL": "warning",
            "SCANLET_SECRET_FILE": str(folder / "scanlet.key"),
        }
        with served(folder, env=env, core=SERVER_CORE) as running:
            httpx.post(
                f"{running.base}/api/v1/codes",
                headers={"Authorization": f"Bearer {running.key(name='bench')}"},
                json={"target": "https://example.com/landing", "slug": SLUG},
            ).raise_for_status()
            scans_before = stored_scans(url)
            statements_before = statements_sent(running.base)
            commits0, ins0, upd0, del0, lsn0 = database_stats(url)
            result = run_wrk(f"{running.base}/{SLUG}", seconds=seconds, connections=connections)
            statements = statements_sent(running.base) - statements_before
        # Stopped: its backends have reported their statistics, and the log is complete.
        commits1, ins1, upd1, del1, lsn1 = database_stats(url)
        scans = stored_scans(url) - scans_before
    # The two reading connections of database_stats commit too (one each, before and after).
    commits = commits1 - commits0 - 2
    return {
        "scans": scans,
        "req/s": result.rps,
        "statements/scan": statements / scans,
        "commits/scan": commits / scans,
        "scans/commit": scans / commits,
        "rows written/scan": (ins1 - ins0 + upd1 - upd0 + del1 - del0) / scans,
        "WAL bytes/scan": wal_bytes(url, lsn0, lsn1) / scans,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", required=True, metavar="URL", help="a postgresql:// admin URL")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=64)
    args = parser.parse_args()
    require_wrk()
    pg = PgServer(args.db)
    try:
        figures = {
            name: measure(pg, features, args.seconds, args.connections)
            for name, features in (("core", "none"), ("full", "all"))
        }
    finally:
        pg.drop_all()
    print(f"per scan stored, wrk at {args.connections} connections for {args.seconds} s:")
    for field in figures["core"]:
        row = "   ".join(f"{name} {values[field]:10.2f}" for name, values in figures.items())
        print(f"{field:18} {row}")


if __name__ == "__main__":
    main()
