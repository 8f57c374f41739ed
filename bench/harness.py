"""Shared pieces of the load benchmarks: pinned servers that are not Scanlet, and wrk.

``scanlet serve`` itself starts through ``tests.processes.served`` (with ``core=SERVER_CORE``)
and wrk runs through ``tests.wrk``; the scripts put the repository root on ``sys.path`` before
importing this module. Every benchmark measures its baseline in the same run and prints
ratios, because this machine is shared and absolute numbers drift from minute to minute.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.wrk import SERVER_CORE

__all__ = ("cpu_seconds", "pinned_server", "require_wrk", "settle", "wait_http")


def require_wrk() -> None:
    """Exit with a one-line message when wrk is not installed."""
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install wrk")


def wait_http(url: str, proc: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    """Wait until ``url`` answers (any status), or fail if the process died."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            httpx.get(url, timeout=1.0)
            return
        except httpx.TransportError:
            time.sleep(0.05)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


def cpu_seconds(pid: int) -> float:
    """The CPU time (user and system) process ``pid`` has used, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def settle(pids: Sequence[int], *, idle_share: float = 0.05, timeout: float = 20.0) -> float:
    """Wait until the processes ``pids`` together use under ``idle_share`` of a core over a
    quarter second (at most ``timeout`` seconds); returns the seconds waited.

    The servers of a benchmark share one pinned core: one that is still busy after its
    load stopped (a projection catching up, a checkpoint) would slow the next one's run,
    and always the same next one, since the runs alternate in a fixed order. Without /proc
    (not Linux) it waits a second instead."""
    started = time.monotonic()
    if not Path("/proc/self/stat").exists():
        time.sleep(1.0)
        return time.monotonic() - started
    step = 0.25
    while time.monotonic() - started < timeout:
        before = sum(cpu_seconds(pid) for pid in pids)
        time.sleep(step)
        if sum(cpu_seconds(pid) for pid in pids) - before < idle_share * step:
            break
    return time.monotonic() - started


@contextmanager
def pinned_server(
    argv: Sequence[str],
    *,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    ready_url: str,
) -> Iterator[subprocess.Popen[bytes]]:
    """Run a baseline server (a bare app, not ``scanlet serve``) pinned to SERVER_CORE until
    the block ends, then SIGTERM it. Its output is discarded: a pipe nobody reads could fill
    up and stall it."""
    taskset = ["taskset", "-c", SERVER_CORE] if shutil.which("taskset") else []
    proc = subprocess.Popen(
        [*taskset, *argv],
        env={**os.environ, **(env or {})},
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_http(ready_url, proc)
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
