"""How many CPUs this process may use: its affinity mask, capped by a cgroup v2 quota.

``os.cpu_count()`` counts the machine's CPUs, not the ones a process may run on: a server
pinned with ``taskset`` or started in a container limited to one CPU (``docker run
--cpus 1``, a systemd ``CPUQuota=100%``) sees every core of the host there.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

__all__ = ("CGROUP_CPU_MAX", "usable_cpus")

#: The cgroup v2 quota of the cgroup a process in a container or a systemd unit runs in:
#: ``max 100000`` (none) or ``QUOTA PERIOD`` in microseconds.
CGROUP_CPU_MAX = Path("/sys/fs/cgroup/cpu.max")


def usable_cpus(cpu_max: Path = CGROUP_CPU_MAX) -> int:
    """The CPUs this process may run on, at least 1: the affinity mask where the platform
    has one (else every CPU), fewer when the cgroup quota in ``cpu_max`` allows less CPU
    time than that (whole CPUs, rounded down: a quota of 1.5 is one CPU and a share)."""
    has_mask = hasattr(os, "sched_getaffinity")
    cpus = len(os.sched_getaffinity(0)) if has_mask else os.cpu_count() or 1
    quota = _quota(cpu_max)
    if quota is not None:
        cpus = min(cpus, math.floor(quota))
    return max(1, cpus)


def _quota(cpu_max: Path) -> float | None:
    """The CPUs' worth of time the cgroup quota allows; None without one (or unreadable)."""
    try:
        fields = cpu_max.read_text().split()
    except OSError:
        return None
    if len(fields) != 2 or fields[0] == "max":
        return None
    try:
        quota, period = int(fields[0]), int(fields[1])
    except ValueError:
        return None
    return quota / period if quota > 0 and period > 0 else None
