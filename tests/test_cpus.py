"""usable_cpus: the affinity mask, capped by a cgroup v2 quota when there is one."""

import os
from pathlib import Path

import pytest

from scanlet.cpus import usable_cpus


@pytest.fixture
def affinity() -> int:
    if not hasattr(os, "sched_getaffinity"):
        pytest.skip("no affinity mask on this platform")
    return len(os.sched_getaffinity(0))


def quota_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "cpu.max"
    path.write_text(text)
    return path


def test_without_a_quota_the_affinity_mask_counts(tmp_path: Path, affinity: int) -> None:
    assert usable_cpus(tmp_path / "missing") == affinity
    assert usable_cpus(quota_file(tmp_path, "max 100000\n")) == affinity
    # Unreadable or odd contents are no quota, not a failure.
    assert usable_cpus(quota_file(tmp_path, "garbage")) == affinity
    assert usable_cpus(quota_file(tmp_path, "-1 100000")) == affinity
    assert usable_cpus(quota_file(tmp_path, "a b")) == affinity


def test_a_quota_caps_the_count_in_whole_cpus(tmp_path: Path, affinity: int) -> None:
    assert usable_cpus(quota_file(tmp_path, "100000 100000\n")) == 1
    assert usable_cpus(quota_file(tmp_path, "150000 100000\n")) == 1
    # Less than one CPU's time is still one CPU to run on.
    assert usable_cpus(quota_file(tmp_path, "20000 100000\n")) == 1
    assert usable_cpus(quota_file(tmp_path, "6400000 100000\n")) == affinity


def test_a_pinned_process_counts_its_mask(tmp_path: Path, affinity: int) -> None:
    """A server started under ``taskset -c 0`` (as the benchmarks pin theirs)."""
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(before)})
    try:
        assert usable_cpus(tmp_path / "missing") == 1
    finally:
        os.sched_setaffinity(0, before)
