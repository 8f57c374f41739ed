"""Crashing actors recover: restarted by their supervisor, asks answered with 503 (never a
hang), nothing acknowledged lost, followers resume at their position, and a restart storm
escalates to a failed system that reports not ready instead of looping forever."""

from starlette.applications import Starlette
from starlette.testclient import TestClient

from scanlet.actors.codes.messages import NewCode
from scanlet.config import Settings
from scanlet.runtime import ActorCrashed
from tests.conftest import caught_up
from tests.dbquery import query
from tests.reliability.conftest import Crash, mint, settle

TARGET = "https://example.com/menu"


def create(client: TestClient, headers: dict[str, str], slug: str) -> None:
    answer = client.post("/api/v1/codes", headers=headers, json={"target": TARGET, "slug": slug})
    assert answer.status_code == 201, answer.text


def scan_events(db: Settings) -> int:
    ((count,),) = query(db, "SELECT COUNT(*) FROM events WHERE type = 'scan.recorded'")
    return int(count)


def catch_up(app: Starlette, client: TestClient, name: str) -> None:
    """Ask a follower to catch up until it answers (an armed crash may take the ask; the
    doorbell may be in its debounce pause): bounded, ordered by settle, never by sleeps."""
    ref = app.state.services.system.lookup(name)
    for _ in range(10):
        settle(app, client)
        try:
            storage = app.state.services.storage
            client.portal.call(caught_up, ref, storage)  # type: ignore[union-attr]
        except ActorCrashed:
            continue
        return
    raise AssertionError(f"{name} never caught up")


def assert_unavailable(answer: object) -> None:
    assert getattr(answer, "status_code", None) == 503
    headers = getattr(answer, "headers", {})
    assert headers["content-type"] == "application/problem+json"
    assert "retry-after" in headers


def test_a_crashing_scans_actor_answers_503_then_is_restarted_and_loses_nothing(
    app: Starlette, client: TestClient, crashes: dict[str, Crash], db_settings: Settings
) -> None:
    headers = mint(app, client)
    create(client, headers, "menu")
    crash = crashes["scans"]
    assert client.get("/menu").status_code == 302
    crash.arm()
    assert_unavailable(client.get("/menu"))
    settle(app, client)
    answered = sum(client.get("/menu").status_code == 302 for _ in range(5))
    assert answered == 5
    assert client.get("/readyz").status_code == 200
    assert app.state.services.scans.statistics().restarts == 1
    # Every acknowledged scan is in the log; the failed one is not.
    assert scan_events(db_settings) == 1 + answered


def test_a_crashing_codes_actor_answers_503_and_restarts_with_its_index_intact(
    app: Starlette, client: TestClient, crashes: dict[str, Crash]
) -> None:
    headers = mint(app, client)
    create(client, headers, "kept")
    crash = crashes["codes"]
    # Only the creation: the resync (every 0.5 s on SQLite) tells the actor to reload "kept"
    # meanwhile, and on a slow machine that refresh took the failure and the POST got 201.
    crash.arm(only=NewCode)
    failed = client.post("/api/v1/codes", headers=headers, json={"target": TARGET, "slug": "new"})
    assert_unavailable(failed)
    settle(app, client)
    assert client.get("/kept").status_code == 302
    create(client, headers, "new")
    assert client.get("/new").status_code == 302
    assert client.get("/readyz").status_code == 200


def test_the_analytics_follower_resumes_at_its_position_and_counts_each_scan_once(
    app: Starlette, client: TestClient, crashes: dict[str, Crash]
) -> None:
    headers = mint(app, client)
    create(client, headers, "menu")
    crash = crashes["analytics"]
    crash.arm(2)
    answered = sum(client.get("/menu").status_code == 302 for _ in range(10))
    settle(app, client)
    catch_up(app, client, "analytics")
    stats = client.get("/api/v1/codes/menu/stats", headers=headers).json()
    assert crash.raised == 2
    assert stats["total"] == answered == 10
    assert client.get("/readyz").status_code == 200


async def positions(app: Starlette) -> tuple[int, dict[str, int]]:
    """The position after the log's last event, and every follower's stored position."""
    storage = app.state.services.storage
    last = await storage.events.position_of(await storage.events.last_seq())
    assert last is not None
    names = ("webhooks", "analytics")
    return last, {name: await storage.positions.load(name) for name in names}


def test_the_webhook_outbox_follower_and_registry_recover_and_resume(
    app: Starlette, client: TestClient, crashes: dict[str, Crash]
) -> None:
    headers = mint(app, client)
    create(client, headers, "menu")
    outbox = crashes["webhooks-outbox"]
    outbox.arm(1)
    assert sum(client.get("/menu").status_code == 302 for _ in range(5)) == 5
    settle(app, client)
    catch_up(app, client, "webhooks-outbox")
    catch_up(app, client, "analytics")
    last, stored = client.portal.call(positions, app)  # type: ignore[union-attr]
    assert outbox.raised == 1
    # Both at the end (on PostgreSQL a follower with nothing to do may skip to the fence,
    # past the last event).
    assert stored["webhooks"] >= last
    assert stored["analytics"] >= last
    registry = crashes["webhooks"]
    registry.arm(1)
    assert_unavailable(client.delete("/api/v1/webhooks/wh_0123456789abcdef", headers=headers))
    assert client.get("/readyz").status_code in (200, 503)  # restarting or back
    settle(app, client)
    assert client.get("/readyz").status_code == 200


def test_a_restart_storm_escalates_to_a_failed_system_that_is_not_ready(
    app: Starlette, client: TestClient, crashes: dict[str, Crash]
) -> None:
    headers = mint(app, client)
    create(client, headers, "menu")
    crash = crashes["scans"]
    crash.arm(1000)
    statuses = []
    # Bounded: the root supervisor allows 5 restarts in 10 s (SupervisorSpec defaults).
    for _ in range(50):
        statuses.append(client.get("/menu").status_code)
        settle(app, client)
        if getattr(app.state, "fatal", None) is not None:
            break
    assert set(statuses) == {503}
    assert getattr(app.state, "fatal", None) is not None
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert any("actor system failed" in reason for reason in ready.json()["reasons"])
    # Still answers (503), never hangs, while the process manager restarts it.
    assert_unavailable(client.get("/menu"))
