"""bench/instructions.py's children, run without valgrind: each variant starts, answers its
scans with 302s and, for the whole product, waits until the projection has folded them
(the script would otherwise count instructions of work that never finished, or hang)."""

import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "bench" / "instructions.py"


@pytest.mark.parametrize("variant", ["bare", "core", "full"])
def test_a_child_sends_its_scans_and_ends(variant: str) -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--child", variant, "--scans", "70"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    if variant == "bare":
        return
    (line,) = [line for line in done.stdout.splitlines() if line.startswith("log ")]
    log, folded, scans = (int(word) for word in line.split()[1::2])
    assert scans == 1000 + 70  # the warm-up and the scans
    assert log > scans  # the code's creation, then every scan
    # The whole product's figure waits for the projection; the scan path has none.
    assert folded == (log if variant == "full" else 0)


def test_the_script_refuses_a_run_without_its_baseline() -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--variants", "core"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "bare among them" in done.stderr
