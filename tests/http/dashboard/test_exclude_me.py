"""``/dashboard/exclude-me``: a signed-in form sets and clears this browser's cookie."""

from __future__ import annotations

from collections.abc import Callable

from starlette.testclient import TestClient

from scanlet.actors.access.keys import Scope
from tests.http.dashboard.conftest import SignIn, api_create, caught_up, post_form


def test_exclude_me_sets_a_long_lived_lax_cookie_and_clears_it(
    client: TestClient, sign_in: SignIn, mint_key: Callable[[Scope], str]
) -> None:
    key = sign_in(Scope.READ)
    page = client.get("/dashboard/exclude-me")
    assert page.status_code == 200
    assert "count like anybody" in page.text
    answer = post_form(client, "/dashboard/exclude-me", "/dashboard/exclude-me", exclude="1")
    assert answer.status_code == 303
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith("scanlet_exclude=1;")
    assert "Max-Age=34560000" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "are excluded" in client.get("/dashboard/exclude-me").text
    api_create(client, mint_key(Scope.WRITE), target="https://example.com/", slug="own")
    assert client.get("/own", follow_redirects=False).status_code == 302
    caught_up(client)
    headers = {"Authorization": f"Bearer {key}"}
    [scan] = client.get("/api/v1/codes/own/scans", headers=headers).json()["items"]
    assert scan["excluded"] is True
    cleared = post_form(client, "/dashboard/exclude-me", "/dashboard/exclude-me", exclude="0")
    assert 'scanlet_exclude=""' in cleared.headers["set-cookie"]
    assert "count like anybody" in client.get("/dashboard/exclude-me").text


def test_exclude_me_needs_a_session_and_the_forms_token(
    client: TestClient, sign_in: SignIn
) -> None:
    assert client.get("/dashboard/exclude-me", follow_redirects=False).status_code == 303
    signed_out = client.post("/dashboard/exclude-me", data={"exclude": "1"}, follow_redirects=False)
    assert signed_out.status_code == 303
    assert "scanlet_exclude" not in signed_out.headers.get("set-cookie", "")
    sign_in(Scope.READ)
    forged = client.post(
        "/dashboard/exclude-me", data={"exclude": "1", "csrf": "x"}, follow_redirects=False
    )
    assert forged.status_code == 403
    assert "scanlet_exclude" not in forged.headers.get("set-cookie", "")
