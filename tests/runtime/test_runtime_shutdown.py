"""Phased shutdown: close intake, drain up to a deadline, stop in reverse order, settle the rest."""

from __future__ import annotations

from typing import Any

import anyio
import pytest
from anyio import wait_all_tasks_blocked

from scanlet.runtime import (
    Actor,
    ActorRef,
    ActorStopped,
    ChildSpec,
)
from scanlet.runtime.testing import running_system, spawn_probe


class Gate(Actor[Any]):
    """Handles nothing until released; then forwards every message to `forward_to`, if set."""

    def __init__(self, release: anyio.Event, forward_to: str | None = None) -> None:
        self.release = release
        self.forward_to = forward_to
        self.handled: list[Any] = []

    async def on_message(self, message: Any) -> Any:
        await self.release.wait()
        self.handled.append(message)
        if self.forward_to is not None:
            await self.system.lookup(self.forward_to).tell(message)
        return message


async def test_shutdown_refuses_outside_senders_but_drains_what_was_queued() -> None:
    release = anyio.Event()
    gate = Gate(release, forward_to="sink")
    async with running_system() as system:
        sink = await spawn_probe(system, "sink")
        ref = await system.spawn(ChildSpec("gate", lambda: gate))
        for i in range(3):
            await ref.tell(i)
        async with anyio.create_task_group() as tg:
            tg.start_soon(system.shutdown)
            await wait_all_tasks_blocked()
            assert system.shutting_down
            with pytest.raises(ActorStopped, match="shutting down"):
                await ref.tell("late")
            with pytest.raises(ActorStopped):
                await sink.ref.ask("late ask")
            release.set()
        # Drained, and the actor's own sends to "sink" were still accepted during the drain.
        assert gate.handled == [0, 1, 2]
        assert sink.messages == [0, 1, 2]
        letters = [(d.message, d.reason) for d in system.dead_letters.recent()]
        assert letters == [("late", "shutdown"), ("late ask", "shutdown")]
        assert system.health() == {"sink": "stopped", "gate": "stopped"}


async def test_what_is_left_after_the_deadline_is_answered_or_dead_lettered() -> None:
    never = anyio.Event()
    async with running_system() as system:
        ref: ActorRef[Any] = await system.spawn(
            ChildSpec("stuck", lambda: Gate(never), stop_timeout=0.01)
        )
        errors: list[BaseException] = []

        async def ask(message: str) -> None:
            try:
                await ref.ask(message, timeout=60)
            except ActorStopped as exc:
                errors.append(exc)

        async with anyio.create_task_group() as tg:
            tg.start_soon(ask, "in flight")
            await wait_all_tasks_blocked()
            await ref.tell("queued tell")
            tg.start_soon(ask, "queued ask")
            await wait_all_tasks_blocked()
            await system.shutdown(deadline=0.01)
        # Nothing silently dropped: both asks failed, the tell is a counted dead letter.
        assert len(errors) == 2
        assert [(d.message, d.reason) for d in system.dead_letters.recent()] == [
            ("queued tell", "shutdown")
        ]


async def test_shutdown_is_idempotent_and_later_spawns_are_refused() -> None:
    async with running_system() as system:
        probe = await spawn_probe(system, "p")
        async with anyio.create_task_group() as tg:
            tg.start_soon(system.shutdown)
            tg.start_soon(system.shutdown)
        await system.shutdown()
        assert not probe.ref.is_alive
        with pytest.raises(ActorStopped):
            await system.spawn(ChildSpec("late", lambda: Gate(anyio.Event())))


async def test_shutdown_closes_bus_subscriptions() -> None:
    async with running_system() as system:
        sub = system.bus.subscribe(str)
        await system.bus.publish("last words")
    assert [event async for event in sub] == ["last words"]


async def test_nothing_accepted_is_dropped_silently() -> None:
    """Every accepted message is handled, failed to its asker, or a counted dead letter."""

    class Mixed(Actor[int]):
        async def on_message(self, message: int) -> int:
            if message % 7 == 0:
                raise ValueError(message)
            if message == 40:
                await anyio.sleep_forever()  # wedges the actor until shutdown cancels it
            return message

    outcomes: dict[str, int] = {"replied": 0, "failed": 0}
    async with running_system() as system:
        ref = await system.spawn(ChildSpec("mixed", Mixed, max_attempts=2, stop_timeout=0.01))

        async def ask(i: int) -> None:
            try:
                await ref.ask(i, timeout=60)
                outcomes["replied"] += 1
            except (ValueError, ActorStopped):
                outcomes["failed"] += 1

        async with anyio.create_task_group() as tg:
            for i in range(60):
                if i % 2:
                    await ref.tell(i)
                else:
                    tg.start_soon(ask, i)
            await wait_all_tasks_blocked()
            await system.shutdown(deadline=0.05)
        tells = 30
        asks = 30
        handled_tells = ref.statistics().messages_handled - outcomes["replied"]
        assert outcomes["replied"] + outcomes["failed"] == asks
        assert handled_tells + system.dead_letters.count == tells
