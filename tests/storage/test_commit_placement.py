"""Where durable commits run: on the loop while the disk syncs quickly, in a thread while it
does not, with a look at the disk again every ``PROBE_EVERY`` commits."""

from scanlet.storage.sqlite.commit_placement import (
    INLINE_COMMIT_SECONDS,
    PROBE_EVERY,
    CommitPlacement,
)

QUICK = INLINE_COMMIT_SECONDS / 5
STALL = INLINE_COMMIT_SECONDS * 20


def placed(placement: CommitPlacement, commits: int, took: float) -> list[bool]:
    """Whether each of ``commits`` ran on the loop; those that did took ``took``."""
    where: list[bool] = []
    for _ in range(commits):
        inline = placement.inline()
        where.append(inline)
        if inline:
            placement.timed(took)
    return where


def test_commits_stay_on_the_loop_while_the_disk_is_quick() -> None:
    assert placed(CommitPlacement(), 500, QUICK) == [True] * 500


def test_an_occasional_slow_commit_among_quick_ones_keeps_them_on_the_loop() -> None:
    placement = CommitPlacement()
    for _ in range(50):
        assert placed(placement, 19, QUICK) == [True] * 19
        assert placed(placement, 1, INLINE_COMMIT_SECONDS * 5) == [True]


def test_one_stall_sends_the_next_commits_to_the_thread_but_one_in_probe_every() -> None:
    placement = CommitPlacement()
    placed(placement, 100, QUICK)
    assert placed(placement, 1, STALL) == [True]  # this one finds out
    where = placed(placement, 3 * PROBE_EVERY, STALL)
    probes = [index for index, inline in enumerate(where) if inline]
    assert probes == [PROBE_EVERY - 1, 2 * PROBE_EVERY - 1, 3 * PROBE_EVERY - 1]


def test_a_slow_disk_keeps_them_in_the_thread_and_a_quick_one_again_brings_them_back() -> None:
    placement = CommitPlacement()
    placed(placement, 1, STALL)
    assert placed(placement, 10 * PROBE_EVERY, INLINE_COMMIT_SECONDS * 2).count(True) == 10
    # Quick again: after a few quick probes every commit is back on the loop.
    where = placed(placement, 20 * PROBE_EVERY, QUICK)
    back = next(index for index in range(len(where)) if all(where[index:]))
    assert where[:back].count(True) <= 12  # probes
