"""The loop's thread and Python's keep their policy; the threads of ``scanlet serve`` that Python
did not start (granian's) run as SCHED_BATCH (scanlet.serving.threads)."""

import contextlib
import ctypes
import ctypes.util
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


@pytest.fixture
def native_thread() -> Iterator[int]:
    """A thread Python did not start (as granian's are): libc's ``sleep`` run by
    ``pthread_create``, alive for two seconds; its native id."""
    libc_name = ctypes.util.find_library("c")
    if libc_name is None:
        pytest.skip("no C library to start a thread with")
    libc = ctypes.CDLL(libc_name, use_errno=True)
    before = _tasks()
    handle = ctypes.c_ulong()
    # sleep(unsigned seconds) as the start routine, its argument the pointer's value.
    sleep = ctypes.cast(libc.sleep, ctypes.c_void_p)
    assert libc.pthread_create(ctypes.byref(handle), None, sleep, ctypes.c_void_p(2)) == 0
    try:
        started = _tasks() - before
        assert len(started) == 1
        yield started.pop()
    finally:
        libc.pthread_join(handle, None)


def _tasks() -> set[int]:
    return {int(name) for name in os.listdir("/proc/self/task")}


def test_threads_python_did_not_start_become_batch_and_its_own_do_not(
    native_thread: int, waiting_thread: int
) -> None:
    here = threading.get_native_id()
    policy = os.sched_getscheduler(here)
    done = batch_other_threads(here, set())
    assert os.sched_getscheduler(native_thread) == os.SCHED_BATCH
    # Python's threads (a database reader's, a checkpoint's) and the kept one keep theirs.
    assert os.sched_getscheduler(waiting_thread) == os.SCHED_OTHER
    assert os.sched_getscheduler(here) == policy
    # What it returns is what it need not look at again: never itself, never Python's.
    assert native_thread in done
    assert here not in done
    assert waiting_thread not in done
    # A thread it has seen already is left alone (set back here, it stays so).
    os.sched_setscheduler(native_thread, os.SCHED_OTHER, os.sched_param(0))
    assert batch_other_threads(here, done) >= {native_thread}
    assert os.sched_getscheduler(native_thread) == os.SCHED_OTHER


def test_a_thread_that_ended_is_dropped_and_nothing_fails(native_thread: int) -> None:
    here = threading.get_native_id()
    gone = max(_tasks()) + 100_000
    done = batch_other_threads(here, {gone})
    assert gone not in done
    assert native_thread in done


def test_a_served_process_runs_granians_threads_as_batch(tmp_path: Path) -> None:
    with served(tmp_path) as running:
        pid = running.proc.pid
        # A request first: the servers' pools may start threads on demand.
        assert httpx.get(f"{running.base}/livez").status_code == 200
        deadline = time.monotonic() + 15
        while True:
            policies = _policies(pid)
            # granian's threads (Python's own, such as the database readers', keep theirs).
            if os.SCHED_BATCH in policies.values():
                break
            assert time.monotonic() < deadline, f"no thread batch: {policies}"
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
