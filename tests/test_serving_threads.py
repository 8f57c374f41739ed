"""The loop's thread keeps its policy; every other thread of ``scanlet serve`` runs as
SCHED_BATCH (scanlet.serving.threads)."""

import contextlib
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from scanlet.serving.threads import batch_other_threads
from tests.processes import served

pytestmark = pytest.mark.skipif(
    not hasattr(os, "SCHED_BATCH") or not os.path.isdir("/proc/self/task"),
    reason="Linux scheduling policies",
)


@pytest.fixture
def waiting_thread() -> Iterator[int]:
    """A thread of this process that waits until the test ends; its native id."""
    started, release = threading.Event(), threading.Event()
    ids: list[int] = []

    def wait() -> None:
        ids.append(threading.get_native_id())
        started.set()
        release.wait()

    thread = threading.Thread(target=wait)
    thread.start()
    started.wait()
    try:
        yield ids[0]
    finally:
        release.set()
        thread.join()


def test_every_thread_but_the_kept_one_becomes_batch(waiting_thread: int) -> None:
    here = threading.get_native_id()
    policy = os.sched_getscheduler(here)
    others = {int(tid) for tid in os.listdir("/proc/self/task")} - {here}
    try:
        done = batch_other_threads(here, set())
        assert os.sched_getscheduler(waiting_thread) == os.SCHED_BATCH
        assert os.sched_getscheduler(here) == policy
        # What it returns is what it need not look at again: the others alive, never itself.
        assert waiting_thread in done
        assert here not in done
        # A thread it has seen already is left alone (set back here, it stays so).
        os.sched_setscheduler(waiting_thread, os.SCHED_OTHER, os.sched_param(0))
        assert batch_other_threads(here, done) >= {waiting_thread}
        assert os.sched_getscheduler(waiting_thread) == os.SCHED_OTHER
    finally:
        for tid in others:
            with contextlib.suppress(OSError):
                os.sched_setscheduler(tid, os.SCHED_OTHER, os.sched_param(0))


def test_a_thread_that_ended_is_dropped_and_nothing_fails(waiting_thread: int) -> None:
    here = threading.get_native_id()
    gone = max(int(tid) for tid in os.listdir("/proc/self/task")) + 100_000
    try:
        done = batch_other_threads(here, {gone})
        assert gone not in done
        assert waiting_thread in done
    finally:
        os.sched_setscheduler(waiting_thread, os.SCHED_OTHER, os.sched_param(0))


def test_a_served_process_runs_its_other_threads_as_batch(tmp_path: Path) -> None:
    with served(tmp_path) as running:
        pid = running.proc.pid
        # A request first: the servers' pools may start threads on demand.
        assert httpx.get(f"{running.base}/livez").status_code == 200
        deadline = time.monotonic() + 15
        while True:
            policies = _policies(pid)
            others = {tid: policy for tid, policy in policies.items() if tid != pid}
            if others and set(others.values()) == {os.SCHED_BATCH}:
                break
            assert time.monotonic() < deadline, f"not all batch: {policies}"
            time.sleep(0.2)
        # The main thread runs the event loop: it keeps the default policy.
        assert policies[pid] == os.SCHED_OTHER


def _policies(pid: int) -> dict[int, int]:
    """The scheduling policy of each thread of process ``pid`` (those that end meanwhile
    left out)."""
    found = {}
    for name in os.listdir(f"/proc/{pid}/task"):
        with contextlib.suppress(ProcessLookupError):
            found[int(name)] = os.sched_getscheduler(int(name))
    return found
