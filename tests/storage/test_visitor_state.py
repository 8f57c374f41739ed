"""``VisitorState``: what the analytics writer holds of the visitor sets between batches.

It stands in for three reads of the tables; that any batches applied through it leave the
tables as a rebuild does is tested with the projection (tests/actors/analytics).
"""

from __future__ import annotations

from scanlet.storage.records import Profile
from scanlet.storage.rollups import add_up
from scanlet.storage.visitor_state import VisitorState

HUMAN = Profile(bot=False, dimensions=(("source", "qr"),))
DAY = 1000


def test_days_kept_come_from_memory_and_the_others_from_what_was_looked_up() -> None:
    state = VisitorState(7, scans=40, newest=DAY, kept={DAY: None, DAY - 1: 12})
    assert state.unknown([DAY, DAY - 1, DAY - 9]) == [DAY - 9]
    before = state.before([DAY, DAY - 9], {DAY - 9: 3})
    assert (before.scans, before.newest, before.known) == (40, DAY, {DAY: None, DAY - 9: 3})


def test_a_batch_moves_the_clock_and_the_newest_day_and_keeps_its_new_days() -> None:
    state = VisitorState(7, scans=40, newest=DAY, kept={DAY: None})
    batch = [("menu", (DAY + 1) * 24, "v1", HUMAN), ("menu", (DAY + 1) * 24 + 1, "v2", HUMAN)]
    rollup = add_up(batch, state.before([DAY + 1], {}))
    after = state.after(9, rollup, ())
    assert (after.position, after.scans, after.newest) == (9, 42, DAY + 1)
    assert after.kept == {DAY: None, DAY + 1: None}
    # The state it came from is left as it was (a transaction that fails keeps nothing).
    assert (state.position, state.scans, state.kept) == (7, 40, {DAY: None})


def test_a_batch_without_scans_only_moves_the_position() -> None:
    state = VisitorState(7, scans=40, newest=DAY, kept={DAY: 5})
    after = state.after(8, None, ())
    assert (after.position, after.scans, after.newest, after.kept) == (8, 40, DAY, {DAY: 5})


def test_pruned_days_leave_the_kept_ones() -> None:
    state = VisitorState(7, scans=40, newest=DAY, kept={DAY: None, DAY - 5: None})
    rollup = add_up([("menu", DAY * 24, "v1", HUMAN)], state.before([DAY], {}))
    assert state.prunable(rollup) == [DAY - 5]
    assert state.after(8, rollup, [DAY - 5]).kept == {DAY: None}
