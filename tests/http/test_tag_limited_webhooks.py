"""Webhooks of a key or user limited to tags: their own endpoints only, delivering only the
events of codes with one of their tags."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import msgspec
import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from scanlet.actors.access.keys import Scope
from scanlet.actors.access.roles import Role
from tests.actors.webhooks.harness import ScriptedSender, Served, serve
from tests.http.accounts import bearer, make_user, user_key


@dataclass
class Team:
    served: Served
    owner: str
    agency: str
    #: Another key of the agency's admin, limited to one of their two tags.
    agency_narrow: str
    #: An admin of another account limited to the same tag.
    rival: str
    editor: str

    @property
    def client(self) -> TestClient:
        return self.served.client

    def hook(self, token: str, url: str, events: list[str] | None = None) -> Any:
        answer = self.client.post(
            "/api/v1/webhooks",
            json={"url": url, "events": events or ["*"]},
            headers=bearer(token),
        )
        assert answer.status_code == 201, answer.text
        return answer.json()

    def listed(self, token: str) -> list[str]:
        answer = self.client.get("/api/v1/webhooks", headers=bearer(token))
        assert answer.status_code == 200, answer.text
        return [item["id"] for item in answer.json()["items"]]


@pytest.fixture
def team(scanlet_db: str, tmp_path: Path) -> Iterator[Team]:
    sender = ScriptedSender()
    with serve(scanlet_db, tmp_path, sender) as served:
        app, client = cast(Starlette, served.client.app), served.client
        owner = make_user(app, client, "own@example.com", Role.OWNER)
        boss = make_user(
            app,
            client,
            "boss@example.com",
            Role.ADMIN,
            tags=["agency-x", "agency-z"],
        )
        rival = make_user(app, client, "rival@example.com", Role.ADMIN, tags=["agency-x"])
        editor = make_user(app, client, "ed@example.com", Role.EDITOR, tags=["agency-x"])
        yield Team(
            served,
            user_key(app, client, owner, Scope.ADMIN),
            user_key(app, client, boss, Scope.ADMIN),
            user_key(app, client, boss, Scope.ADMIN, tags=["agency-z"]),
            user_key(app, client, rival, Scope.ADMIN),
            user_key(app, client, editor, Scope.WRITE),
        )


def test_a_limited_admin_sees_and_removes_only_its_own_endpoints(team: Team) -> None:
    everyone = team.hook(team.owner, "https://hooks.example/all")
    mine = team.hook(team.agency, "https://hooks.example/agency")
    assert everyone["tags"] is None
    assert mine["tags"] == ["agency-x", "agency-z"]
    assert team.listed(team.owner) == [everyone["id"], mine["id"]]
    assert team.listed(team.agency) == [mine["id"]]
    # Not another account's limited to the same tag, nor a narrower key of the same user.
    assert team.listed(team.rival) == []
    assert team.listed(team.agency_narrow) == []
    for token, hook in [
        (team.agency, everyone),
        (team.rival, mine),
        (team.agency_narrow, mine),
    ]:
        for method, path in [
            ("GET", "/api/v1/webhooks/{id}"),
            ("GET", "/api/v1/webhooks/{id}/deliveries"),
            ("DELETE", "/api/v1/webhooks/{id}"),
        ]:
            answer = team.client.request(method, path.format(id=hook["id"]), headers=bearer(token))
            assert answer.status_code == 404, (method, path, answer.text)
            # As absent as an endpoint that never was: nothing tells them apart.
            never = team.client.request(
                method, path.format(id="wh_0000000000000000"), headers=bearer(token)
            )
            assert answer.json()["title"] == never.json()["title"]
    # An editor limited to tags is below the admin role: refused as any editor is.
    assert team.client.get("/api/v1/webhooks", headers=bearer(team.editor)).status_code == 403
    gone = team.client.delete(f"/api/v1/webhooks/{mine['id']}", headers=bearer(team.agency))
    assert gone.status_code == 204
    assert team.listed(team.owner) == [everyone["id"]]


def test_a_limited_endpoint_is_sent_only_the_events_of_its_codes(team: Team) -> None:
    everyone = team.hook(team.owner, "https://hooks.example/all")
    mine = team.hook(team.agency, "https://hooks.example/agency")
    client = team.client
    for slug, tags in [("theirs", ["agency-y"]), ("ours", ["agency-x"]), ("bare", [])]:
        made = client.post(
            "/api/v1/codes",
            json={"target": "https://example.com/", "slug": slug, "tags": tags},
            headers=bearer(team.owner),
        )
        assert made.status_code == 201
    for path in ("/theirs", "/never-was", "/bare", "/ours"):
        client.get(path, follow_redirects=False)
    client.patch("/api/v1/codes/theirs", json={"title": "t"}, headers=bearer(team.owner))
    client.delete("/api/v1/codes/bare", headers=bearer(team.owner))
    client.patch("/api/v1/codes/ours", json={"title": "last"}, headers=bearer(team.owner))
    # 3 created, 4 scans (one orphaned), 2 updated, 1 deleted to the unlimited endpoint; the
    # agency's last event is also the log's last, and each endpoint is sent in log order.
    team.served.sender.wait_for(10 + 3)
    sent: dict[str, list[tuple[str, str]]] = {everyone["id"]: [], mine["id"]: []}
    for outgoing in team.served.sender.sent:
        body = msgspec.json.decode(outgoing.body)
        data = body["data"]
        slug = data.get("slug") or data["code"]["slug"]
        endpoint = everyone["id"] if outgoing.url.endswith("/all") else mine["id"]
        sent[endpoint].append((body["type"], slug))
    assert len(sent[everyone["id"]]) == 10
    assert sent[mine["id"]] == [
        ("code.created", "ours"),
        ("scan.recorded", "ours"),
        ("code.updated", "ours"),
    ]


def test_a_limited_endpoint_made_after_unlimited_traffic_still_gets_only_its_codes(
    team: Team,
) -> None:
    # The outbox reads codes' tags only while a limited endpoint is enabled; one created
    # after batches planned without them must still be judged with them.
    everyone = team.hook(team.owner, "https://hooks.example/all")
    client = team.client
    for slug, tags in [("theirs", ["agency-y"]), ("ours", ["agency-x"])]:
        made = client.post(
            "/api/v1/codes",
            json={"target": "https://example.com/", "slug": slug, "tags": tags},
            headers=bearer(team.owner),
        )
        assert made.status_code == 201
    team.served.sender.wait_for(2)  # both creations delivered: batches planned without tags
    mine = team.hook(team.agency, "https://hooks.example/agency")
    for path in ("/theirs", "/ours", "/theirs"):
        client.get(path, follow_redirects=False)
    team.served.sender.wait_for(2 + 3 + 1)
    to_mine = [
        msgspec.json.decode(o.body)["data"]["slug"]
        for o in team.served.sender.sent
        if o.url.endswith("/agency")
    ]
    to_everyone = [o for o in team.served.sender.sent if o.url.endswith("/all")]
    assert to_mine == ["ours"]
    assert len(to_everyone) == 5
    assert everyone["id"] != mine["id"]
