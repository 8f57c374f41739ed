"""Webhooks of an admin limited to domains: the endpoint carries the limit and is sent only
the events of codes on those domains (never another domain's code of the same slug, nor
the events of no code)."""

from __future__ import annotations

from pathlib import Path
from typing import cast

import msgspec
import pytest
from starlette.applications import Starlette

from scanlet.actors.access.keys import Scope
from scanlet.actors.access.roles import Role
from scanlet.cli import main
from tests.actors.webhooks.harness import ScriptedSender, serve
from tests.http.accounts import bearer, make_user, user_key

A, B = "a.test", "b.test"


def test_an_endpoint_limited_to_a_domain_is_sent_only_its_codes_events(
    scanlet_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sender = ScriptedSender()
    with serve(scanlet_db, tmp_path, sender) as served:
        client, admin = served.client, served.headers
        for host in (A, B):
            assert client.post("/api/v1/domains", json={"host": host}, headers=admin).is_success
        app = cast(Starlette, client.app)
        boss = make_user(app, client, "boss@example.com", Role.ADMIN, domains=[A])
        limited = bearer(user_key(app, client, boss, Scope.ADMIN))
        everyone = served.create_webhook(["*"], "https://hooks.example/all")
        mine = client.post(
            "/api/v1/webhooks",
            json={"url": "https://hooks.example/a", "events": ["*"]},
            headers=limited,
        )
        assert mine.status_code == 201, mine.text
        assert (mine.json()["domains"], mine.json()["tags"]) == ([A], None)
        listed = client.get("/api/v1/webhooks", headers=limited).json()["items"]
        assert [hook["id"] for hook in listed] == [mine.json()["id"]]
        for path in ("/api/v1/webhooks/{id}", "/api/v1/webhooks/{id}/deliveries"):
            other = client.get(path.format(id=everyone["id"]), headers=limited)
            assert other.status_code == 404, other.text
        for body in ({"domain": B}, {}, {"domain": A}):
            made = client.post(
                "/api/v1/codes",
                json={"target": "https://example.com/", "slug": "menu", **body},
                headers=admin,
            )
            assert made.status_code == 201, made.text
        for host, path in [(B, "/menu"), (A, "/nope"), ("qr.test", "/menu"), (A, "/menu")]:
            client.get(path, headers={"host": host}, follow_redirects=False)
        client.patch("/api/v1/codes/menu?domain=b.test", json={"title": "b"}, headers=admin)
        client.patch("/api/v1/codes/menu?domain=a.test", json={"title": "a"}, headers=admin)
        # 3 created, 4 scans (one orphaned), 2 updated to the unlimited endpoint; the last
        # event is A's, and each endpoint is sent in log order.
        sent = sender.wait_for(9 + 3)
    to_mine = [msgspec.json.decode(o.body) for o in sent if o.url.endswith("/a")]
    to_everyone = [o for o in sent if o.url.endswith("/all")]
    assert everyone["domains"] is None
    assert len(to_everyone) == 9
    assert [body["type"] for body in to_mine] == ["code.created", "scan.recorded", "code.updated"]
    for body in to_mine:
        text = msgspec.json.encode(body).decode()
        assert A in text
        assert B not in text
    # The audit trail names the limit the endpoint was made with.
    capsys.readouterr()
    assert main(["audit", "--format", "json", "--db", scanlet_db]) == 0
    created = [
        entry["detail"]
        for entry in msgspec.json.decode(capsys.readouterr().out)
        if entry["action"] == "webhook.created"
    ]
    assert [detail.get("domains") for detail in created] == [None, [A]]
