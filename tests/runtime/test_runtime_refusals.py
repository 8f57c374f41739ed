"""Refusals, typed asks, and what an actor is told when it stops."""

from __future__ import annotations

from typing import Any, assert_type

import msgspec
import pytest

from scanlet.runtime import (
    Actor,
    ActorCrashed,
    Asks,
    Backoff,
    ChildSpec,
    StopReason,
    SupervisorSpec,
)
from scanlet.runtime.testing import running_system

FAST = SupervisorSpec(backoff=Backoff(min=0.001, max=0.01, jitter=0))


class Unknown(Exception):
    """Raised when the ledger has no such name."""


class Lookup(msgspec.Struct, Asks[int], frozen=True):
    """How much does ``name`` hold?"""

    name: str


class Ledger(Actor[Any]):
    """Answers lookups; refuses names it does not know, crashes on "bug"."""

    refuses = (Unknown,)

    def __init__(self, starts: list[int]) -> None:
        starts.append(1)
        self.amounts = {"a": 1, "b": 2}

    async def on_message(self, message: Any) -> Any:
        if isinstance(message, Lookup):
            if message.name == "bug":
                raise RuntimeError("a bug")
            if message.name not in self.amounts:
                raise Unknown(message.name)
            return self.amounts[message.name]
        return None


async def test_a_refusal_reaches_the_asker_and_the_actor_carries_on() -> None:
    starts: list[int] = []
    async with running_system() as system:
        ref = await system.spawn(ChildSpec("ledger", lambda: Ledger(starts)))
        for _ in range(50):
            with pytest.raises(Unknown):
                await ref.ask(Lookup("zzz"))
        assert await ref.ask(Lookup("b")) == 2
        stats = ref.statistics()
        assert (stats.failures, stats.restarts, stats.refusals) == (0, 0, 50)
        assert starts == [1]
        assert system.failure is None


async def test_an_error_that_is_not_a_refusal_is_a_failure_and_is_not_retried() -> None:
    starts: list[int] = []
    async with running_system() as system:
        ref = await system.spawn(ChildSpec("ledger", lambda: Ledger(starts)))
        await ref.tell(Lookup("bug"))
        with pytest.raises(ActorCrashed) as caught:
            await ref.ask(Lookup("bug"))
        assert isinstance(caught.value.__cause__, RuntimeError)
        await system.wait_idle()
        stats = ref.statistics()
        # Two failures, one per message: the tell was not tried a second time (no retry by
        # default) and became a dead letter.
        assert (stats.failures, stats.refusals, stats.dead_letters) == (2, 0, 1)
        assert len(starts) == 3


async def test_a_refused_tell_becomes_a_dead_letter() -> None:
    async with running_system() as system:
        ref = await system.spawn(ChildSpec("ledger", lambda: Ledger([])))
        await ref.tell(Lookup("nobody"))
        await system.wait_idle()
        [letter] = system.dead_letters.recent()
        assert (letter.reason, type(letter.error)) == ("refused", Unknown)


class Grouper(Actor[Any]):
    """Takes every queued message along with the first, answers the even ones, refuses the rest."""

    refuses = (Unknown,)

    async def on_message(self, message: Any) -> Any:
        taken = self.take_queued(100)
        for envelope in taken:
            if envelope.message % 2 == 0:
                envelope.reply(envelope.message)
        raise Unknown("the whole group")


async def test_a_refusal_after_group_handling_fails_only_the_unanswered_asks() -> None:
    import anyio

    async with running_system() as system:
        ref = await system.spawn(ChildSpec("grouper", Grouper))
        results: dict[int, object] = {}

        async def ask(number: int) -> None:
            try:
                results[number] = await ref.ask(number)
            except Unknown as exc:
                results[number] = exc

        async with anyio.create_task_group() as tg:
            for number in range(1, 7):
                tg.start_soon(ask, number)
        assert isinstance(results[1], Unknown)
        assert {n: results[n] for n in (2, 4, 6)} == {2: 2, 4: 4, 6: 6}
        assert all(isinstance(results[n], Unknown) for n in (3, 5))
        assert ref.statistics().failures == 0


async def test_an_asks_message_types_its_reply() -> None:
    async with running_system() as system:
        ref = await system.spawn(ChildSpec("ledger", lambda: Ledger([])))
        amount = await ref.ask(Lookup("a"))
        assert_type(amount, int)
        assert amount == 1


class Stopper(Actor[str]):
    """Records why each of its instances stopped."""

    def __init__(self, reasons: list[StopReason]) -> None:
        self.reasons = reasons

    async def on_message(self, message: str) -> None:
        if message == "boom":
            raise RuntimeError("boom")
        if message == "exit":
            self.stop_self()

    async def on_stop(self, reason: StopReason) -> None:
        self.reasons.append(reason)


async def test_on_stop_is_told_why_the_instance_stops() -> None:
    reasons: list[StopReason] = []
    async with running_system(supervisor=FAST) as system:
        ref = await system.spawn(ChildSpec("stopper", lambda: Stopper(reasons)))
        await ref.tell("boom")
        await system.wait_idle()
        await ref.tell("exit")
        await system.wait_idle()
        other = await system.spawn(ChildSpec("other", lambda: Stopper(reasons)))
        await other.stop()
        assert reasons == [StopReason.FAILED, StopReason.EXITED, StopReason.TERMINATED]
    assert reasons[-1] is StopReason.SHUTDOWN
