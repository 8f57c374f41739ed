"""Dashboard helpers: sign a TestClient in with a key and read forms' CSRF tokens."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from starlette.testclient import TestClient

from scanlet.actors.access.keys import Scope
from tests.conftest import caught_up as follow_to_end

SignIn = Callable[[Scope], str]
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(html: str) -> str:
    """The CSRF token of the first form on a page."""
    found = _CSRF.search(html)
    assert found is not None, "no CSRF field on the page"
    return found.group(1)


def post_form(client: TestClient, path: str, page: str, **fields: str) -> Any:
    """Post ``fields`` to ``path`` with the CSRF token of the form on ``page``."""
    html = client.get(page).text
    return client.post(path, data={"csrf": csrf_of(html), **fields}, follow_redirects=False)


@pytest.fixture
def sign_in(client: TestClient, mint_key: Callable[[Scope], str]) -> SignIn:
    """Sign ``client`` in with a new key of the given scope; returns the key."""

    def run(scope: Scope = Scope.WRITE) -> str:
        client.cookies.clear()
        key = mint_key(scope)
        form = client.get("/dashboard/sign-in")
        answer = client.post(
            "/dashboard/sign-in",
            data={"csrf": csrf_of(form.text), "key": key, "next": "/dashboard/codes"},
            follow_redirects=False,
        )
        assert answer.status_code == 303, answer.text
        return key

    return run


def api_create(client: TestClient, key: str, **body: Any) -> Any:
    """Create a code through the API (the dashboard must show what the API made)."""
    answer = client.post("/api/v1/codes", json=body, headers={"Authorization": f"Bearer {key}"})
    assert answer.status_code == 201, answer.text
    return answer.json()


def api_code(client: TestClient, key: str, slug: str) -> dict[str, Any]:
    """The code ``slug`` as the API shows it (what the dashboard changed must show there)."""
    answer = client.get(f"/api/v1/codes/{slug}", headers={"Authorization": f"Bearer {key}"})
    assert answer.status_code == 200, answer.text
    code: dict[str, Any] = answer.json()
    return code


def caught_up(client: TestClient) -> None:
    """Wait until the analytics follower has applied every committed scan."""
    services = client.app.state.services  # type: ignore[attr-defined]
    ref = services.system.lookup("analytics")
    client.portal.call(follow_to_end, ref, services.storage)  # type: ignore[union-attr]
