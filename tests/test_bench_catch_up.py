"""bench/catch_up.py's children, run without valgrind: each records what its step says and
only the catch-up child folds the rounds (the script subtracts one child from another, so
a child that folded too little or recorded too much would give a wrong figure)."""

import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "bench" / "catch_up.py"
WARM_UP = 5


@pytest.mark.parametrize(
    ("step", "rounds_recorded", "rounds_folded", "varied"),
    [
        ("none", 0, 0, False),
        ("record", 3, 0, False),
        ("catch-up", 3, 3, False),
        ("catch-up", 3, 3, True),
    ],
)
def test_a_child_records_and_folds_what_its_step_says(
    step: str, rounds_recorded: int, rounds_folded: int, varied: bool
) -> None:
    crowd = ["--varied"] if varied else []
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--child", step, "--rounds", "3", "--scans", "60", *crowd],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    (line,) = [line for line in done.stdout.splitlines() if line.startswith("log ")]
    log, folded = (int(word) for word in line.split()[1::2])
    assert log == (WARM_UP + rounds_recorded) * 60
    assert folded == (WARM_UP + rounds_folded) * 60


def test_the_script_refuses_an_empty_run() -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--rounds", "0"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "at least 1" in done.stderr
