"""The visitor sets' clock and kept days, as the analytics writer's last commit left them.

Adding up a batch needs the clock (scans added up so far), the newest day with a set and the
records of the batch's days (``VisitorDays``); after it, the sets out of the window are
pruned. Read from the database each time, that was three of the dozen statements of every
catch-up (and three round trips on PostgreSQL), while the writer that committed the batch
before knows the answers already. So an adapter keeps them here, with the follower position
they hold at, and uses them only while the stored position is that one: the transaction
checks it first, so another writer in between (the projection worker, ``scanlet rebuild``,
another instance) means a reload. A rebuild that ended at the very same position left the
same state: the log folded in any batches adds up alike.

``kept`` mirrors the rows of ``analytics_visitor_days`` not pruned (few: the window, and the
days an import keeps). A batch's day not among them is either pruned or never seen, which
only the table tells: those few are looked up.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from scanlet.storage.rollups import Rollup, VisitorDays

__all__ = ("VisitorState",)


class VisitorState:
    """``scans``, ``newest`` and the kept days' ``last`` (see ``VisitorDays``) as they are
    once the follower's stored position is ``position``."""

    __slots__ = ("kept", "newest", "position", "scans")

    def __init__(
        self, position: int, scans: int, newest: int | None, kept: dict[int, int | None]
    ) -> None:
        self.position = position
        self.scans = scans
        self.newest = newest
        #: Never changed in place (a state may share it with the one it came from).
        self.kept = kept

    def unknown(self, days: Iterable[int]) -> list[int]:
        """Those of ``days`` whose record only the table has (pruned, or none)."""
        kept = self.kept
        return [day for day in days if day not in kept]

    def before(self, days: Iterable[int], looked_up: Mapping[int, int | None]) -> VisitorDays:
        """What a batch on ``days`` adds up onto, given the records ``looked_up`` of the
        days ``unknown`` named."""
        kept = self.kept
        known = {day: kept[day] for day in days if day in kept}
        known.update(looked_up)
        return VisitorDays(self.scans, self.newest, known)

    def prunable(self, rollup: Rollup) -> list[int]:
        """The kept days whose sets ``rollup.gone`` lets go, once its days are stored."""
        gone = rollup.gone
        if gone is None:
            return []
        horizon, clock = gone
        kept = {**self.kept, **rollup.days}
        return [
            day for day, last in kept.items() if day <= horizon and (last is None or last < clock)
        ]

    def after(self, position: int, rollup: Rollup | None, pruned: Iterable[int]) -> VisitorState:
        """The state once ``rollup`` (None: a batch without scans) is stored, the days
        ``pruned`` pruned, and the position moved to ``position``."""
        if rollup is None:
            return VisitorState(position, self.scans, self.newest, self.kept)
        kept = {**self.kept, **rollup.days}
        for day in pruned:
            kept.pop(day, None)
        return VisitorState(position, rollup.scans, rollup.horizon, kept)
