"""The newest events this process appended, kept in memory for the followers at the log's end.

Every follower (the analytics projection, the live tail, streams) reads back what the scans
actor has just committed. Read from SQLite, each event cost its statement step and seven
column conversions (3.1 us an event read 256 at a time, against 0.5 us to build the same
``StoredEvent`` from memory; timeit on a busy machine). So a group commit hands its
entries over once it has committed (one append per commit, nothing per scan), and a read
past a position the memory holds takes them from here, each with the domain event its
payload encodes (``StoredEvent.event``): the analytics fold then skips decoding it. That
keeps each event's objects alive beside its payload, about 580 bytes each (tracemalloc, a
scan with an agent and a referrer), so the memory holds few: see ``RECENT_EVENTS``.

The memory only ever holds committed events with their true seqs: a commit's ``n`` entries
are its transaction's ``n`` inserts, which SQLite numbers ``last - n + 1`` to ``last`` (one
writer at a time, rowids one past the largest). Events appended elsewhere (another store,
another process) are not here, so a read stops at the first seq the memory lacks and the
log itself gives the rest: what a reader gets is what the log holds, read either way.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence

from scanlet.storage.records import NewEvent, StoredEvent

__all__ = ("RECENT_EVENTS", "RecentAppends")

#: Events kept (the oldest commits leave first, so up to a commit more are held): what the
#: followers let gather between two reads at saturation, and little more. The analytics
#: follower reads every 10 ms (about 330 scans here, at 33k redirects a second) and the live
#: tail, while a stream is open, every 20 ms (about 660). Every object a scan makes is freed
#: once its commit leaves, and freed this soon its memory is still in the core's cache when
#: the next scans' objects take it: with 4,096 kept (2.4 MB, more than this machine's 2 MB
#: L2), the whole product served 0.93 as many redirects as with 512 and 0.97 as many as
#: with 1,024 (medians of 6 alternating pairs under wrk, two sittings), CPython's allocator
#: stalling on cold blocks (its share of the CPU samples under perf 4.4 % against 3.0 % with
#: 512). 512 was too few for the tail: with a stream open it read the log itself 412 times
#: in 8 s of wrk, against twice with 1,024. A read past what is kept is still right: the
#: log itself gives it.
RECENT_EVENTS = 1024


class RecentAppends:
    """Committed appends, newest last, as (first seq, entries, recorded-at text)."""

    __slots__ = ("_capacity", "_held", "_segments")

    def __init__(self, capacity: int = RECENT_EVENTS) -> None:
        self._capacity = capacity
        self._held = 0
        self._segments: deque[tuple[int, Sequence[NewEvent], str]] = deque()

    def add(self, last_seq: int, entries: Sequence[NewEvent], recorded_at: str) -> None:
        """Remember a commit's ``entries``, the last of which got ``last_seq``; call it only
        once the transaction that appended them (and nothing else) has committed."""
        if not entries:
            return
        segments = self._segments
        segments.append((last_seq - len(entries) + 1, entries, recorded_at))
        self._held += len(entries)
        while self._held > self._capacity and len(segments) > 1:
            self._held -= len(segments.popleft()[1])

    def after(self, position: int, limit: int) -> list[StoredEvent]:
        """Up to ``limit`` events from seq ``position + 1`` on, as long as each next seq is
        here; empty when the memory does not hold ``position + 1``."""
        segments = self._segments
        wanted = position + 1
        # Followers read near the end: look for the segment from the newest one back.
        start = len(segments)
        for first, _, _ in reversed(segments):
            start -= 1
            if first <= wanted:
                break
        else:
            return []
        found: list[StoredEvent] = []
        for index in range(start, len(segments)):
            first, entries, stamp = segments[index]
            offset = wanted - first
            if not 0 <= offset < len(entries):
                break  # past the newest, or a seq not here (another writer's)
            taken = entries[offset : offset + limit - len(found)]
            found += [
                StoredEvent(
                    seq, e.id, e.type, e.slug, e.occurred_at, stamp, e.payload, seq, e.event
                )
                for seq, e in enumerate(taken, wanted)
            ]
            wanted += len(taken)
            if len(found) >= limit:
                break
        return found
