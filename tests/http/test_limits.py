"""Limits everywhere: URL and header size, body size, batch size, pagination, stats ranges, QR."""

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from scanlet.actors.access.keys import Scope
from scanlet.http.middleware import MAX_HEADER_BYTES, MAX_HEADERS, MAX_URL_BYTES


@pytest.fixture
def admin(client: TestClient, mint_key: Callable[[Scope], str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_key(Scope.ADMIN)}"}


@pytest.fixture
def menu(client: TestClient, admin: dict[str, str]) -> str:
    response = client.post(
        "/api/v1/codes", json={"target": "https://example.com/", "slug": "menu"}, headers=admin
    )
    assert response.status_code == 201
    return "menu"


def problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["x-content-type-options"] == "nosniff"
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    return body


@pytest.mark.parametrize("path", ["/api/v1/codes", "/menu", "/nothing-here"])
def test_a_url_over_the_limit_is_414_on_every_route(
    client: TestClient, admin: dict[str, str], menu: str, path: str
) -> None:
    response = client.get(f"{path}?pad={'x' * MAX_URL_BYTES}", headers=admin)
    assert problem(response, 414)["type"].endswith("/uri-too-long")


@pytest.mark.parametrize("path", ["/api/v1/codes", "/menu", "/livez"])
def test_too_many_headers_is_431(
    client: TestClient, admin: dict[str, str], menu: str, path: str
) -> None:
    headers = {**admin, **{f"x-pad-{i}": "1" for i in range(MAX_HEADERS)}}
    problem(client.get(path, headers=headers, follow_redirects=False), 431)


@pytest.mark.parametrize("path", ["/api/v1/codes", "/menu", "/q/menu"])
def test_headers_over_the_byte_limit_are_431_even_for_a_live_code(
    client: TestClient, admin: dict[str, str], menu: str, path: str
) -> None:
    headers = {**admin, "x-pad": "x" * MAX_HEADER_BYTES}
    problem(client.get(path, headers=headers, follow_redirects=False), 431)


def test_a_streamed_body_without_content_length_is_cut_off_at_the_limit(
    app: Starlette, client: TestClient, admin: dict[str, str]
) -> None:
    limit = app.state.services.settings.max_body_bytes

    def chunks() -> Iterator[bytes]:
        for _ in range(limit // 65536 + 2):
            yield b" " * 65536

    response = client.post(
        "/api/v1/codes",
        content=chunks(),
        headers={**admin, "content-type": "application/json"},
    )
    problem(response, 413)


def test_a_device_batch_over_1000_events_is_refused(
    client: TestClient, admin: dict[str, str]
) -> None:
    events = [{"type": "scan", "id": f"{i:032x}", "slug": "x"} for i in range(1001)]
    problem(client.post("/api/v1/events", json={"events": events}, headers=admin), 422)


def webhook(client: TestClient, admin: dict[str, str]) -> str:
    # A public address literal: the SSRF guard resolves nothing and lets it through.
    response = client.post(
        "/api/v1/webhooks",
        json={"url": "https://93.184.215.14/hook", "events": ["*"]},
        headers=admin,
    )
    assert response.status_code == 201, response.text
    hook_id: str = response.json()["id"]
    return hook_id


@pytest.mark.parametrize("limit", ["0", "1001", "-1", "ten"])
def test_every_list_route_bounds_its_page_size(
    client: TestClient, admin: dict[str, str], menu: str, limit: str
) -> None:
    hook = webhook(client, admin)
    routes = [
        "/api/v1/codes",
        f"/api/v1/codes/{menu}/scans",
        "/api/v1/orphan-scans",
        "/api/v1/webhooks",
        f"/api/v1/webhooks/{hook}/deliveries",
    ]
    for route in routes:
        body = problem(client.get(route, params={"limit": limit}, headers=admin), 422)
        assert body["errors"][0]["loc"] == ["query", "limit"], route
        assert client.get(route, params={"limit": "1000"}, headers=admin).status_code == 200


@pytest.mark.parametrize("path", ["/api/v1/codes/menu/stats", "/api/v1/stats"])
def test_a_stats_range_of_too_many_buckets_is_refused(
    client: TestClient, admin: dict[str, str], menu: str, path: str
) -> None:
    params = {"from": "2020-01-01T00:00:00Z", "to": "2026-01-01T00:00:00Z", "interval": "hour"}
    body = problem(client.get(path, params=params, headers=admin), 422)
    assert "bucket" in body["detail"]
    params["interval"] = "day"
    assert client.get(path, params=params, headers=admin).status_code == 200


@pytest.mark.parametrize("query", ["scale=51", "scale=0", "border=21"])
def test_qr_size_parameters_are_bounded(
    client: TestClient, admin: dict[str, str], menu: str, query: str
) -> None:
    problem(client.get(f"/api/v1/codes/{menu}/qr?{query}", headers=admin), 422)
