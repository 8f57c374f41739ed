"""Security headers on every kind of response; no secret and no full address in the logs."""

from collections.abc import Callable
from typing import Any

import pytest
from starlette.testclient import TestClient
from structlog.testing import capture_logs

from scanlet.storage.keys import Scope


@pytest.fixture
def writer(client: TestClient, mint_key: Callable[[Scope], str]) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {mint_key(Scope.WRITE)}"}
    response = client.post(
        "/api/v1/codes", json={"target": "https://example.com/", "slug": "menu"}, headers=headers
    )
    assert response.status_code == 201
    return headers


def assert_secure(response: Any) -> None:
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["x-frame-options"] == "DENY"


@pytest.mark.parametrize(
    ("method", "path", "headers", "status"),
    [
        ("GET", "/menu", {}, 302),  # the fast path
        ("GET", "/q/menu", {"traceparent": "00-" + "1" * 32 + "-" + "2" * 16 + "-01"}, 302),
        ("HEAD", "/menu", {}, 302),
        ("GET", "/nothing", {"accept": "text/html"}, 404),  # the HTML page
        ("GET", "/nothing", {}, 404),
        ("GET", "/api/v1/codes", {}, 401),
        ("GET", "/docs", {}, 200),
        ("GET", "/openapi.json", {}, 200),
        ("GET", "/metrics", {}, 200),
        ("GET", "/livez", {}, 200),
        ("DELETE", "/livez", {}, 405),
    ],
)
def test_every_kind_of_response_carries_the_security_headers(
    client: TestClient,
    writer: dict[str, str],
    method: str,
    path: str,
    headers: dict[str, str],
    status: int,
) -> None:
    response = client.request(method, path, headers=headers, follow_redirects=False)
    assert response.status_code == status
    assert_secure(response)


def test_authenticated_api_responses_carry_them_too(
    client: TestClient, writer: dict[str, str]
) -> None:
    assert_secure(client.get("/api/v1/codes/menu", headers=writer))
    assert_secure(client.get("/api/v1/codes/menu/qr?format=svg", headers=writer))


def test_api_keys_are_never_logged(
    client: TestClient, writer: dict[str, str], mint_key: Callable[[Scope], str]
) -> None:
    reader = mint_key(Scope.READ)
    secrets = [writer["Authorization"].removeprefix("Bearer "), reader, "slk_forged_0123456789"]
    with capture_logs() as logs:
        client.get("/api/v1/codes", headers=writer)
        client.post(
            "/api/v1/codes", json={"target": "x"}, headers={"Authorization": f"Bearer {reader}"}
        )
        client.get("/api/v1/codes", headers={"Authorization": f"Bearer {secrets[2]}"})
        client.get("/api/v1/codes", headers={"Authorization": f"Basic {secrets[2]}"})
        client.get("/menu", headers={"Authorization": f"Bearer {reader}"}, follow_redirects=False)
        client.get(f"/{secrets[2]}", headers={"Authorization": f"Bearer {reader}"})
    text = repr(logs)
    for secret in secrets[:2]:
        assert secret not in text
        assert secret[:16] not in text


def test_client_addresses_never_reach_the_logs_in_full(
    client: TestClient, writer: dict[str, str]
) -> None:
    address = "203.0.113.77"
    with capture_logs() as logs:
        for path in ("/menu", "/nothing-here", "/api/v1/codes"):
            client.get(path, headers={"x-forwarded-for": address}, follow_redirects=False)
    assert address not in repr(logs)
