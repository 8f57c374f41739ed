"""``scanlet audit``: what admins did to users, keys and webhooks, by whom, never a secret."""

from __future__ import annotations

import io
import json

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from scanlet.actors.access.keys import Scope
from scanlet.actors.access.roles import Role
from scanlet.cli import main
from tests.http.accounts import PASSWORD, bearer, make_user, user_key


@pytest.fixture
def app_env() -> dict[str, str]:
    """Webhooks may point at loopback here (nothing is delivered: no event follows the
    endpoint's creation)."""
    return {"SCANLET_WEBHOOK_ALLOW_PRIVATE": "true"}


def audit(db: str, capsys: pytest.CaptureFixture[str], *args: str) -> list[dict[str, object]]:
    capsys.readouterr()
    assert main(["audit", "--format", "json", "--db", db, *args]) == 0
    entries: list[dict[str, object]] = json.loads(capsys.readouterr().out)
    return entries


def test_admin_actions_are_listed_with_who_did_them_and_no_secret(
    app: Starlette,
    client: TestClient,
    scanlet_db: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    owner = make_user(app, client, "own@example.com", Role.OWNER)
    key = user_key(app, client, owner, Scope.ADMIN)
    made = client.post(
        "/api/v1/users",
        json={"email": "ed@example.com", "role": "editor", "password": PASSWORD},
        headers=bearer(key),
    ).json()
    client.patch(
        f"/api/v1/users/{made['id']}",
        json={"role": "viewer", "password": "another long one"},
        headers=bearer(key),
    )
    hook = client.post(
        "/api/v1/webhooks",
        json={"url": "http://127.0.0.1:9/in?token=sekrit", "events": ["*"]},
        headers=bearer(key),
    )
    assert hook.status_code == 201
    client.delete(f"/api/v1/webhooks/{hook.json()['id']}", headers=bearer(key))
    monkeypatch.setattr("sys.stdin", io.StringIO("a third long password\n"))
    assert (
        main(["users", "set-password", "ed@example.com", "--password-stdin", "--db", scanlet_db])
        == 0
    )
    entries = audit(scanlet_db, capsys)
    actions = [(e["action"], e["by_kind"]) for e in entries]
    assert actions == [
        ("user.created", "system"),
        ("key.created", "system"),
        ("user.created", "key"),
        ("user.changed", "key"),
        ("webhook.created", "key"),
        ("webhook.deleted", "key"),
        ("user.changed", "system"),
    ]
    changed = entries[3]["detail"]
    assert changed == {"email": "ed@example.com", "changed": ["role", "password"], "role": "viewer"}
    assert entries[4]["detail"] == {"host": "127.0.0.1", "events": ["*"]}
    text = json.dumps(entries)
    for secret in (PASSWORD, "another long one", "a third long password", "sekrit", "whsec_"):
        assert secret not in text
    # What the owner did, through their key; and nothing before a time after it all.
    mine = audit(scanlet_db, capsys, "--user", "own@example.com")
    assert [e["action"] for e in mine] == [
        "user.created",
        "user.changed",
        "webhook.created",
        "webhook.deleted",
    ]
    assert audit(scanlet_db, capsys, "--since", "2999-01-01T00:00:00Z") == []
    capsys.readouterr()
    assert main(["audit", "--db", scanlet_db]) == 0
    table = capsys.readouterr().out
    assert "key key-own@example.com" in table
    assert "user.changed" in table


def test_audit_refuses_an_unknown_user_and_a_bad_time(
    scanlet_db: str, client: TestClient, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["audit", "--user", "ghost@example.com", "--db", scanlet_db]) == 1
    assert capsys.readouterr().err.strip() == "scanlet: no user 'ghost@example.com'"
    with pytest.raises(SystemExit) as usage:
        main(["audit", "--since", "yesterday", "--db", scanlet_db])
    assert usage.value.code == 2
