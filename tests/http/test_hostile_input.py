"""Hostile input at the edge: times and numbers out of range, deep JSON, forged cursors.

Each of these once crashed an actor (and, repeated, the whole process) or answered 500. They
must be 4xx naming the field, however often they are sent, with the process still serving.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from scanlet.actors.access.keys import Scope
from tests.serving import still_serving

BEFORE_YEAR_ONE = "0001-01-01T00:30:00+01:00"
AFTER_YEAR_9999 = "9999-12-31T23:30:00-01:00"


@pytest.fixture
def writer(client: TestClient, mint_key: Callable[[Scope], str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_key(Scope.ADMIN)}"}


def field_of(response: Any) -> list[Any]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return [error["loc"] for error in response.json()["errors"]]


@pytest.mark.parametrize("moment", [BEFORE_YEAR_ONE, AFTER_YEAR_9999, "1969-12-31T23:59:59Z"])
def test_code_times_out_of_range_are_422_however_often_they_come(
    app: Starlette, client: TestClient, writer: dict[str, str], moment: str
) -> None:
    created = client.post(
        "/api/v1/codes", json={"target": "https://example.com/", "slug": "menu"}, headers=writer
    )
    assert created.status_code == 201
    for _ in range(8):
        body = {"target": "https://example.com/", "valid_until": moment}
        assert field_of(client.post("/api/v1/codes", json=body, headers=writer)) == [
            ["body", "valid_until"]
        ]
        patch = client.patch("/api/v1/codes/menu", json={"valid_from": moment}, headers=writer)
        assert field_of(patch) == [["body", "valid_from"]]
    still_serving(app, client)
    assert client.get("/menu", follow_redirects=False).status_code == 302


def test_numbers_past_what_storage_holds_are_422(
    app: Starlette, client: TestClient, writer: dict[str, str]
) -> None:
    for value in (10**30, 2**63, 0, -5):
        body = {"target": "https://example.com/", "max_scans": value}
        assert field_of(client.post("/api/v1/codes", json=body, headers=writer)) == [
            ["body", "max_scans"]
        ]
    still_serving(app, client)


def test_device_events_out_of_range_are_rejected_alone_and_the_rest_stored(
    app: Starlette, client: TestClient, writer: dict[str, str]
) -> None:
    created = client.post(
        "/api/v1/codes", json={"target": "https://example.com/", "slug": "menu"}, headers=writer
    )
    assert created.status_code == 201

    def event(moment: str, **extra: Any) -> dict[str, Any]:
        return {
            "type": "scan",
            "id": str(uuid.uuid4()),
            "slug": "menu",
            "occurred_at": moment,
            **extra,
        }

    deep: Any = "leaf"
    for _ in range(20):
        deep = {"d": deep}
    for _ in range(6):
        events = [
            event(BEFORE_YEAR_ONE),
            event("2026-11-30T10:00:00Z"),
            event(AFTER_YEAR_9999),
            event("2026-11-30T10:00:00Z", data={"big": "x" * 5000}),
            event("2026-11-30T10:00:00Z", data=deep),
            event("2026-11-30T10:00:00Z", device_id="d" * 500),
        ]
        response = client.post("/api/v1/events", json={"events": events}, headers=writer)
        assert response.status_code == 200, response.text
        statuses = [result["status"] for result in response.json()["results"]]
        assert statuses == ["rejected", "accepted", "rejected", "rejected", "rejected", "rejected"]
    still_serving(app, client)
    assert client.get("/api/v1/codes/menu", headers=writer).json()["scans"] == 6


def test_json_nested_far_too_deep_is_400_not_500(
    app: Starlette, client: TestClient, writer: dict[str, str]
) -> None:
    nested = b"[" * 100_000 + b"]" * 100_000
    # Where the schema expects a string, msgspec refuses the array before descending (422);
    # where it keeps raw JSON (device events), the depth itself is the error (400).
    for path, field, status in (
        ("/api/v1/codes", b"target", 422),
        ("/api/v1/events", b"events", 400),
        ("/api/v1/webhooks", b"url", 422),
    ):
        response = client.post(
            path,
            content=b'{"' + field + b'": ' + nested + b"}",
            headers={**writer, "content-type": "application/json"},
        )
        assert response.status_code == status, path
        assert response.headers["content-type"] == "application/problem+json"
    still_serving(app, client)


@pytest.mark.parametrize(
    "raw",
    [
        "9999-12-31T00:00:00Z|999999999999999999999999",
        "0001-01-01T00:30:00+01:00|5",
        "nonsense",
    ],
)
def test_forged_cursors_are_422_not_500(
    app: Starlette, client: TestClient, writer: dict[str, str], raw: str
) -> None:
    client.post(
        "/api/v1/codes", json={"target": "https://example.com/", "slug": "menu"}, headers=writer
    )
    cursor = base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")
    for path in ("/api/v1/codes/menu/scans", "/api/v1/orphan-scans", "/api/v1/codes"):
        response = client.get(path, params={"cursor": cursor}, headers=writer)
        assert field_of(response) == [["query", "cursor"]], path
    still_serving(app, client)


def test_cursors_with_a_negative_seq_are_422(client: TestClient, writer: dict[str, str]) -> None:
    cursor = base64.urlsafe_b64encode(b"2026-01-01T00:00:00Z|-1").decode().rstrip("=")
    for path in ("/api/v1/codes/menu/scans", "/api/v1/orphan-scans"):
        client.post(
            "/api/v1/codes", json={"target": "https://example.com/", "slug": "menu"}, headers=writer
        )
        response = client.get(path, params={"cursor": cursor}, headers=writer)
        assert response.status_code == 422, path


def test_the_cursor_from_the_review_is_422(client: TestClient, writer: dict[str, str]) -> None:
    client.post(
        "/api/v1/codes", json={"target": "https://example.com/", "slug": "menu"}, headers=writer
    )
    cursor = "OTk5OS0xMi0zMVQwMDowMDowMFp8OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5"
    response = client.get("/api/v1/codes/menu/scans", params={"cursor": cursor}, headers=writer)
    assert response.status_code == 422


@pytest.mark.parametrize("moment", [BEFORE_YEAR_ONE, AFTER_YEAR_9999])
def test_stats_times_out_of_range_are_422(
    client: TestClient, writer: dict[str, str], moment: str
) -> None:
    for name in ("from", "to"):
        response = client.get("/api/v1/stats", params={name: moment}, headers=writer)
        assert field_of(response) == [["query", name]]
