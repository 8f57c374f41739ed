"""The log followers' doorbells as the app starts them: the analytics follower is rung more
often than the others (its catch-ups then stay small under load, see DOORBELL_DEBOUNCE)."""

from __future__ import annotations

import time

import pytest
from anyio.abc import TaskGroup
from starlette.applications import Starlette
from starlette.testclient import TestClient

import scanlet.assembly.analytics
import scanlet.assembly.integrations
from scanlet.actors.analytics.actor import DOORBELL_DEBOUNCE
from scanlet.actors.follower import CatchUp, start_doorbell
from scanlet.runtime import ActorRef, EventBus


# The wiring is the same on either backend.
@pytest.mark.backends("sqlite")
def test_the_analytics_doorbell_rings_more_often_than_the_webhooks_one(
    app: Starlette, monkeypatch: pytest.MonkeyPatch
) -> None:
    debounces: dict[str, float] = {}

    def noting(
        tasks: TaskGroup,
        ref: ActorRef[CatchUp],
        bus: EventBus,
        interval: float = 1.0,
        debounce: float = 0.05,
    ) -> None:
        debounces[ref.name] = debounce
        start_doorbell(tasks, ref, bus, interval, debounce)

    for module in (scanlet.assembly.analytics, scanlet.assembly.integrations):
        monkeypatch.setattr(module, "start_doorbell", noting)
    with TestClient(app):
        # Each follower starts once its feature leads, right after the app's start.
        deadline = time.monotonic() + 10
        while len(debounces) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
    assert debounces == {"analytics": DOORBELL_DEBOUNCE, "webhooks-outbox": 0.05}
    assert DOORBELL_DEBOUNCE < 0.05
