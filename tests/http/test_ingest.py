"""Device ingest: per-event results, idempotent ids (also across restarts), partial rejection."""

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry
from starlette.applications import Starlette
from starlette.testclient import TestClient

from scanlet.actors.access.keys import Scope
from scanlet.assembly import create_app
from scanlet.config import load_settings


@pytest.fixture
def writer(client: TestClient, mint_key: Callable[[Scope], str]) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {mint_key(Scope.WRITE)}"}
    client.post("/api/v1/codes", json={"target": "https://e.com", "slug": "gate"}, headers=headers)
    return headers


def scan(**overrides: Any) -> dict[str, Any]:
    event = {
        "type": "scan",
        "id": str(uuid.uuid4()),
        "slug": "gate",
        "occurred_at": "2026-11-01T10:00:00Z",
        "device_id": "door-1",
    }
    event.update(overrides)
    return event


def test_a_batch_is_accepted_and_counted(client: TestClient, writer: dict[str, str]) -> None:
    events = [scan() for _ in range(5)]
    response = client.post("/api/v1/events", json={"events": events}, headers=writer)
    assert response.status_code == 200, response.text
    assert response.json() == {"results": [{"id": e["id"], "status": "accepted"} for e in events]}
    assert client.get("/api/v1/codes/gate", headers=writer).json()["scans"] == 5


def test_the_same_id_twice_is_a_duplicate_never_a_second_scan(
    client: TestClient, writer: dict[str, str]
) -> None:
    event = scan()
    first = client.post("/api/v1/events", json={"events": [event, event]}, headers=writer)
    assert [r["status"] for r in first.json()["results"]] == ["accepted", "duplicate"]
    again = client.post("/api/v1/events", json={"events": [event]}, headers=writer)
    assert again.json()["results"] == [{"id": event["id"], "status": "duplicate"}]
    assert client.get("/api/v1/codes/gate", headers=writer).json()["scans"] == 1


def test_bad_events_are_rejected_and_the_rest_goes_on(
    client: TestClient, writer: dict[str, str]
) -> None:
    future = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    good = scan()
    events = [
        scan(id="not-a-uuid"),
        scan(slug="never-existed"),
        scan(occurred_at=future),
        scan(type="click"),
        {"id": str(uuid.uuid4()), "slug": "gate"},
        "just a string",
        good,
    ]
    response = client.post("/api/v1/events", json={"events": events}, headers=writer)
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["status"] for r in results] == ["rejected"] * 6 + ["accepted"]
    assert all(r["error"] for r in results[:6])
    assert results[0]["id"] == "not-a-uuid"
    assert results[5]["id"] == ""
    assert results[6] == {"id": good["id"], "status": "accepted"}
    assert client.get("/api/v1/codes/gate", headers=writer).json()["scans"] == 1


def test_batches_over_1000_events_are_refused(client: TestClient, writer: dict[str, str]) -> None:
    response = client.post(
        "/api/v1/events", json={"events": [scan() for _ in range(1001)]}, headers=writer
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "events"]


def test_ingest_needs_a_write_key(client: TestClient, mint_key: Callable[[Scope], str]) -> None:
    reader = {"Authorization": f"Bearer {mint_key(Scope.READ)}"}
    assert client.post("/api/v1/events", json={"events": []}, headers=reader).status_code == 403
    assert client.post("/api/v1/events", json={"events": []}).status_code == 401


def test_dedupe_survives_a_restart(tmp_path: Path) -> None:
    settings = load_settings({"SCANLET_DB": str(tmp_path / "r.db")}, isatty=False)
    event = scan()

    def run_once() -> list[str]:
        app = create_app(settings, registry=CollectorRegistry())
        with TestClient(app) as client:
            token = client.portal.call(_mint, app)  # type: ignore[union-attr]
            headers = {"Authorization": f"Bearer {token}"}
            client.post(
                "/api/v1/codes", json={"target": "https://e.com", "slug": "gate"}, headers=headers
            )
            response = client.post("/api/v1/events", json={"events": [event]}, headers=headers)
            return [r["status"] for r in response.json()["results"]]

    assert run_once() == ["accepted"]
    assert run_once() == ["duplicate"]


async def _mint(app: Starlette) -> str:
    created = await app.state.services.keys.create("t", Scope.WRITE, now=datetime.now(UTC))
    return str(created.token)
