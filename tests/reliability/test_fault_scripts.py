"""Quick runs of the fault scenarios inside the suite: kill -9 loses nothing, SIGTERM drains.

``bench/faults.py`` runs the same scenarios (``tests/faults``) in full and prints their
figures; these runs use few rounds and short waits so CI guards them, and assert on the
results themselves. Each starts real ``scanlet serve`` processes on loopback.
"""

from pathlib import Path

import pytest

from tests.faults import Kill9Plan, SigtermPlan, run_kill9, run_sigterm

SEED = 7


def test_kill_9_at_random_moments_loses_no_acknowledged_scan_or_event(tmp_path: Path) -> None:
    plan = Kill9Plan(rounds=3, clients=3, min_wait=0.3, max_wait=0.8)
    result = run_kill9(tmp_path, plan, seed=SEED)
    assert [r.number for r in result.rounds] == [1, 2, 3]
    assert all(r.integrity == "ok" for r in result.rounds)
    # Load did reach the server, so "nothing lost" is not said of nothing.
    assert result.acked_scans > 0
    assert result.acked_events > 0
    assert (result.lost_scans, result.lost_events) == (0, 0)
    assert result.stored_scans == result.acked_scans
    assert result.stored_events == result.acked_events
    assert result.resent == {"duplicate": result.acked_events}
    assert result.integrity == "ok"
    assert result.exit_code == 0
    assert result.passed


@pytest.mark.parametrize("server", ["granian", "uvicorn"])
def test_sigterm_under_load_drains_every_accepted_request_and_exits_zero(
    tmp_path: Path, server: str
) -> None:
    # The margin only says "bounded, never hung": the figure itself is the script's.
    plan = SigtermPlan(clients=4, min_wait=0.3, max_wait=0.6, timeout=1, margin=20)
    result = run_sigterm(tmp_path, plan, server=server, seed=SEED)
    assert result.exit_code == 0
    assert result.drain_seconds <= plan.timeout + plan.margin
    assert result.answered > 0
    assert result.five_xx == 0
    assert result.lost == 0
    assert result.unanswered_stored == 0
    assert result.followers_behind == {}
    assert result.integrity == "ok"
    assert result.passed
