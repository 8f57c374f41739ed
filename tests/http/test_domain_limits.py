"""A key or user limited to domains sees and makes only codes on those domains, everywhere
a tag limit applies: lists, single codes, images, stats, scans, streams, bulk routes and
the dashboard (webhooks: ``test_domain_limited_webhooks``). The attack: a key limited to
``a.test`` asks for ``b.test``'s code of the same slug, and for the default domain's, and
gets nothing of them."""

from __future__ import annotations

import io
import uuid
import zipfile
from dataclasses import dataclass
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from scanlet.actors.access.keys import Scope
from scanlet.actors.access.roles import Role
from tests.conftest import caught_up
from tests.http.accounts import PASSWORD, bearer, make_user, user_key
from tests.http.dashboard.conftest import csrf_of, post_form

A, B, HOME = "a.test", "b.test", "qr.test"
SOME_TIME = "2026-01-01T00:00:00Z"
WINDOW = {"from": "2025-12-31T00:00:00Z", "to": "2026-01-02T00:00:00Z"}


@dataclass
class Keys:
    owner: str
    #: An editor's key limited to A.
    on_a: str
    #: An admin limited to A: the role would do for users and domains, the limit does not.
    admin_on_a: str
    #: A viewer limited to A and to the tag ``agency-x``: a code must be within both.
    tagged_on_a: str


def _code(client: TestClient, token: str, **body: Any) -> Any:
    made = client.post(
        "/api/v1/codes", json={"target": "https://example.com/", **body}, headers=bearer(token)
    )
    assert made.status_code == 201, made.text
    return made.json()


@pytest.fixture
def keys(app: Starlette, client: TestClient) -> Keys:
    owner = make_user(app, client, "own@example.com", Role.OWNER)
    owner_key = user_key(app, client, owner, Scope.ADMIN)
    for host in (A, B):
        registered = client.post("/api/v1/domains", json={"host": host}, headers=bearer(owner_key))
        assert registered.status_code == 201, registered.text
    _code(client, owner_key, slug="menu", domain=A, tags=["agency-x"])
    _code(client, owner_key, slug="plain", domain=A)
    _code(client, owner_key, slug="menu", domain=B, tags=["agency-x"])
    _code(client, owner_key, slug="home", tags=["agency-x"])
    editor = make_user(app, client, "ed@example.com", Role.EDITOR, domains=[A])
    admin = make_user(app, client, "boss@example.com", Role.ADMIN, domains=[A])
    viewer = make_user(app, client, "vi@example.com", Role.VIEWER, tags=["agency-x"])
    return Keys(
        owner_key,
        user_key(app, client, editor, Scope.WRITE),
        user_key(app, client, admin, Scope.ADMIN),
        user_key(app, client, viewer, Scope.READ, domains=[A]),
    )


def _keys_of(answer: Any) -> set[tuple[str, str]]:
    assert answer.status_code == 200, answer.text
    return {(code["domain"], code["slug"]) for code in answer.json()["items"]}


def test_lists_show_only_the_codes_on_the_keys_domains(client: TestClient, keys: Keys) -> None:
    everything = client.get("/api/v1/codes", headers=bearer(keys.owner))
    assert _keys_of(everything) == {(A, "menu"), (A, "plain"), (B, "menu"), (HOME, "home")}
    mine = client.get("/api/v1/codes", headers=bearer(keys.on_a))
    assert _keys_of(mine) == {(A, "menu"), (A, "plain")}
    # Asking for another domain by name finds nothing there.
    for domain in (B, HOME):
        other = client.get("/api/v1/codes", params={"domain": domain}, headers=bearer(keys.on_a))
        assert _keys_of(other) == set()
    # Both limits at once: on A and tagged agency-x.
    both = client.get("/api/v1/codes", headers=bearer(keys.tagged_on_a))
    assert _keys_of(both) == {(A, "menu")}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/codes/menu"),
        ("PATCH", "/api/v1/codes/menu"),
        ("DELETE", "/api/v1/codes/menu"),
        ("GET", "/api/v1/codes/menu/qr"),
        ("GET", "/api/v1/codes/menu/history"),
        ("GET", "/api/v1/codes/menu/stats"),
        ("GET", "/api/v1/codes/menu/scans"),
        ("GET", "/api/v1/codes/menu/scans?format=csv"),
    ],
)
def test_a_code_on_another_domain_is_as_absent_as_an_unknown_one(
    client: TestClient, keys: Keys, method: str, path: str
) -> None:
    body = {"title": "mine now"} if method == "PATCH" else None
    sep = "&" if "?" in path else "?"
    # B's code of the same slug, the default domain's code, and one that never was.
    for address, slug in [(f"{sep}domain={B}", "menu"), ("", "home"), (f"{sep}domain={A}", "nope")]:
        url = path.replace("menu", slug) + address
        answer = client.request(method, url, json=body, headers=bearer(keys.on_a))
        assert answer.status_code == 404, (url, answer.text)
        assert answer.json()["detail"].startswith("There is no code with slug")
    inside = client.request(method, f"{path}{sep}domain={A}", json=body, headers=bearer(keys.on_a))
    assert inside.status_code in (200, 204), inside.text
    theirs = client.get(f"/api/v1/codes/menu?domain={B}", headers=bearer(keys.owner)).json()
    assert theirs["title"] is None


def test_a_limited_key_creates_codes_only_on_its_domains(client: TestClient, keys: Keys) -> None:
    for body in ({}, {"domain": B}, {"domain": HOME}):
        refused = client.post(
            "/api/v1/codes",
            json={"target": "https://example.com/", "slug": "new", **body},
            headers=bearer(keys.on_a),
        )
        assert refused.status_code == 422, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["errors"][0]["loc"] == ["body", "domain"]
        assert "a.test" in refused.json()["detail"]
    unknown = client.post(
        "/api/v1/codes",
        json={"target": "https://example.com/", "domain": "nowhere.test"},
        headers=bearer(keys.on_a),
    )
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["loc"] == ["body", "domain"]
    made = _code(client, keys.on_a, slug="new", domain=A)
    assert made["domain"] == A
    # Nothing was made elsewhere.
    assert client.get("/api/v1/codes/new", headers=bearer(keys.owner)).status_code == 404
    batch = client.post(
        "/api/v1/codes/batch",
        json={
            "codes": [
                {"target": "https://example.com/", "domain": A},
                {"target": "https://example.com/", "domain": B},
                {"target": "https://example.com/"},
            ]
        },
        headers=bearer(keys.on_a),
    )
    assert batch.status_code == 200
    results = batch.json()["results"]
    assert [item["status"] for item in results] == [201, 422, 422]
    assert results[1]["problem"]["errors"][0]["loc"] == ["body", "codes", 1, "domain"]


def test_a_key_allowed_the_default_domain_makes_codes_there_without_naming_it(
    app: Starlette, client: TestClient, keys: Keys
) -> None:
    user = make_user(app, client, "home@example.com", Role.EDITOR, domains=[HOME, A])
    token = user_key(app, client, user, Scope.WRITE)
    assert _code(client, token, slug="fresh")["domain"] == HOME
    assert _keys_of(client.get("/api/v1/codes", headers=bearer(token))) == {
        (HOME, "home"),
        (HOME, "fresh"),
        (A, "menu"),
        (A, "plain"),
    }


def test_bulk_routes_keep_to_the_domains(client: TestClient, keys: Keys) -> None:
    rows = client.get("/api/v1/codes?format=csv", headers=bearer(keys.on_a)).text.splitlines()
    assert sorted(row.split(",")[0] for row in rows[1:]) == [f"{A}/menu", f"{A}/plain"]
    archive = client.get("/api/v1/qr-archive?format=png", headers=bearer(keys.on_a))
    assert archive.status_code == 200
    names = zipfile.ZipFile(io.BytesIO(archive.content)).namelist()
    assert sorted(names) == [f"{A}/menu.png", f"{A}/plain.png", "index.csv"]


def _device_scans(client: TestClient, token: str, slug: str, count: int) -> list[str]:
    events = [
        {"type": "scan", "id": str(uuid.uuid4()), "slug": slug, "occurred_at": SOME_TIME}
        for _ in range(count)
    ]
    answer = client.post("/api/v1/events", json={"events": events}, headers=bearer(token))
    assert answer.status_code == 200, answer.text
    return [result["status"] for result in answer.json()["results"]]


def _analytics_caught_up(app: Starlette, client: TestClient) -> None:
    ref = app.state.services.system.lookup("analytics")
    client.portal.call(caught_up, ref, app.state.services.storage)  # type: ignore[union-attr]


def test_scans_stats_and_orphans_are_of_the_keys_domains_only(
    app: Starlette, client: TestClient, keys: Keys
) -> None:
    # Scans through the short links of each code, and one of a slug nobody has.
    for host, path in [(A, "/menu"), (A, "/menu"), (B, "/menu"), (HOME, "/home"), (A, "/x")]:
        client.get(path, headers={"host": host}, follow_redirects=False)
    # A device may report scans only of the key's codes: the default domain's is unknown.
    assert _device_scans(client, keys.on_a, "home", 1) == ["rejected"]
    assert _device_scans(client, keys.owner, "home", 1) == ["accepted"]
    _analytics_caught_up(app, client)
    every = client.get("/api/v1/stats", params=WINDOW, headers=bearer(keys.owner)).json()
    assert every["total"] == 1  # the device scan; the links' scans are of today
    mine = client.get("/api/v1/stats", headers=bearer(keys.on_a))
    assert mine.status_code == 200, mine.text
    assert mine.json()["total"] == 2
    assert [(c["slug"], c["scans"]) for c in mine.json()["top_codes"]] == [(f"{A}/menu", 2)]
    orphans = client.get("/api/v1/orphan-scans", headers=bearer(keys.on_a))
    assert orphans.json() == {"items": [], "next_cursor": None}
    assert client.get("/api/v1/orphan-scans", headers=bearer(keys.owner)).json()["items"]


def test_the_stream_of_another_domains_code_is_refused(client: TestClient, keys: Keys) -> None:
    for slug in (f"{B}/menu", "home"):
        answer = client.get("/api/v1/stream", params={"slug": slug}, headers=bearer(keys.on_a))
        assert answer.status_code == 404, answer.text


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/api/v1/users", None),
        ("POST", "/api/v1/users", {"email": "x@example.com", "role": "viewer"}),
        ("PATCH", "/api/v1/users/anyone", {"role": "viewer"}),
        ("DELETE", "/api/v1/users/anyone", None),
        ("GET", "/api/v1/domains", None),
        ("POST", "/api/v1/domains", {"host": "c.test"}),
        ("GET", f"/api/v1/domains/{A}", None),
        ("PATCH", f"/api/v1/domains/{A}", {"root_url": "https://example.com/"}),
        ("DELETE", f"/api/v1/domains/{B}", None),
    ],
)
def test_users_and_domains_are_refused_to_an_admin_limited_to_domains(
    client: TestClient, keys: Keys, method: str, path: str, body: Any
) -> None:
    answer = client.request(method, path, json=body, headers=bearer(keys.admin_on_a))
    assert answer.status_code == 403, answer.text
    assert "limited to domains" in answer.json()["detail"]


def test_the_users_api_sets_and_shows_a_domain_limit(client: TestClient, keys: Keys) -> None:
    made = client.post(
        "/api/v1/users",
        json={"email": "new@example.com", "role": "viewer", "domains": ["A.Test.", HOME]},
        headers=bearer(keys.owner),
    )
    assert made.status_code == 201, made.text
    assert made.json()["domains"] == [A, HOME]
    changed = client.patch(
        f"/api/v1/users/{made.json()['id']}", json={"domains": [B]}, headers=bearer(keys.owner)
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["domains"] == [B]
    listed = client.get("/api/v1/users", headers=bearer(keys.owner)).json()["items"]
    assert [u["domains"] for u in listed if u["email"] == "new@example.com"] == [[B]]


@pytest.mark.parametrize(
    "domains",
    [["nowhere.test"], ["http://a.test/"], ["a.test:8080"], ["10.0.0.1"], [""], ["x" * 300]],
)
def test_a_domain_limit_must_name_registered_hosts(
    client: TestClient, keys: Keys, domains: list[str]
) -> None:
    for method, path in [("POST", "/api/v1/users"), ("PATCH", "/api/v1/users/{id}")]:
        target = client.post(
            "/api/v1/users",
            json={"email": f"{uuid.uuid4().hex}@example.com", "role": "viewer"},
            headers=bearer(keys.owner),
        ).json()["id"]
        body = {"email": f"{uuid.uuid4().hex}@example.com", "role": "viewer", "domains": domains}
        if method == "PATCH":
            body = {"domains": domains}
        answer = client.request(
            method, path.format(id=target), json=body, headers=bearer(keys.owner)
        )
        assert answer.status_code == 422, answer.text
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["errors"][0]["loc"][:2] == ["body", "domains"]


def _sign_in(client: TestClient, email: str) -> None:
    form = client.get("/dashboard/sign-in")
    signed = client.post(
        "/dashboard/sign-in",
        data={"csrf": csrf_of(form.text), "email": email, "password": PASSWORD},
        follow_redirects=False,
    )
    assert signed.status_code == 303


def test_the_dashboard_offers_a_limited_user_only_their_domains(
    client: TestClient, keys: Keys
) -> None:
    _sign_in(client, "ed@example.com")
    listing = client.get("/dashboard/codes")
    assert listing.status_code == 200
    assert f"/dashboard/codes/menu?domain={A}" in listing.text
    assert f"?domain={B}" not in listing.text
    assert "/dashboard/codes/home" not in listing.text
    for page in (listing.text, client.get("/dashboard/new").text):
        assert f'<option value="{A}"' in page
        assert f'<option value="{B}"' not in page
        assert f'<option value="{HOME}"' not in page
    assert client.get(f"/dashboard/codes/menu?domain={B}").status_code == 404
    refused = post_form(
        client, "/dashboard/new", "/dashboard/new", target="https://example.com/", domain=B
    )
    assert refused.status_code == 422
    assert "must be one of the domains" in refused.text
    made = post_form(
        client, "/dashboard/new", "/dashboard/new", target="https://example.com/", domain=A
    )
    assert made.status_code == 303
    # The domains page is an admin's, and no limited principal's.
    assert client.get("/dashboard/domains").status_code == 403
