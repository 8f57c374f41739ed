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
from tests.conftest import caught_up
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
        ("GET", "/api/v1/codes/{slug}/history"),
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
        ("GET", "/api/v1/users"),
        ("POST", "/api/v1/users"),
        ("PATCH", "/api/v1/users/anyone"),
        ("DELETE", "/api/v1/users/anyone"),
    ],
)
def test_users_are_refused_to_a_limited_key(
    client: TestClient, keys: Keys, method: str, path: str
) -> None:
    bodies = {
        "POST": {"email": "unlimited@example.com", "role": "admin"},
        "PATCH": {"role": "viewer"},
    }
    body = bodies.get(method)
    # An admin limited to tags: the role would do, the limit does not.
    answer = client.request(method, path, json=body, headers=bearer(keys.agency_admin))
    assert answer.status_code == 403, answer.text
    assert "limited to tags" in answer.json()["detail"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/domains"),
        ("POST", "/api/v1/domains"),
        ("GET", "/api/v1/domains/links.example"),
        ("PATCH", "/api/v1/domains/links.example"),
        ("DELETE", "/api/v1/domains/links.example"),
    ],
)
def test_domains_are_refused_to_a_limited_key(
    client: TestClient, keys: Keys, method: str, path: str
) -> None:
    bodies = {"POST": {"host": "links.example"}, "PATCH": {"root_url": "https://example.com/"}}
    # A domain spans every code (its counts, its not-found page): an admin limited to tags
    # manages none, as with users.
    answer = client.request(
        method, path, json=bodies.get(method), headers=bearer(keys.agency_admin)
    )
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
    # Own scans or not, the figures of every code are only the agency's codes'.
    every = client.get("/api/v1/stats?include_excluded=true", headers=bearer(keys.agency_admin))
    assert every.status_code == 200
    assert every.json()["top_codes"] == []
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
    # Asking for another tag by name finds nothing of it either.
    for path in ("/api/v1/codes?tag=agency-y", "/api/v1/codes?q=theirs"):
        assert client.get(path, headers=bearer(keys.agency)).json()["items"] == []
    by_tag = client.get("/api/v1/codes?format=csv&tag=agency-y", headers=bearer(keys.agency))
    assert "theirs" not in by_tag.text
    other = client.get("/api/v1/qr-archive?format=png&tag=agency-y", headers=bearer(keys.agency))
    assert other.status_code == 200, other.text
    assert zipfile.ZipFile(io.BytesIO(other.content)).namelist() == ["index.csv"]
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


def _analytics_caught_up(app: Starlette, client: TestClient) -> None:
    ref = app.state.services.system.lookup("analytics")
    client.portal.call(caught_up, ref, app.state.services.storage)  # type: ignore[union-attr]


def _device_scans(client: TestClient, token: str, slug: str, count: int) -> None:
    events = [
        {"type": "scan", "id": str(uuid.uuid4()), "slug": slug, "occurred_at": SOME_TIME}
        for _ in range(count)
    ]
    answer = client.post("/api/v1/events", json={"events": events}, headers=bearer(token))
    assert {r["status"] for r in answer.json()["results"]} == {"accepted"}


def test_the_stats_of_every_code_are_summed_over_the_limited_keys_codes(
    app: Starlette, client: TestClient, keys: Keys
) -> None:
    for slug, count in [("ours", 2), ("theirs", 3), ("bare", 4)]:
        _device_scans(client, keys.owner, slug, count)
    _analytics_caught_up(app, client)
    window = {"from": "2025-12-31T00:00:00Z", "to": "2026-01-02T00:00:00Z"}
    every = client.get("/api/v1/stats", params=window, headers=bearer(keys.owner)).json()
    assert every["total"] == 9
    assert {c["slug"] for c in every["top_codes"]} == {"ours", "theirs", "bare"}
    for token in (keys.agency, keys.agency_admin):
        mine = client.get("/api/v1/stats", params=window, headers=bearer(token))
        assert mine.status_code == 200, mine.text
        figures = mine.json()
        assert figures["total"] == 2
        assert sum(bucket["scans"] for bucket in figures["series"]) == 2
        assert figures["by_source"] == {"device": 2}
        assert [(c["slug"], c["scans"]) for c in figures["top_codes"]] == [("ours", 2)]
    # A deleted code of theirs still counts, by the tags it had.
    assert client.delete("/api/v1/codes/ours", headers=bearer(keys.agency)).status_code == 204
    after = client.get("/api/v1/stats", params=window, headers=bearer(keys.agency)).json()
    assert after["total"] == 2


def test_a_key_limited_to_tags_no_code_has_sees_no_figures(
    app: Starlette, client: TestClient, keys: Keys
) -> None:
    _device_scans(client, keys.owner, "theirs", 1)
    _analytics_caught_up(app, client)
    owner = make_user(app, client, "nobody@example.com", Role.VIEWER, tags=["no-such-tag"])
    token = user_key(app, client, owner, Scope.READ)
    window = {"from": "2025-12-31T00:00:00Z", "to": "2026-01-02T00:00:00Z"}
    figures = client.get("/api/v1/stats", params=window, headers=bearer(token)).json()
    assert (figures["total"], figures["top_codes"], figures["by_source"]) == (0, [], {})


def test_orphan_scans_are_of_no_code_so_a_limited_key_gets_none(
    app: Starlette, client: TestClient, keys: Keys
) -> None:
    assert client.get("/never-was", follow_redirects=False).status_code == 404
    _analytics_caught_up(app, client)
    every = client.get("/api/v1/orphan-scans", headers=bearer(keys.owner)).json()
    assert [scan["slug"] for scan in every["items"]] == ["never-was"]
    mine = client.get("/api/v1/orphan-scans", headers=bearer(keys.agency))
    assert mine.status_code == 200
    assert mine.json() == {"items": [], "next_cursor": None}
    as_csv = client.get("/api/v1/orphan-scans?format=csv", headers=bearer(keys.agency))
    assert as_csv.status_code == 200
    assert len(as_csv.text.splitlines()) == 1  # the header only
    # Its parameters are still checked.
    bad = client.get("/api/v1/orphan-scans?limit=0", headers=bearer(keys.agency))
    assert bad.status_code == 422


#: How a tag limit applies to each API route that names no code, each tested in this module
#: or beside the route: a new route must say how here before this test passes.
NO_CODE_ROUTES = {
    "GET /api/v1/codes": "listed within the limit",
    "POST /api/v1/codes": "created within the limit (422 otherwise)",
    "POST /api/v1/codes/batch": "each item within the limit (422 per item otherwise)",
    "GET /api/v1/qr-archive": "the limit's codes only",
    "POST /api/v1/events": "scans of the limit's codes only (rejected as unknown otherwise)",
    "GET /api/v1/stats": "summed over the limit's codes",
    "GET /api/v1/orphan-scans": "none: they are of no code",
    "GET /api/v1/stream": "the events of the limit's codes only",
    "POST /api/v1/webhooks": "an endpoint carrying the limit",
    "GET /api/v1/webhooks": "the principal's own endpoints",
    "GET /api/v1/webhooks/{id}": "the principal's own endpoints (404 otherwise)",
    "DELETE /api/v1/webhooks/{id}": "the principal's own endpoints (404 otherwise)",
    "GET /api/v1/webhooks/{id}/deliveries": "the principal's own endpoints (404 otherwise)",
    "GET /api/v1/users": "refused (403)",
    "POST /api/v1/users": "refused (403)",
    "PATCH /api/v1/users/{id}": "refused (403)",
    "DELETE /api/v1/users/{id}": "refused (403)",
    "POST /api/v1/domains": "refused (403)",
    "GET /api/v1/domains": "refused (403)",
    "GET /api/v1/domains/{host}": "refused (403)",
    "PATCH /api/v1/domains/{host}": "refused (403)",
    "DELETE /api/v1/domains/{host}": "refused (403)",
}


def test_every_api_route_that_names_no_code_says_how_a_tag_limit_applies(
    client: TestClient,
) -> None:
    """Routes with ``{slug}`` answer 404 outside the limit (``endpoint._wrap``); any other
    API route must be one of ``NO_CODE_ROUTES``."""
    document = client.get("/openapi.json").json()
    routes = {
        f"{method.upper()} {path}"
        for path, operations in document["paths"].items()
        if path.startswith("/api/") and "{slug}" not in path
        for method in operations
        if method in ("get", "post", "put", "patch", "delete")
    }
    assert routes - NO_CODE_ROUTES.keys() == set(), "say how a tag limit applies to these"


def test_the_dashboard_overview_shows_a_limited_user_the_figures_of_their_codes(
    app: Starlette, client: TestClient, keys: Keys
) -> None:
    for path in ("/ours", "/theirs", "/theirs", "/bare", "/never-was"):
        client.get(path, follow_redirects=False)
    _analytics_caught_up(app, client)
    _sign_in_the_agency(client)
    page = client.get("/dashboard")
    assert page.status_code == 200
    html = page.text
    assert '<dd data-testid="live-codes">1</dd>' in html
    assert '<dd data-testid="total-scans">1</dd>' in html
    assert 'href="/dashboard/codes/ours"' in html
    for other in ("theirs", "bare", "never-was"):
        assert other not in html, other
