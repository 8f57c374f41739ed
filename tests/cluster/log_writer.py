"""A writer process for the concurrent-log tests: appends events to a PostgreSQL event log
in transactions of random sizes, each held open a random moment before its commit, and
prints each committed event id on stdout (``committed <id>``) after the commit returns.

``python -m tests.cluster.log_writer URL NAME COUNT [HANG_AFTER]``: with HANG_AFTER, after
that many events it opens one more transaction, appends to it, prints ``hanging`` and
waits inside it to be killed (``hanging <id> <id> ...`` names the events it appended).
"""

from __future__ import annotations

import asyncio
import random
import sys

from scanlet.storage.postgres.database import Connection, open_pg_database
from scanlet.storage.postgres.eventlog import EventLog
from scanlet.storage.records import NewEvent


def _event(name: str, n: int) -> NewEvent:
    return NewEvent(f"{name}-{n}", "test.event", None, "2026-12-01T00:00:00.000000Z", b"{}")


async def main(url: str, name: str, count: int, hang_after: int | None) -> None:
    rng = random.Random(name)
    stamp = "2026-12-01T00:00:00.000000Z"
    async with open_pg_database(url, pool_size=2) as db:
        n = 0
        while n < count:
            if hang_after is not None and n >= hang_after:
                break
            size = min(rng.randint(1, 20), count - n)
            batch = [_event(name, n + i) for i in range(size)]
            hold = rng.random() * 0.004

            async def store(
                conn: Connection, batch: list[NewEvent] = batch, hold: float = hold
            ) -> None:
                await EventLog.add(conn, batch, stamp)
                await asyncio.sleep(hold)

            await db.write(store)
            n += size
            sys.stdout.write("".join(f"committed {e.id}\n" for e in batch))
            sys.stdout.flush()
        if hang_after is not None:
            async with db.pool.acquire() as conn, conn.transaction():
                doomed = [_event(name, n + i) for i in range(5)]
                await EventLog.add(conn, doomed, stamp)
                print("hanging", *(e.id for e in doomed), flush=True)
                await asyncio.sleep(3600)
    print("done", flush=True)


if __name__ == "__main__":
    hang = int(sys.argv[4]) if len(sys.argv) > 4 else None
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3]), hang))
