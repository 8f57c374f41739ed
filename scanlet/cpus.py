"""How many CPUs this process may use: its affinity mask, capped by a cgroup CPU quota.

``os.cpu_count()`` counts the machine's CPUs, not the ones a process may run on: a server
pinned with ``taskset``, started in a container limited to one CPU (``docker run --cpus
1``) or in a systemd unit with ``CPUQuota=100%`` sees every core of the host there. The
quota is the smallest one on the way from the process's cgroup up to the root, in cgroup v2
(``cpu.max``) or in v1's ``cpu`` hierarchy (``cpu.cfs_quota_us`` and ``cpu.cfs_period_us``).
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

__all__ = ("CGROUP_ROOT", "PROC_CGROUP", "usable_cpus")

#: Where the cgroup file systems are mounted.
CGROUP_ROOT = Path("/sys/fs/cgroup")
#: Which cgroup this process is in, per hierarchy: ``ID:CONTROLLERS:PATH`` lines.
PROC_CGROUP = Path("/proc/self/cgroup")


def usable_cpus(root: Path = CGROUP_ROOT, membership: Path = PROC_CGROUP) -> int:
    """The CPUs this process may run on, at least 1: the affinity mask where the platform
    has one (else every CPU), fewer when a cgroup quota allows less CPU time than that
    (whole CPUs, rounded down: a quota of 1.5 is one CPU and a share)."""
    has_mask = hasattr(os, "sched_getaffinity")
    cpus = len(os.sched_getaffinity(0)) if has_mask else os.cpu_count() or 1
    quotas = list(_quotas(root, membership))
    if quotas:
        cpus = min(cpus, math.floor(min(quotas)))
    return max(1, cpus)


def _quotas(root: Path, membership: Path) -> Iterator[float]:
    """The quotas (in CPUs) set by the cgroups from this process's up to the root, in every
    hierarchy that limits CPU (one that sets none or cannot be read adds nothing)."""
    try:
        lines = membership.read_text().splitlines()
    except OSError:
        return
    for line in lines:
        fields = line.split(":", 2)
        if len(fields) != 3:
            continue
        ident, controllers, path = fields
        if ident == "0" and not controllers:
            found = (_v2_quota(folder / "cpu.max") for folder in _up_from(root, path))
        elif "cpu" in controllers.split(","):
            found = (_v1_quota(folder) for folder in _up_from(root / "cpu", path))
        else:
            continue
        yield from (quota for quota in found if quota is not None)


def _up_from(mount: Path, path: str) -> Iterator[Path]:
    """``mount/path``, then each of its parents up to ``mount`` itself."""
    # Paths in /proc/self/cgroup are absolute; anything else is read as if it were.
    relative = PurePosixPath("/", path.strip()).relative_to("/")
    while True:
        yield mount / relative
        if relative == relative.parent:
            return
        relative = relative.parent


def _v2_quota(cpu_max: Path) -> float | None:
    """``cpu.max``: ``max PERIOD`` (none) or ``QUOTA PERIOD``, in microseconds."""
    try:
        fields = cpu_max.read_text().split()
    except OSError:
        return None
    if len(fields) != 2 or fields[0] == "max":
        return None
    return _ratio(fields[0], fields[1])


def _v1_quota(folder: Path) -> float | None:
    """``cpu.cfs_quota_us`` (-1: none) over ``cpu.cfs_period_us``."""
    try:
        quota = (folder / "cpu.cfs_quota_us").read_text()
        period = (folder / "cpu.cfs_period_us").read_text()
    except OSError:
        return None
    return _ratio(quota, period)


def _ratio(quota: str, period: str) -> float | None:
    try:
        over, under = int(quota), int(period)
    except ValueError:
        return None
    return over / under if over > 0 and under > 0 else None
