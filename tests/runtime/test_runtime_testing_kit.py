"""The public test kit: running_system, wait_idle, Probe and BusProbe."""

from __future__ import annotations

import msgspec
import pytest

from scanlet.runtime import Actor, ChildSpec
from scanlet.runtime.testing import BusProbe, Probe, running_system, spawn_probe


class Published(msgspec.Struct, frozen=True):
    n: int


class Fanout(Actor[int]):
    """Forwards each number to the probe and publishes it on the bus."""

    async def on_message(self, message: int) -> None:
        await self.system.lookup("probe").tell(message)
        await self.system.bus.publish(Published(message))


async def test_probes_see_what_an_actor_sent_and_published() -> None:
    async with running_system() as system:
        probe = await spawn_probe(system, "probe")
        with BusProbe(system.bus, Published) as events:
            fanout = await system.spawn(ChildSpec("fanout", Fanout))
            for i in range(3):
                await fanout.tell(i)
            await system.wait_idle()
            assert probe.messages == [0, 1, 2]
            assert events.events == [Published(0), Published(1), Published(2)]
            await fanout.tell(3)
            assert await events.wait_for(4) == [Published(i) for i in range(4)]
            assert events.dropped == 0


async def test_probe_wait_for_returns_once_enough_messages_arrived() -> None:
    async with running_system() as system:
        probe = await spawn_probe(system, "probe", reply=str)
        assert await probe.ref.ask(7) == "7"
        await probe.ref.tell(8)
        assert await probe.wait_for(2) == [7, 8]


async def test_probe_wait_for_fails_instead_of_hanging() -> None:
    async with running_system() as system:
        probe = await spawn_probe(system, "probe")
        with pytest.raises(TimeoutError):
            await probe.wait_for(1, timeout=0.01)


async def test_wait_idle_returns_at_once_when_nothing_is_pending() -> None:
    async with running_system() as system:
        await system.wait_idle()
        assert isinstance(Probe(), Actor)
