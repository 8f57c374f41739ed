"""The event loop's lag: a probe records how late the loop ran its timer, so a stall of the
loop shows up in ``scanlet_event_loop_lag_seconds``."""

import time
from pathlib import Path

import anyio
from prometheus_client import CollectorRegistry
from starlette.testclient import TestClient

from scanlet.assembly import create_app
from scanlet.config import load_settings
from scanlet.observability.loop_lag import loop_lag_histogram, watch_loop_lag

NAME = "scanlet_event_loop_lag_seconds"


def count(registry: CollectorRegistry, le: str | None = None) -> float:
    if le is None:
        return registry.get_sample_value(f"{NAME}_count") or 0.0
    return registry.get_sample_value(f"{NAME}_bucket", {"le": le}) or 0.0


async def test_a_stalled_loop_is_recorded_as_late_as_it_was() -> None:
    registry = CollectorRegistry()
    observe = loop_lag_histogram(registry).observer()
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(lambda: watch_loop_lag(observe, interval=0.005))
        await anyio.sleep(0.05)
        quiet = count(registry)
        time.sleep(0.08)  # noqa: ASYNC251 - holds the loop, as a long fold would
        await anyio.sleep(0.05)
        tasks.cancel_scope.cancel()
    assert quiet >= 3
    total = count(registry)
    assert total > quiet
    # The probe due during the stall woke late by most of it: 50 ms or more.
    assert total - count(registry, "0.05") >= 1
    assert (registry.get_sample_value(f"{NAME}_sum") or 0.0) >= 0.05


def test_a_server_exports_its_loop_lag(tmp_path: Path) -> None:
    settings = load_settings(
        {"SCANLET_DB": str(tmp_path / "s.db"), "SCANLET_SECRET_FILE": str(tmp_path / "k")},
        isatty=False,
    )
    registry = CollectorRegistry()
    with TestClient(create_app(settings, registry=registry, features=[])) as client:
        deadline = time.monotonic() + 10
        while count(registry) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert f"{NAME}_count" in client.get("/metrics").text
    assert count(registry) >= 2
