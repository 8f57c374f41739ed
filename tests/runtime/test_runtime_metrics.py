"""Metrics: per-actor counters and histograms exported by a collector at scrape time."""

from __future__ import annotations

from typing import Any

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from scanlet.runtime import LATENCY_BUCKETS, Actor, Backoff, ChildSpec, SlowPolicy, SupervisorSpec
from scanlet.runtime.testing import running_system, spawn_probe


def sample(registry: CollectorRegistry, name: str, **labels: str) -> float | None:
    return registry.get_sample_value(name, labels)


class Boom(Actor[Any]):
    async def on_message(self, message: Any) -> None:
        raise RuntimeError("boom")


async def test_actor_metrics_are_exported_with_the_actor_label_only() -> None:
    registry = CollectorRegistry()
    fast = SupervisorSpec(backoff=Backoff(0.001, 0.002, jitter=0))
    async with running_system(registry=registry, metric_prefix="app", supervisor=fast) as system:
        probe = await spawn_probe(system, "probe", capacity=16)
        for i in range(5):
            await probe.ref.tell(i)
        boom = await system.spawn(ChildSpec("boom", Boom, max_attempts=1))
        await boom.tell("x")
        await system.wait_idle()
        assert sample(registry, "app_actor_messages_total", actor="probe") == 5
        assert sample(registry, "app_actor_mailbox_depth", actor="probe") == 0
        assert sample(registry, "app_actor_mailbox_capacity", actor="probe") == 16
        assert sample(registry, "app_actor_mailbox_wait_seconds_count", actor="probe") == 5
        assert sample(registry, "app_actor_handle_seconds_count", actor="probe") == 5
        inf = sample(registry, "app_actor_handle_seconds_bucket", actor="probe", le="+Inf")
        assert inf == 5
        assert sample(registry, "app_actor_failures_total", actor="boom") == 1
        assert sample(registry, "app_actor_restarts_total", actor="boom") == 1
        assert sample(registry, "app_actor_dead_letters_total", actor="boom") == 1
        assert sample(registry, "app_actor_ask_timeouts_total", actor="boom") == 0
        for metric in registry.collect():
            for s in metric.samples:
                if s.name.startswith("app_actor"):
                    assert set(s.labels) - {"le"} == {"actor"}


async def test_histogram_buckets_are_cumulative() -> None:
    registry = CollectorRegistry()
    async with running_system(registry=registry, metric_prefix="app") as system:
        probe = await spawn_probe(system, "probe")
        await probe.ref.ask("x")
        counts = [
            sample(registry, "app_actor_handle_seconds_bucket", actor="probe", le=repr(b))
            for b in LATENCY_BUCKETS
        ]
        assert counts == sorted(counts)  # type: ignore[type-var]
        assert counts[-1] == 1


async def test_bus_drops_are_exported_per_subscriber() -> None:
    registry = CollectorRegistry()
    async with running_system(registry=registry, metric_prefix="app") as system:
        system.bus.subscribe(int, capacity=1, policy=SlowPolicy.DROP, name="slow")
        for i in range(3):
            await system.bus.publish(i)
        assert sample(registry, "app_bus_dropped_total", subscriber="slow") == 2
        assert b"app_bus_dropped_total" in generate_latest(registry)


async def test_the_collector_leaves_the_registry_when_the_system_stops() -> None:
    registry = CollectorRegistry()
    async with running_system(registry=registry, metric_prefix="app") as system:
        await spawn_probe(system, "probe")
        assert sample(registry, "app_actor_mailbox_capacity", actor="probe") == 1024
    assert sample(registry, "app_actor_mailbox_capacity", actor="probe") is None
    # So a second system can register on the same registry.
    async with running_system(registry=registry, metric_prefix="app") as system:
        await spawn_probe(system, "probe")
        assert sample(registry, "app_actor_mailbox_capacity", actor="probe") == 1024


def test_capacity_must_be_positive() -> None:
    from scanlet.runtime._deadletters import DeadLetters
    from scanlet.runtime._mailbox import Mailbox

    with pytest.raises(ValueError, match="at least 1"):
        Mailbox("x", 0, DeadLetters(), ask_timeout=1.0, otel=False)


async def test_without_a_prefix_the_families_are_named_after_the_runtime_alone() -> None:
    registry = CollectorRegistry()
    async with running_system(registry=registry) as system:
        await spawn_probe(system, "probe")
        assert sample(registry, "actor_mailbox_capacity", actor="probe") == 1024
