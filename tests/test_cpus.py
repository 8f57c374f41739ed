"""usable_cpus: the affinity mask, capped by the smallest cgroup quota on the way to the root
(cgroup v2 and v1), read from a fake cgroup tree."""

import os
from pathlib import Path

import pytest

from scanlet.cpus import usable_cpus


@pytest.fixture
def affinity() -> int:
    if not hasattr(os, "sched_getaffinity"):
        pytest.skip("no affinity mask on this platform")
    return len(os.sched_getaffinity(0))


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def v2_tree(tmp_path: Path, member: str, limits: dict[str, str]) -> tuple[Path, Path]:
    """A cgroup v2 mount with ``cpu.max`` files at the given paths, and a process in ``member``."""
    root = tmp_path / "cgroup"
    root.mkdir(parents=True)
    for folder, text in limits.items():
        write(root / folder.strip("/") / "cpu.max", text)
    return root, write(tmp_path / "proc-cgroup", f"0::{member}\n")


def test_without_a_quota_the_affinity_mask_counts(tmp_path: Path, affinity: int) -> None:
    assert usable_cpus(tmp_path / "none", tmp_path / "missing") == affinity
    root, proc = v2_tree(tmp_path, "/", {"/": "max 100000\n"})
    assert usable_cpus(root, proc) == affinity
    # Odd contents are no quota, not a failure.
    for odd in ("garbage", "-1 100000", "a b", "100000 0"):
        write(root / "cpu.max", odd)
        assert usable_cpus(root, proc) == affinity, odd
    write(proc, "no colons here\n")
    assert usable_cpus(root, proc) == affinity
    write(root / "cpu.max", "100000 100000")
    write(proc, "0::not/absolute\n")
    assert usable_cpus(root, proc) == 1


def test_a_v2_quota_caps_the_count_in_whole_cpus(tmp_path: Path, affinity: int) -> None:
    """As in a container with a cgroup namespace: its own cgroup is the mount's root."""
    root, proc = v2_tree(tmp_path, "/", {"/": "100000 100000\n"})
    assert usable_cpus(root, proc) == 1
    for text, expected in {
        "150000 100000": 1,
        "20000 100000": 1,
        "6400000 100000": affinity,
    }.items():
        write(root / "cpu.max", text)
        assert usable_cpus(root, proc) == min(expected, affinity), text


def test_the_smallest_quota_up_to_the_root_counts(tmp_path: Path) -> None:
    """A systemd unit (``CPUQuota=100%``) inside a slice with a larger quota of its own."""
    root, proc = v2_tree(
        tmp_path,
        "/system.slice/scanlet.service",
        {"/system.slice": "400000 100000", "/system.slice/scanlet.service": "100000 100000"},
    )
    assert usable_cpus(root, proc) == 1
    root2, proc2 = v2_tree(
        tmp_path / "b",
        "/system.slice/scanlet.service",
        {"/system.slice": "100000 100000", "/system.slice/scanlet.service": "max 100000"},
    )
    assert usable_cpus(root2, proc2) == 1


def test_a_v1_cpu_hierarchy_quota_counts_too(tmp_path: Path, affinity: int) -> None:
    """cgroup v1, as docker without a cgroup namespace shows it: the ``cpu`` hierarchy."""
    root = tmp_path / "cgroup"
    container = root / "cpu" / "docker" / "abc"
    write(container / "cpu.cfs_quota_us", "100000\n")
    write(container / "cpu.cfs_period_us", "100000\n")
    write(root / "cpu" / "cpu.cfs_quota_us", "-1\n")
    write(root / "cpu" / "cpu.cfs_period_us", "100000\n")
    proc = write(
        tmp_path / "proc-cgroup", "4:memory:/docker/abc\n2:cpu,cpuacct:/docker/abc\n0::/\n"
    )
    assert usable_cpus(root, proc) == 1
    write(container / "cpu.cfs_quota_us", "-1\n")
    assert usable_cpus(root, proc) == affinity


def test_a_pinned_process_counts_its_mask(tmp_path: Path, affinity: int) -> None:
    """A server started under ``taskset -c 0`` (as the benchmarks pin theirs)."""
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(before)})
    try:
        assert usable_cpus(tmp_path / "none", tmp_path / "missing") == 1
    finally:
        os.sched_setaffinity(0, before)


def test_this_machine_is_read_without_failing(affinity: int) -> None:
    assert 1 <= usable_cpus() <= affinity
