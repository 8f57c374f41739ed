"""Delivery: signed, in order per endpoint, retried with the same id, durable, disabling."""

import threading
from pathlib import Path
from typing import Any

import anyio.to_thread
import msgspec
from standardwebhooks import Webhook

from scanlet.actors.webhooks.policy import DISABLE_AFTER
from scanlet.actors.webhooks.sender import Outgoing, SendResult
from scanlet.config import Settings
from tests.dbquery import query

from .harness import ScriptedSender, Served, serve, wait_until


def body(outgoing: Outgoing) -> dict[str, object]:
    decoded: dict[str, object] = msgspec.json.decode(outgoing.body)
    return decoded


def test_events_are_delivered_signed_in_log_order(scanlet_db: str, tmp_path: Path) -> None:
    sender = ScriptedSender()
    with serve(scanlet_db, tmp_path, sender) as app:
        hook = app.create_webhook(["*"])
        app.create_code("menu")
        assert app.client.get("/menu", follow_redirects=False).status_code == 302
        sent = sender.wait_for(2)
        verifier = Webhook(hook["secret"])
        payloads = [verifier.verify(o.body, o.headers) for o in sent]
        assert [p["type"] for p in payloads] == ["code.created", "scan.recorded"]
        assert payloads[0]["seq"] < payloads[1]["seq"]
        assert [o.headers["webhook-id"] for o in sent] == [p["id"] for p in payloads]
        assert payloads[1]["data"]["slug"] == "menu"
        assert all(o.url == "https://hooks.example/in" for o in sent)
        wait_until(lambda: len(app.attempts(hook["id"])) == 2)
        attempts = app.attempts(hook["id"])
        assert [a["outcome"] for a in attempts] == ["delivered", "delivered"]
        assert [a["status_code"] for a in attempts] == [200, 200]
        assert all(a["duration_ms"] >= 0 and a["error"] is None for a in attempts)


def test_an_endpoint_gets_only_the_types_it_asked_for_and_only_new_events(
    scanlet_db: str,
    tmp_path: Path,
) -> None:
    sender = ScriptedSender()
    with serve(scanlet_db, tmp_path, sender) as app:
        app.create_code("before")
        app.create_webhook(["scan.recorded"])
        app.create_code("after")
        app.client.get("/after", follow_redirects=False)
        app.client.get("/before", follow_redirects=False)
        sent = sender.wait_for(2)
        assert [body(o)["type"] for o in sent] == ["scan.recorded", "scan.recorded"]
        assert [body(o)["data"]["slug"] for o in sent] == ["after", "before"]  # type: ignore[index]


def test_a_failed_delivery_is_retried_with_the_same_id_and_holds_back_later_ones(
    scanlet_db: str,
    tmp_path: Path,
) -> None:
    failures = {"left": 2}

    def reply(outgoing: Outgoing) -> int | None:
        if failures["left"]:
            failures["left"] -= 1
            return 500 if failures["left"] else None
        return 204

    sender = ScriptedSender(reply)
    with serve(scanlet_db, tmp_path, sender) as app:
        hook = app.create_webhook(["code.created"])
        app.create_code("one")
        app.create_code("two")
        sent = sender.wait_for(4)
        ids = [o.headers["webhook-id"] for o in sent]
        assert ids[0] == ids[1] == ids[2] != ids[3]
        assert [body(o)["data"]["code"]["slug"] for o in sent] == ["one", "one", "one", "two"]  # type: ignore[index]
        for outgoing in sent:
            Webhook(hook["secret"]).verify(outgoing.body, outgoing.headers)
        wait_until(lambda: len(app.attempts(hook["id"])) == 4)
        attempts = app.attempts(hook["id"])
        assert [a["outcome"] for a in attempts] == [
            "retrying",
            "retrying",
            "delivered",
            "delivered",
        ]
        assert [a["attempt"] for a in attempts] == [1, 2, 3, 1]
        assert attempts[0]["status_code"] == 500
        assert attempts[1]["status_code"] is None
        assert attempts[1]["error"] == "ConnectError: refused"
        assert app.webhook(hook["id"])["enabled"] is True


def test_a_410_disables_the_endpoint_and_logs_webhook_disabled(
    scanlet_db: str, tmp_path: Path, db_settings: Settings
) -> None:
    sender = ScriptedSender(lambda outgoing: 410)
    with serve(scanlet_db, tmp_path, sender) as app:
        hook = app.create_webhook(["code.created"])
        app.create_code("gone")
        app.create_code("later")
        wait_until(lambda: app.webhook(hook["id"])["enabled"] is False)
        resource = app.webhook(hook["id"])
        assert "410" in resource["disabled_reason"]
        assert resource["disabled_at"] is not None
        assert len(sender.sent) == 1
        metrics = app.client.get("/metrics").text
        assert 'scanlet_webhook_endpoints_disabled_total{reason="gone"} 1.0' in metrics
        # The gauge follows the outbox after each commit (the follower adds, the worker
        # removes the disabled endpoint's rest): it settles at zero, not in the same instant.
        wait_until(lambda: "scanlet_webhook_outbox_depth 0.0" in app.client.get("/metrics").text)
    rows = query(db_settings, "SELECT payload FROM events WHERE type = 'webhook.disabled'")
    assert len(rows) == 1
    assert msgspec.json.decode(rows[0][0])["endpoint_id"] == hook["id"]


def test_the_webhook_disabled_event_names_the_endpoint_by_id_only(
    scanlet_db: str, tmp_path: Path, db_settings: Settings
) -> None:
    # An endpoint's URL may carry a credential; the event goes to every stream reader and to
    # other endpoints, which may only know which endpoint it was.
    secret_url = "https://gone.example/in?token=s3cret"
    sender = ScriptedSender(lambda outgoing: 410 if outgoing.url == secret_url else 200)
    with serve(scanlet_db, tmp_path, sender) as app:
        watcher = app.create_webhook(["webhook.disabled"])
        gone = app.create_webhook(["code.created"], url=secret_url)
        app.create_code("gone")
        sent = sender.wait_for(2)
        told = [o for o in sent if o.url != secret_url]
        assert len(told) == 1
        delivered = Webhook(watcher["secret"]).verify(told[0].body, told[0].headers)
        assert delivered["type"] == "webhook.disabled"
        assert delivered["data"] == {
            "endpoint_id": gone["id"],
            "reason": "the endpoint answered 410 Gone",
        }
        assert b"s3cret" not in told[0].body
    ((stored,),) = query(db_settings, "SELECT payload FROM events WHERE type = 'webhook.disabled'")
    assert b"s3cret" not in bytes(stored)


def test_an_endpoint_failing_again_and_again_is_disabled(scanlet_db: str, tmp_path: Path) -> None:
    sender = ScriptedSender(lambda outgoing: 503)
    with serve(scanlet_db, tmp_path, sender, retry_base="0.001", retry_cap=0.002) as app:
        hook = app.create_webhook(["code.created"])
        app.create_code("flaky")
        wait_until(lambda: app.webhook(hook["id"])["enabled"] is False)
        assert len(sender.sent) == DISABLE_AFTER
        assert f"{DISABLE_AFTER} consecutive" in app.webhook(hook["id"])["disabled_reason"]
        assert app.attempts(hook["id"])[-1]["outcome"] == "disabled"
        assert "scanlet_webhook_failures_total" in app.client.get("/metrics").text


def test_a_slow_endpoint_does_not_delay_another(scanlet_db: str, tmp_path: Path) -> None:
    release = threading.Event()

    class Blocking(ScriptedSender):
        async def send(self, outgoing: Outgoing) -> SendResult:
            if "slow" in outgoing.url:
                await anyio.to_thread.run_sync(release.wait, 10.0)
            return await super().send(outgoing)

    sender = Blocking()
    with serve(scanlet_db, tmp_path, sender) as app:
        app.create_webhook(["code.created"], url="https://slow.example/")
        app.create_webhook(["code.created"], url="https://fast.example/")
        app.create_code("a")
        app.create_code("b")
        fast = sender.wait_for(2)
        assert [o.url for o in fast] == ["https://fast.example/"] * 2
        release.set()
        sent = sender.wait_for(4)
        assert [o.url for o in sent[2:]] == ["https://slow.example/"] * 2


def test_pending_deliveries_survive_a_restart(scanlet_db: str, tmp_path: Path) -> None:
    down = ScriptedSender(lambda outgoing: 502)
    with serve(scanlet_db, tmp_path, down, retry_base="0.05") as app:
        hook = app.create_webhook(["code.created"])
        app.create_code("kept")
        first = down.wait_for(1)[0]
    up = ScriptedSender()
    with serve(scanlet_db, tmp_path, up) as app:
        again = up.wait_for(1)[0]
        assert again.headers["webhook-id"] == first.headers["webhook-id"]
        assert again.body == first.body
        Webhook(hook["secret"]).verify(again.body, again.headers)
        wait_until(lambda: app.attempts(hook["id"])[-1]["outcome"] == "delivered")


def test_deleting_an_endpoint_stops_its_deliveries(scanlet_db: str, tmp_path: Path) -> None:
    sender = ScriptedSender(lambda outgoing: 500)
    with serve(scanlet_db, tmp_path, sender, retry_base="60") as app:
        hook = app.create_webhook(["code.created"])
        app.create_code("x")
        sender.wait_for(1)
        response = app.client.delete(f"/api/v1/webhooks/{hook['id']}", headers=app.headers)
        assert response.status_code == 204
        assert (
            app.client.get(f"/api/v1/webhooks/{hook['id']}", headers=app.headers).status_code == 404
        )
        assert "scanlet_webhook_outbox_depth 0.0" in app.client.get("/metrics").text


def test_an_endpoint_that_ends_leaves_the_server_ready(scanlet_db: str, tmp_path: Path) -> None:
    # A worker stops with its endpoint (disabled here by a 410, deleted below). It once stayed
    # listed as a stopped actor, and /readyz answered 503 for good: one receiver going away
    # took the whole instance out of its load balancer.
    sender = ScriptedSender(lambda outgoing: 410)
    with serve(scanlet_db, tmp_path, sender) as app:
        gone = app.create_webhook(["code.created"])
        kept = app.create_webhook(["code.deleted"])
        app.create_code("gone")
        wait_until(lambda: app.webhook(gone["id"])["enabled"] is False)
        wait_until(lambda: f"webhook-{gone['id']}" not in ready(app)["actors"])
        assert app.client.get("/readyz").status_code == 200, ready(app)
        deleted = app.client.delete(f"/api/v1/webhooks/{kept['id']}", headers=app.headers)
        assert deleted.status_code == 204
        readiness = app.client.get("/readyz")
        assert readiness.status_code == 200, readiness.text
        assert not any(name.startswith("webhook-wh_") for name in readiness.json()["actors"])


def ready(app: Served) -> Any:
    return app.client.get("/readyz").json()
