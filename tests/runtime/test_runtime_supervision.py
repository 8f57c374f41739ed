"""Supervision: strategies, restart kinds, intensity and escalation, backoff, ordering."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from typing import Any

import anyio
import pytest
from hypothesis import given
from hypothesis import strategies as st

from scanlet.runtime import (
    Actor,
    ActorCrashed,
    ActorStopped,
    Backoff,
    ChildSpec,
    Restart,
    StopReason,
    Strategy,
    SupervisionFailed,
    SupervisorSpec,
)
from scanlet.runtime.testing import running_system

NO_WAIT = Backoff(min=0.001, max=0.002, jitter=0)


def spec(strategy: Strategy = Strategy.ONE_FOR_ONE, **kw: Any) -> SupervisorSpec:
    return SupervisorSpec(strategy=strategy, backoff=NO_WAIT, **kw)


class Member(Actor[str]):
    """Logs its lifecycle; "boom" raises, "exit" is a normal exit, "id" gives its instance."""

    ids = itertools.count(1)

    def __init__(self, name: str, log: list[str]) -> None:
        self.name = name
        self.log = log
        self.instance = next(self.ids)
        self.state: list[str] = []

    async def on_start(self) -> None:
        self.log.append(f"start:{self.name}")

    async def on_message(self, message: str) -> Any:
        if message == "boom":
            raise RuntimeError(f"{self.name} exploded")
        if message == "exit":
            self.stop_self()
            return None
        if message == "id":
            return self.instance
        self.state.append(message)
        return list(self.state)

    async def on_stop(self, reason: StopReason) -> None:
        self.log.append(f"stop:{self.name}")


def member(name: str, log: list[str], **kw: Any) -> ChildSpec:
    return ChildSpec(name, lambda: Member(name, log), **kw)


async def _fail(ref: Any) -> None:
    with pytest.raises(ActorCrashed, match="exploded"):
        await ref.ask("boom")


async def test_a_restarted_actor_is_a_fresh_instance_from_on_start() -> None:
    log: list[str] = []
    async with running_system(supervisor=spec()) as system:
        ref = await system.spawn(member("a", log))
        assert await ref.ask("x") == ["x"]
        first = await ref.ask("id")
        await _fail(ref)
        assert await ref.ask("id") != first
        assert await ref.ask("y") == ["y"]  # no state carried over
        assert log == ["start:a", "stop:a", "start:a"]
        assert system.health() == {"a": "running"}


async def test_messages_sent_during_backoff_are_kept_for_the_new_instance() -> None:
    log: list[str] = []
    slow = SupervisorSpec(backoff=Backoff(min=0.02, max=0.02, jitter=0))
    async with running_system(supervisor=slow) as system:
        ref = await system.spawn(member("a", log, max_attempts=1))
        await ref.tell("boom")
        for word in ("p", "q"):
            await ref.tell(word)
        assert await ref.ask("r") == ["p", "q", "r"]
        assert ref.statistics().restarts == 1


async def test_one_for_one_restarts_only_the_failed_child() -> None:
    log: list[str] = []
    async with running_system(supervisor=spec(Strategy.ONE_FOR_ONE)) as system:
        refs = [await system.spawn(member(n, log)) for n in "abc"]
        log.clear()
        await _fail(refs[1])
        await system.wait_idle()
        assert log == ["stop:b", "start:b"]


async def test_one_for_all_restarts_every_child_in_order() -> None:
    log: list[str] = []
    async with running_system(supervisor=spec(Strategy.ONE_FOR_ALL)) as system:
        refs = [await system.spawn(member(n, log)) for n in "abc"]
        log.clear()
        await _fail(refs[1])
        await system.wait_idle()
        assert log == ["stop:b", "stop:c", "stop:a", "start:a", "start:b", "start:c"]
        assert [r.statistics().restarts for r in refs] == [1, 1, 1]


async def test_rest_for_one_restarts_the_failed_child_and_those_after_it() -> None:
    log: list[str] = []
    async with running_system(supervisor=spec(Strategy.REST_FOR_ONE)) as system:
        refs = [await system.spawn(member(n, log)) for n in "abc"]
        log.clear()
        await _fail(refs[1])
        await system.wait_idle()
        assert log == ["stop:b", "stop:c", "start:b", "start:c"]
        assert [r.statistics().restarts for r in refs] == [0, 1, 1]


async def test_children_start_in_order_and_stop_in_reverse_order() -> None:
    log: list[str] = []
    async with running_system() as system:
        for name in "abc":
            await system.spawn(member(name, log))
    assert log == ["start:a", "start:b", "start:c", "stop:c", "stop:b", "stop:a"]


async def test_permanent_children_restart_even_after_a_normal_exit() -> None:
    log: list[str] = []
    async with running_system(supervisor=spec()) as system:
        ref = await system.spawn(member("p", log, restart=Restart.PERMANENT))
        await ref.tell("exit")
        assert await ref.ask("after") == ["after"]
        assert log == ["start:p", "stop:p", "start:p"]


async def test_transient_children_restart_after_failures_only() -> None:
    log: list[str] = []
    async with running_system(supervisor=spec()) as system:
        ref = await system.spawn(member("t", log, restart=Restart.TRANSIENT))
        await _fail(ref)
        assert await ref.ask("back") == ["back"]
        await ref.tell("exit")
        await system.wait_idle()
        assert system.health()["t"] == "stopped"
        with pytest.raises(ActorStopped):
            await ref.ask("gone")


async def test_temporary_children_are_never_restarted() -> None:
    log: list[str] = []
    release = anyio.Event()

    class Doomed(Actor[str]):
        async def on_message(self, message: str) -> None:
            await release.wait()
            raise RuntimeError("doomed")

    async with running_system(supervisor=spec()) as system:
        ref = await system.spawn(ChildSpec("tmp", Doomed, restart=Restart.TEMPORARY))
        await ref.tell("fail")
        await ref.tell("queued tell")
        results: list[BaseException] = []

        async def ask() -> None:
            try:
                await ref.ask("queued ask")
            except ActorCrashed as exc:
                results.append(exc)

        async with anyio.create_task_group() as tg:
            tg.start_soon(ask)
            await anyio.wait_all_tasks_blocked()
            release.set()
        assert system.health()["tmp"] == "failed"
        assert isinstance(results[0].__cause__, RuntimeError)
        reasons = {(d.message, d.reason) for d in system.dead_letters.recent()}
        assert ("queued tell", "crashed") in reasons
        assert not log


async def test_too_many_restarts_fail_the_system() -> None:
    log: list[str] = []
    async with running_system(supervisor=spec(max_restarts=2, within=60)) as system:
        ref = await system.spawn(member("a", log))
        for _ in range(3):
            await _fail(ref)
        failure = await system.wait_failed()
        assert isinstance(failure, SupervisionFailed)
        assert isinstance(failure.__cause__, RuntimeError)
        assert system.failure is failure
        assert system.health() == {"a": "failed"}
        assert ref.statistics().restarts == 2
        with pytest.raises(ActorStopped):
            await ref.ask("x")


async def test_restarts_outside_the_window_do_not_count() -> None:
    now = [0.0]
    log: list[str] = []
    async with running_system(
        supervisor=spec(max_restarts=1, within=10), clock=lambda: now[0]
    ) as system:
        ref = await system.spawn(member("a", log))
        for _ in range(3):
            await _fail(ref)
            await ref.ask("ping")  # wait for the restart
            now[0] += 11
        assert system.failure is None
        assert ref.statistics().restarts == 3


async def test_a_nested_supervisor_escalates_and_is_restarted_as_a_unit() -> None:
    log: list[str] = []
    async with running_system(supervisor=spec(max_restarts=3, within=60)) as system:
        group = await system.spawn_supervisor("workers", spec(max_restarts=1, within=60))
        w1 = await group.spawn(member("w1", log))
        w2 = await group.spawn(member("w2", log))
        assert group.children == ["w1", "w2"]
        first = await w2.ask("id")
        await _fail(w1)  # restarted by "workers"
        await w1.ask("ping")
        log.clear()
        await _fail(w1)  # "workers" gives up, the root restarts it as a unit
        await system.wait_idle()  # includes the pending restart decisions
        assert await w2.ask("id") != first
        assert await w1.ask("state") == ["state"]
        assert log == ["stop:w1", "stop:w2", "start:w1", "start:w2"]
        assert system.failure is None
        assert system.health() == {"w1": "running", "w2": "running"}


async def test_escalation_to_the_top_fails_the_system() -> None:
    log: list[str] = []
    async with running_system(supervisor=spec(max_restarts=0)) as system:
        group = await system.spawn_supervisor("workers", spec(max_restarts=0))
        ref = await group.spawn(member("w", log))
        await _fail(ref)
        failure = await system.wait_failed()
        assert isinstance(failure, SupervisionFailed)
        assert isinstance(failure.__cause__, SupervisionFailed)
        assert system.health() == {"w": "failed"}


async def test_a_failing_on_start_during_restart_counts_as_a_failure() -> None:
    starts = itertools.count()

    class FlakyStart(Actor[str]):
        async def on_start(self) -> None:
            if next(starts) >= 1:
                raise OSError("dependency down")

        async def on_message(self, message: str) -> None:
            raise RuntimeError("first failure")

    async with running_system(supervisor=spec(max_restarts=3, within=60)) as system:
        ref = await system.spawn(ChildSpec("flaky", FlakyStart))
        await ref.tell("x")
        failure = await system.wait_failed()
        assert isinstance(failure.__cause__, OSError)
        assert ref.statistics().failures == 4


def test_backoff_doubles_per_attempt_up_to_the_cap_with_jitter() -> None:
    backoff = Backoff(min=0.1, max=1.0, jitter=0.2)
    middle: Callable[[], float] = lambda: 0.5  # noqa: E731 - jitter factor exactly 1
    assert [backoff.delay(n, middle) for n in (1, 2, 3, 4, 5)] == pytest.approx(
        [0.1, 0.2, 0.4, 0.8, 1.0]
    )
    assert backoff.delay(1, lambda: 0.0) == pytest.approx(0.08)
    assert backoff.delay(2, lambda: 0.999999) == pytest.approx(0.24, rel=1e-4)
    assert backoff.delay(9, lambda: 0.999999) == 1.0  # the cap holds with jitter too


@given(
    st.floats(0.0, 1.0),
    st.floats(0.0, 10.0),
    st.floats(0.0, 1.0),
    st.integers(1, 64),
    st.floats(0.0, 1.0, exclude_max=True),
)
def test_backoff_delays_stay_within_zero_and_max(
    low: float, high: float, jitter: float, attempt: int, rand: float
) -> None:
    backoff = Backoff(min=low, max=high, jitter=jitter)
    assert 0.0 <= backoff.delay(attempt, lambda: rand) <= high


async def test_the_backoff_delays_the_restart() -> None:
    log: list[str] = []
    delayed = SupervisorSpec(backoff=Backoff(min=0.03, max=0.03, jitter=0))
    async with running_system(supervisor=delayed) as system:
        ref = await system.spawn(member("a", log))
        failed_at = time.monotonic()
        await _fail(ref)
        await ref.ask("ping")
        assert time.monotonic() - failed_at >= 0.03


async def test_a_forgetting_supervisor_drops_children_that_stop_and_keeps_failed_ones() -> None:
    log: list[str] = []
    async with running_system() as system:
        workers = await system.spawn_supervisor("workers", spec(forget_stopped=True))
        stopped = await workers.spawn(member("stopped", log, restart=Restart.TRANSIENT))
        exited = await workers.spawn(member("exited", log, restart=Restart.TRANSIENT))
        failed = await workers.spawn(member("failed", log, restart=Restart.TEMPORARY))
        kept = await workers.spawn(member("kept", log, restart=Restart.TRANSIENT))
        await stopped.stop()
        await exited.tell("exit")
        await _fail(failed)
        await system.wait_idle()
        # Stopped for good on purpose: gone from health and metrics, the name free again.
        assert system.health() == {"failed": "failed", "kept": "running"}
        assert {box.name for box in system.mailboxes()} == {"failed", "kept"}
        again = await workers.spawn(member("stopped", log))
        assert await again.ask("hi") == ["hi"]
        assert await kept.ask("still") == ["still"]


async def test_other_supervisors_keep_children_that_stopped_listed() -> None:
    log: list[str] = []
    async with running_system(supervisor=spec()) as system:
        ref = await system.spawn(member("w", log, restart=Restart.TRANSIENT))
        await ref.tell("exit")
        await system.wait_idle()
        assert system.health() == {"w": "stopped"}


async def test_a_stopped_nested_supervisor_stops_its_children_and_frees_the_names() -> None:
    log: list[str] = []
    async with running_system() as system:
        group = await system.spawn_supervisor("group", spec())
        duty = await group.spawn_supervisor("duty", spec())
        worker = await duty.spawn(member("worker", log))
        inner = await duty.spawn_supervisor("inner", spec())
        await inner.spawn(member("deep", log))
        await duty.stop()
        assert log == ["start:worker", "start:deep", "stop:deep", "stop:worker"]
        assert not worker.is_alive
        assert not duty.is_running
        assert group.children == []
        # Both supervisors' names and both actors' names can be used again.
        again = await group.spawn_supervisor("duty", spec())
        await again.spawn_supervisor("inner", spec())
        fresh = await again.spawn(member("worker", log))
        assert await fresh.ask("hi") == ["hi"]
        assert group.is_running
