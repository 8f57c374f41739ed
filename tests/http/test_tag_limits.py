"""A key or user limited to tags sees and makes only codes with one of them, everywhere:
lists, single codes, images, stats, scans, streams, webhooks and the dashboard."""

from __future__ import annotations

import io
import uuid
import zipfile
from dataclasses import dataclass

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from scanlet.actors.access.keys import Scope
from scanlet.actors.access.roles import Role
from scanlet.actors.events import decode_event
from tests.dbquery import query
from tests.http.accounts import PASSWORD, bearer, make_user, user_key
from tests.http.dashboard.conftest import csrf_of, post_form

SOME_TIME = "2026-01-01T00:00:00Z"


@dataclass
class Keys:
    owner: str
    agency: str
    agency_admin: str


@pytest.fixture
def keys(app: Starlette, client: TestClient) -> Keys:
    owner = make_user(app, client, "own@example.com", Role.OWNER)
    agency = make_user(app, client, "ag@example.com", Role.EDITOR, tags=["agency-x"])
    boss = make_user(app, client, "boss@example.com", Role.ADMIN, tags=["agency-x"])
    keys = Keys(
        user_key(app, client, owner, Scope.ADMIN),
        user_key(app, client, agency, Scope.WRITE),
        user_key(app, client, boss, Scope.ADMIN),
    )
    for slug, tags in [("ours", ["agency-x", "print"]), ("theirs", ["agency-y"]), ("bare", [])]:
        made = client.post(
            "/api/v1/codes",
            json={"target": "https://example.com/", "slug": slug, "tags": tags},
            headers=bearer(keys.owner),
        )
        assert made.status_code == 201
    return keys


def _sign_in_the_agency(client: TestClient) -> None:
    """Sign the agency's user (limited to ``agency-x``) in to the dashboard."""
    form = client.get("/dashboard/sign-in")
    signed = client.post(
        "/dashboard/sign-in",
        data={"csrf": csrf_of(form.text), "email": "ag@example.com", "password": PASSWORD},
        follow_redirects=False,
    )
    assert signed.status_code == 303


def test_lists_show_only_the_codes_within_the_limit(client: TestClient, keys: Keys) -> None:
    listed = client.get("/api/v1/codes", headers=bearer(keys.agency)).json()
    assert [code["slug"] for code in listed["items"]] == ["ours"]
    everything = client.get("/api/v1/codes", headers=bearer(keys.owner)).json()
    assert {code["slug"] for code in everything["items"]} == {"ours", "theirs", "bare"}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/codes/{slug}"),
        ("PATCH", "/api/v1/codes/{slug}"),
        ("DELETE", "/api/v1/codes/{slug}"),
        ("GET", "/api/v1/codes/{slug}/qr"),
        ("GET", "/api/v1/codes/{slug}/stats"),
        ("GET", "/api/v1/codes/{slug}/scans"),
        ("GET", "/api/v1/codes/{slug}/scans?format=csv"),
    ],
)
def test_a_code_outside_the_limit_is_as_absent_as_an_unknown_one(
    client: TestClient, keys: Keys, method: str, path: str
) -> None:
    body = {"title": "mine now"} if method == "PATCH" else None
    for slug in ("theirs", "bare", "never-was"):
        answer = client.request(
            method, path.format(slug=slug), json=body, headers=bearer(keys.agency)
        )
        assert answer.status_code == 404, (slug, answer.text)
        assert answer.json()["detail"] == f"There is no code with slug {slug!r}."
    inside = client.request(
        method, path.format(slug="ours"), json=body, headers=bearer(keys.agency)
    )
    assert inside.status_code in (200, 204)
    assert client.get("/api/v1/codes/theirs", headers=bearer(keys.owner)).json()["title"] is None


def test_a_limited_key_creates_and_retags_codes_only_within_its_tags(
    client: TestClient, keys: Keys
) -> None:
    for tags in ([], ["agency-y"], ["  "]):
        refused = client.post(
            "/api/v1/codes",
            json={"target": "https://example.com/", "tags": tags},
            headers=bearer(keys.agency),
        )
        assert refused.status_code == 422, refused.text
        assert refused.json()["errors"][0]["loc"] == ["body", "tags"]
    made = client.post(
        "/api/v1/codes",
        json={"target": "https://example.com/", "slug": "new", "tags": ["agency-x"]},
        headers=bearer(keys.agency),
    )
    assert made.status_code == 201
    moved = client.patch(
        "/api/v1/codes/new", json={"tags": ["agency-y"]}, headers=bearer(keys.agency)
    )
    assert moved.status_code == 422
    assert client.get("/api/v1/codes/new", headers=bearer(keys.agency)).json()["tags"] == [
        "agency-x"
    ]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/stats"),
        ("GET", "/api/v1/orphan-scans"),
        ("GET", "/api/v1/webhooks"),
        ("POST", "/api/v1/webhooks"),
        ("GET", "/api/v1/users"),
        ("POST", "/api/v1/users"),
    ],
)
def test_routes_that_span_every_code_are_refused_to_a_limited_key(
    client: TestClient, keys: Keys, method: str, path: str
) -> None:
    bodies = {
        "/api/v1/webhooks": {"url": "https://example.com/h", "events": ["*"]},
        "/api/v1/users": {"email": "unlimited@example.com", "role": "admin"},
    }
    body = bodies[path] if method == "POST" else None
    # An admin limited to tags: the role would do, the limit does not.
    answer = client.request(method, path, json=body, headers=bearer(keys.agency_admin))
    assert answer.status_code == 403, answer.text
    assert "limited to tags" in answer.json()["detail"]


def test_routing_changes_keep_to_the_limit_on_the_api_and_the_dashboard(
    client: TestClient, keys: Keys
) -> None:
    routing = {
        "fallback_url": "https://example.com/over",
        "rules": [{"when": {"device": "mobile"}, "target": "https://example.com/m"}],
        "password": "open sesame",
    }
    for slug in ("theirs", "bare"):
        answer = client.patch(f"/api/v1/codes/{slug}", json=routing, headers=bearer(keys.agency))
        assert answer.status_code == 404, answer.text
    inside = client.patch("/api/v1/codes/ours", json=routing, headers=bearer(keys.agency))
    assert inside.status_code == 200, inside.text
    assert inside.json()["has_password"] is True
    # Own scans or not, the figures of every code are still every code's.
    every = client.get("/api/v1/stats?include_excluded=true", headers=bearer(keys.agency_admin))
    assert every.status_code == 403
    _sign_in_the_agency(client)
    edited = post_form(
        client,
        "/dashboard/codes/theirs/edit",
        "/dashboard/codes/ours/edit",
        target="https://example.com/",
        fallback_url="https://example.com/over",
        **{"rule-0-target": "https://example.com/ios", "rule-0-os": "ios"},
    )
    assert edited.status_code == 404
    theirs = client.get("/api/v1/codes/theirs", headers=bearer(keys.owner)).json()
    assert (theirs["fallback_url"], theirs["rules"], theirs["has_password"]) == (None, [], False)


def test_a_limited_key_may_not_follow_another_codes_stream(client: TestClient, keys: Keys) -> None:
    answer = client.get("/api/v1/stream?slug=theirs", headers=bearer(keys.agency))
    assert answer.status_code == 404


def test_the_dashboard_shows_a_limited_user_only_their_codes(
    client: TestClient, keys: Keys
) -> None:
    _sign_in_the_agency(client)
    listing = client.get("/dashboard/codes")
    assert "/dashboard/codes/ours" in listing.text
    assert "/dashboard/codes/theirs" not in listing.text
    assert "/dashboard/codes/bare" not in listing.text
    assert (
        client.get("/dashboard", follow_redirects=False).headers["location"] == "/dashboard/codes"
    )
    for path in (
        "/dashboard/codes/theirs",
        "/dashboard/codes/theirs/edit",
        "/dashboard/codes/theirs/qr",
    ):
        assert client.get(path).status_code == 404, path
    deleted = post_form(client, "/dashboard/codes/theirs/delete", "/dashboard/codes")
    assert deleted.status_code == 404
    refused = post_form(
        client,
        "/dashboard/new",
        "/dashboard/new",
        target="https://example.com/",
        slug="dash",
        tags="agency-y",
    )
    assert refused.status_code == 422
    assert "must include one of the tags" in refused.text
    made = post_form(
        client,
        "/dashboard/new",
        "/dashboard/new",
        target="https://example.com/",
        slug="dash",
        tags="agency-x",
    )
    assert made.status_code == 303
    assert client.get("/api/v1/codes/theirs", headers=bearer(keys.owner)).status_code == 200


def test_a_limited_key_ingests_scans_of_its_codes_only_and_they_record_it(
    app: Starlette, client: TestClient, keys: Keys
) -> None:
    events = [
        {
            "type": "scan",
            "id": str(uuid.uuid4()),
            "slug": slug,
            "occurred_at": "2026-01-01T00:00:00Z",
        }
        for slug in ("ours", "theirs", "never-was")
    ]
    answer = client.post("/api/v1/events", json={"events": events}, headers=bearer(keys.agency))
    assert answer.status_code == 200
    results = answer.json()["results"]
    assert [r["status"] for r in results] == ["accepted", "rejected", "rejected"]
    assert results[1]["error"] == "unknown slug 'theirs'"
    assert results[2]["error"] == "unknown slug 'never-was'"
    rows = query(
        app.state.services.settings, "SELECT payload FROM events WHERE type = 'scan.recorded'"
    )
    scans = [decode_event(bytes(row[0])) for row in rows]
    assert len(scans) == 1
    assert scans[0].by is not None
    assert scans[0].by.kind == "key"


def test_bulk_routes_keep_to_the_limit(client: TestClient, keys: Keys) -> None:
    """The CSV of codes, the QR archive and batches: the limited key's codes only."""
    csv_rows = client.get("/api/v1/codes?format=csv", headers=bearer(keys.agency)).text
    slugs = {line.split(",")[1] for line in csv_rows.splitlines()[1:]}
    assert "ours" in csv_rows
    assert not {"theirs", "bare"} & slugs
    archive = client.get("/api/v1/qr-archive?format=png", headers=bearer(keys.agency))
    assert archive.status_code == 200
    names = zipfile.ZipFile(io.BytesIO(archive.content)).namelist()
    assert sorted(names) == ["index.csv", "ours.png"]
    batch = client.post(
        "/api/v1/codes/batch",
        json={
            "codes": [
                {"target": "https://example.com/", "tags": ["agency-x"]},
                {"target": "https://example.com/", "tags": ["agency-y"]},
            ]
        },
        headers=bearer(keys.agency),
    )
    assert batch.status_code == 200
    statuses = [item["status"] for item in batch.json()["results"]]
    assert statuses == [201, 422]
