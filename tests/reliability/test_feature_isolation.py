"""A feature that keeps failing gives up alone: redirects and ingest go on, the process lives.

The analytics projection is fed an event it cannot apply (a payload that is not JSON): it
fails on every try, its supervisor gives up, and the feature waits under the features'
supervisor for a long pause. Meanwhile the core serves, readiness says which feature is down
(still 200: degraded), and the metrics show it.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry
from starlette.applications import Starlette
from starlette.testclient import TestClient

from scanlet.actors.events import LogAppended
from scanlet.storage.records import NewEvent
from scanlet.storage.timefmt import format_time
from tests.reliability.conftest import make_app, mint


@pytest.fixture
def app(scanlet_db: str, tmp_path: Path) -> Starlette:
    # A retry long enough that the feature stays down for the whole test.
    return make_app(scanlet_db, tmp_path, SCANLET_FEATURE_RETRY="600")


def poison(app: Starlette, client: TestClient) -> None:
    """Commit an event the projection cannot decode, and ring the followers' doorbell."""
    services = app.state.services
    now = datetime.now(UTC)
    bad = NewEvent(
        str(uuid.uuid4()), "scan.recorded", "menu", format_time(now), b"{this is not json"
    )

    async def commit() -> None:
        last = await services.storage.events.append([bad], now)
        services.system.bus.publish_nowait(LogAppended(last))

    client.portal.call(commit)  # type: ignore[union-attr]


def wait_until(check: Callable[[], bool], what: str) -> None:
    """Poll a condition the server reaches on its own (bounded; not a timing assertion)."""
    end = time.monotonic() + 20
    while not check():
        if time.monotonic() > end:
            raise AssertionError(f"never happened: {what}")
        time.sleep(0.01)


def test_a_poison_event_takes_analytics_down_and_nothing_else(
    app: Starlette, client: TestClient
) -> None:
    headers = mint(app, client)
    made = client.post(
        "/api/v1/codes", json={"target": "https://example.com/", "slug": "menu"}, headers=headers
    )
    assert made.status_code == 201
    poison(app, client)
    wait_until(
        lambda: client.get("/readyz").json()["features"].get("analytics") == "down",
        "analytics reported down",
    )
    assert [client.get("/menu", follow_redirects=False).status_code for _ in range(20)] == [
        302
    ] * 20
    event = {
        "type": "scan",
        "id": str(uuid.uuid4()),
        "slug": "menu",
        "occurred_at": "2026-11-30T10:00:00Z",
    }
    ingested = client.post("/api/v1/events", json={"events": [event]}, headers=headers)
    assert ingested.json()["results"][0]["status"] == "accepted"
    ready = client.get("/readyz")
    assert ready.status_code == 200
    body = ready.json()
    assert body["status"] == "degraded"
    assert body["features"] == {
        "analytics": "down",
        "integrations": "running",
        "dashboard": "running",
    }
    assert any("feature analytics is down" in reason for reason in body["reasons"])
    registry: CollectorRegistry = app.state.services.registry
    assert (
        registry.get_sample_value("scanlet_supervisor_up", {"supervisor": "feature-analytics"}) == 0
    )
    assert (
        registry.get_sample_value(
            "scanlet_supervisor_give_ups_total", {"supervisor": "feature-analytics"}
        )
        == 1
    )
    assert registry.get_sample_value("scanlet_supervisor_up", {"supervisor": "core"}) == 1
    assert app.state.services.system.failure is None
    assert getattr(app.state, "fatal", None) is None
