"""Quick runs of bench/faults.py inside the suite: kill -9 loses nothing, SIGTERM drains.

The scripts are the proof (they print their figures); these runs use few rounds so CI guards
them. Each starts real ``scanlet serve`` processes on loopback.
"""

import subprocess
import sys
from pathlib import Path

import pytest

FAULTS = Path(__file__).parents[2] / "bench" / "faults.py"


def run_faults(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, str(FAULTS), "--no-pin", "--seed", "7", *args],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_kill_9_at_random_moments_loses_no_acknowledged_scan_or_event() -> None:
    out = run_faults(
        "kill9", "--rounds", "3", "--clients", "3", "--min-wait", "0.3", "--max-wait", "0.8"
    )
    assert "lost 0 (unanswered" in out
    assert "events:    acknowledged" in out
    assert " lost 0;" in out
    assert "integrity_check: ok" in out


@pytest.mark.parametrize("server", ["granian", "uvicorn"])
def test_sigterm_under_load_drains_every_accepted_request_and_exits_zero(server: str) -> None:
    # The margin only says "bounded, never hung": the figure itself is the script's.
    out = run_faults(
        "--server",
        server,
        "sigterm",
        "--clients",
        "4",
        "--timeout",
        "1",
        "--margin",
        "20",
        "--min-wait",
        "0.3",
        "--max-wait",
        "0.6",
    )
    assert f"{server:8s}: exit 0" in out
    assert "5xx 0;" in out
    assert "lost 0; accepted but unanswered 0; followers behind 0; integrity ok" in out
