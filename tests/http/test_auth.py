"""API keys guard /api/v1: 401 without a valid key, 403 when the scope is too small."""

from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.testclient import TestClient

from scanlet.actors.access.keys import Scope
from scanlet.http.endpoint import Endpoint, Reply

PROBLEM = "application/problem+json"


async def whoami(request: Request) -> Response:
    return JSONResponse({"key": request.state.principal.name})


@pytest.fixture
def app(app: Starlette) -> Starlette:
    # Two probe endpoints, registered the way every API route is, to test the guard alone.
    endpoints: list[Endpoint] = app.state.endpoints
    endpoints.append(
        Endpoint(
            "GET",
            "/api/v1/probe-read",
            whoami,
            "probe",
            "test",
            scope=Scope.READ,
            replies=[Reply(200, "ok")],
        )
    )
    endpoints.append(
        Endpoint(
            "GET",
            "/api/v1/probe-admin",
            whoami,
            "probe",
            "test",
            scope=Scope.ADMIN,
            replies=[Reply(200, "ok")],
        )
    )
    from scanlet.http.endpoint import build_routes

    app.router.routes.extend(build_routes(endpoints[-2:]))
    return app


def test_a_request_without_a_key_gets_401_problem(client: TestClient) -> None:
    response = client.get("/api/v1/probe-read")
    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.json()["status"] == 401


@pytest.mark.parametrize("header", ["Bearer", "Bearer nonsense", "Basic abc", "slk_x_y"])
def test_malformed_or_unknown_keys_get_401(client: TestClient, header: str) -> None:
    assert client.get("/api/v1/probe-read", headers={"Authorization": header}).status_code == 401


def test_a_valid_key_passes_and_a_small_scope_gets_403(
    client: TestClient, mint_key: Callable[[Scope], str]
) -> None:
    reader = mint_key(Scope.READ)
    ok = client.get("/api/v1/probe-read", headers={"Authorization": f"Bearer {reader}"})
    assert ok.status_code == 200
    assert ok.json() == {"key": "test-read"}
    denied = client.get("/api/v1/probe-admin", headers={"Authorization": f"Bearer {reader}"})
    assert denied.status_code == 403
    assert denied.headers["content-type"] == PROBLEM


def test_revocation_takes_effect_on_the_next_request(
    app: Starlette, client: TestClient, mint_key: Callable[[Scope], str]
) -> None:
    token = mint_key(Scope.ADMIN)
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/probe-admin", headers=headers).status_code == 200
    key_id = token.split("_")[1]
    store = app.state.services.keys
    client.portal.call(  # type: ignore[union-attr]
        partial(store.revoke, key_id, now=datetime.now(UTC))
    )
    assert client.get("/api/v1/probe-admin", headers=headers).status_code == 401
