"""ActorRef: tell, ask with deadlines, errors to the asker, stopped actors, the registry."""

from __future__ import annotations

from typing import Any

import anyio
import pytest

from scanlet.runtime import (
    Actor,
    ActorCrashed,
    ActorNameTaken,
    ActorNotFound,
    ActorStopped,
    AskTimeout,
    Backoff,
    ChildSpec,
    StopReason,
    SupervisorSpec,
)
from scanlet.runtime.testing import running_system, spawn_probe

FAST = SupervisorSpec(backoff=Backoff(min=0.001, max=0.01, jitter=0))


class Lifecycle(Actor[str]):
    """Records its hooks into a shared list."""

    def __init__(self, log: list[str]) -> None:
        self.log = log

    async def on_start(self) -> None:
        self.log.append(f"start:{self.ref.name}")

    async def on_message(self, message: str) -> str:
        self.log.append(f"message:{message}")
        return message.upper()

    async def on_stop(self, reason: StopReason) -> None:
        self.log.append(f"stop:{self.ref.name}:{reason}")


class Gate(Actor[Any]):
    """Blocks every message until `release` is set."""

    def __init__(self, release: anyio.Event, entered: anyio.Event | None = None) -> None:
        self.release = release
        self.entered = entered

    async def on_message(self, message: Any) -> Any:
        if self.entered is not None:
            self.entered.set()
        await self.release.wait()
        return message


class Faulty(Actor[str]):
    """Raises on "boom", echoes anything else."""

    async def on_message(self, message: str) -> str:
        if message == "boom":
            raise LookupError("no such thing")
        return message


async def test_hooks_run_in_order_and_ask_returns_the_handler_value() -> None:
    log: list[str] = []
    async with running_system() as system:
        ref = await system.spawn(ChildSpec("life", lambda: Lifecycle(log)))
        assert log == ["start:life"]
        assert await ref.ask("hi") == "HI"
        await ref.tell("tell")
        ref.tell_nowait("nowait")
        await system.wait_idle()
    assert log == [
        "start:life",
        "message:hi",
        "message:tell",
        "message:nowait",
        "stop:life:shutdown",
    ]


async def test_tell_is_one_way_and_handled_in_order() -> None:
    async with running_system() as system:
        probe = await spawn_probe(system, "probe")
        for i in range(200):
            await system.lookup("probe").tell(i)
        assert await probe.wait_for(200) == list(range(200))


async def test_ask_times_out_with_a_clear_error() -> None:
    release = anyio.Event()
    async with running_system() as system:
        ref = await system.spawn(ChildSpec("slow", lambda: Gate(release)))
        with pytest.raises(AskTimeout) as info:
            await ref.ask("x", timeout=0.01)
        assert isinstance(info.value, TimeoutError)
        assert "'slow'" in str(info.value)
        assert "0.01" in str(info.value)
        assert ref.statistics().ask_timeouts == 1
        release.set()


async def test_ask_uses_the_system_default_deadline() -> None:
    release = anyio.Event()
    async with running_system(ask_timeout=0.01) as system:
        ref = await system.spawn(ChildSpec("slow", lambda: Gate(release)))
        with pytest.raises(AskTimeout) as info:
            await ref.ask("x")
        assert info.value.timeout == 0.01
        release.set()


async def test_expired_ask_is_skipped_by_the_actor() -> None:
    release = anyio.Event()
    entered = anyio.Event()
    async with running_system() as system:
        ref = await system.spawn(ChildSpec("slow", lambda: Gate(release, entered)))
        await ref.tell("first")
        await entered.wait()
        with pytest.raises(AskTimeout):
            await ref.ask("late", timeout=0.01)
        release.set()
        await system.wait_idle()
        assert ref.statistics().messages_handled == 1


async def test_handler_exception_reaches_the_asker_as_a_crash_and_the_supervisor() -> None:
    async with running_system(supervisor=FAST) as system:
        ref = await system.spawn(ChildSpec("faulty", Faulty))
        with pytest.raises(ActorCrashed, match="no such thing") as caught:
            await ref.ask("boom")
        assert isinstance(caught.value.__cause__, LookupError)
        # Reported to the supervisor: counted, and the actor restarted with a fresh instance.
        assert await ref.ask("still here") == "still here"
        stats = ref.statistics()
        assert stats.failures == 1
        assert stats.restarts == 1
        assert system.dead_letters.count == 0  # asks are answered, never dead-lettered


async def test_tell_and_ask_to_a_stopped_actor_raise_at_once() -> None:
    async with running_system() as system:
        ref = await system.spawn(ChildSpec("gone", Faulty))
        await ref.stop()
        assert not ref.is_alive
        assert system.health()["gone"] == "stopped"
        with pytest.raises(ActorStopped):
            ref.tell_nowait("a")
        with pytest.raises(ActorStopped):
            await ref.tell("b")
        with pytest.raises(ActorStopped):
            await ref.ask("c")
        assert [d.message for d in system.dead_letters.recent()] == ["a", "b", "c"]
        assert {d.reason for d in system.dead_letters.recent()} == {"stopped"}
        assert ref.statistics().dead_letters == 3


async def test_lookup_by_name_and_unknown_names() -> None:
    async with running_system() as system:
        ref = await system.spawn(ChildSpec("named", Faulty))
        assert system.lookup("named") is ref
        with pytest.raises(ActorNotFound) as info:
            system.lookup("nobody")
        assert isinstance(info.value, KeyError)
        with pytest.raises(ActorNameTaken):
            await system.spawn(ChildSpec("named", Faulty))


async def test_a_stopped_name_can_be_spawned_again() -> None:
    async with running_system() as system:
        old = await system.spawn(ChildSpec("again", Faulty))
        await old.stop()
        new = await system.spawn(ChildSpec("again", Faulty))
        assert new is not old
        assert system.lookup("again") is new
        assert await new.ask("ok") == "ok"


async def test_failing_on_start_fails_the_spawn() -> None:
    class BadStart(Actor[str]):
        async def on_start(self) -> None:
            raise ValueError("cannot start")

    async with running_system() as system:
        with pytest.raises(ValueError, match="cannot start"):
            await system.spawn(ChildSpec("bad", BadStart))
        with pytest.raises(ActorNotFound):
            system.lookup("bad")


async def test_stop_from_inside_the_handler_stops_after_the_message() -> None:
    class Quitter(Actor[str]):
        async def on_message(self, message: str) -> str:
            await self.ref.stop()
            return "bye"

    async with running_system() as system:
        ref = await system.spawn(ChildSpec("quitter", Quitter))
        assert await ref.ask("stop") == "bye"
        await system.wait_idle()
        with pytest.raises(ActorStopped):
            await ref.ask("again")
        assert system.health()["quitter"] == "stopped"


async def test_on_message_must_be_implemented() -> None:
    async with running_system() as system:
        ref = await system.spawn(ChildSpec("bare", Actor[Any]))
        with pytest.raises(ActorCrashed) as caught:
            await ref.ask("x")
        assert isinstance(caught.value.__cause__, NotImplementedError)
