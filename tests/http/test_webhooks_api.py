"""The webhooks resource: create (secret once), list, get, delete, deliveries; 4xx for bad input."""

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from scanlet.actors.access.keys import Scope
from tests.actors.webhooks.harness import ScriptedSender, Served, serve, wait_until

PROBLEM = "application/problem+json"


@pytest.fixture
def app(scanlet_db: str, tmp_path: Path) -> Iterator[Served]:
    with serve(scanlet_db, tmp_path, ScriptedSender()) as served:
        yield served


def test_creating_an_endpoint_shows_its_secret_once(app: Served) -> None:
    response = app.client.post(
        "/api/v1/webhooks",
        json={"url": "https://hooks.example/in", "events": ["scan.recorded", "scan.recorded"]},
        headers=app.headers,
    )
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["secret"].startswith("whsec_")
    assert created["events"] == ["scan.recorded"]
    assert created["enabled"] is True
    assert response.headers["location"] == f"/api/v1/webhooks/{created['id']}"
    shown = app.webhook(created["id"])
    assert "secret" not in shown
    assert shown == {k: v for k, v in created.items() if k != "secret"}
    listed = app.client.get("/api/v1/webhooks", headers=app.headers).json()
    assert listed == {"items": [shown], "next_cursor": None}


def test_the_list_is_paginated(app: Served) -> None:
    ids = [app.create_webhook(["*"])["id"] for _ in range(3)]
    first = app.client.get("/api/v1/webhooks?limit=2", headers=app.headers).json()
    assert [w["id"] for w in first["items"]] == ids[:2]
    rest = app.client.get(
        f"/api/v1/webhooks?limit=2&cursor={first['next_cursor']}", headers=app.headers
    ).json()
    assert [w["id"] for w in rest["items"]] == ids[2:]
    assert rest["next_cursor"] is None
    bad = app.client.get("/api/v1/webhooks?cursor=nope", headers=app.headers)
    assert bad.status_code == 422


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"url": "http://127.0.0.1/hook", "events": ["*"]}, ["body", "url"]),
        ({"url": "http://169.254.169.254/", "events": ["*"]}, ["body", "url"]),
        ({"url": "http://[::ffff:10.0.0.1]/", "events": ["*"]}, ["body", "url"]),
        ({"url": "http://0x7f000001/", "events": ["*"]}, ["body", "url"]),
        ({"url": "ftp://hooks.example/", "events": ["*"]}, ["body", "url"]),
        ({"url": "https://nowhere.invalid/", "events": ["*"]}, ["body", "url"]),
        ({"url": "https://hooks.example/", "events": ["scan.teleported"]}, ["body", "events"]),
        ({"url": "https://hooks.example/", "events": []}, ["body", "events"]),
        ({"url": "https://hooks.example/"}, ["body"]),
        ({"url": "https://hooks.example/", "events": ["*"], "extra": 1}, ["body"]),
    ],
)
def test_a_bad_endpoint_is_refused_with_422(
    app: Served, body: dict[str, object], loc: list[str]
) -> None:
    response = app.client.post("/api/v1/webhooks", json=body, headers=app.headers)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["errors"][0]["loc"][: len(loc)] == loc


def test_private_urls_are_accepted_when_configured(scanlet_db: str, tmp_path: Path) -> None:
    with serve(scanlet_db, tmp_path, ScriptedSender(), allow_private=True) as app:
        assert app.create_webhook(["*"], url="http://127.0.0.1:9/hook")["url"].startswith(
            "http://127.0.0.1"
        )


def test_unknown_endpoints_are_404(app: Served) -> None:
    for method, path in [
        ("GET", "/api/v1/webhooks/wh_nope"),
        ("DELETE", "/api/v1/webhooks/wh_nope"),
        ("GET", "/api/v1/webhooks/wh_nope/deliveries"),
    ]:
        response = app.client.request(method, path, headers=app.headers)
        assert response.status_code == 404, (method, path)
        assert response.headers["content-type"] == PROBLEM


def test_deliveries_are_paginated_newest_first(app: Served) -> None:
    hook = app.create_webhook(["code.created"])
    for slug in ("a", "b", "c"):
        app.create_code(slug)
    app.sender.wait_for(3)
    wait_until(lambda: len(app.attempts(hook["id"])) == 3)
    url = f"/api/v1/webhooks/{hook['id']}/deliveries"
    first = app.client.get(f"{url}?limit=2", headers=app.headers).json()
    rest = app.client.get(f"{url}?limit=2&cursor={first['next_cursor']}", headers=app.headers)
    items = first["items"] + rest.json()["items"]
    assert [a["id"] for a in items] == sorted((a["id"] for a in items), reverse=True)
    assert rest.json()["next_cursor"] is None
    assert set(items[0]) == {
        "id",
        "event_id",
        "event_type",
        "attempt",
        "attempted_at",
        "status_code",
        "error",
        "duration_ms",
        "outcome",
    }


def test_webhooks_need_the_admin_scope(app: Served) -> None:
    assert app.client.get("/api/v1/webhooks").status_code == 401
    store = app.client.app.state.services.keys  # type: ignore[attr-defined]
    created = app.client.portal.call(  # type: ignore[union-attr]
        lambda: store.create("w", Scope.WRITE, now=datetime.now(UTC))
    )
    writer = {"Authorization": f"Bearer {created.token}"}
    assert app.client.get("/api/v1/webhooks", headers=writer).status_code == 403
