"""An app with every default feature on a temporary database, and a failure-injection hook."""

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry
from starlette.applications import Starlette
from starlette.testclient import TestClient

from scanlet.actors.access.keys import Scope
from scanlet.assembly import create_app
from scanlet.config import load_settings


def make_app(db: Path | str, key_dir: Path | None = None, **env: str) -> Starlette:
    """The production app (default features) on ``db`` (a SQLite path or a ``scanlet_db``),
    its server key in ``key_dir`` (beside a SQLite file by default)."""
    if key_dir is not None:
        env = {"SCANLET_SECRET_FILE": str(key_dir / "scanlet.key"), **env}
    settings = load_settings(
        {"SCANLET_DB": str(db), "SCANLET_BASE_URL": "http://qr.test", **env}, isatty=False
    )
    return create_app(settings, registry=CollectorRegistry())


def mint(app: Starlette, client: TestClient, scope: Scope = Scope.ADMIN) -> dict[str, str]:
    """Authorization headers for a fresh key on the running app."""
    store = app.state.services.keys
    created = client.portal.call(  # type: ignore[union-attr]
        partial(store.create, f"test-{scope.label}", scope, now=datetime.now(UTC))
    )
    return {"Authorization": f"Bearer {created.token}"}


def settle(app: Starlette, client: TestClient) -> None:
    """Wait until every mailbox is empty and every restart decision is made."""
    client.portal.call(app.state.services.system.wait_idle)  # type: ignore[union-attr]


class Crash:
    """A test hook: makes ``cls.method`` raise on its next ``times`` calls, then behave.

    Patched on the class, so it hits the running instance and every restarted one; nothing
    in production code knows about it.
    """

    def __init__(self, monkeypatch: pytest.MonkeyPatch, cls: type, method: str) -> None:
        self.remaining = 0
        self.raised = 0
        self.only: type | None = None
        original: Callable[..., Any] = getattr(cls, method)
        crash = self

        async def failing(instance: object, *args: object, **kwargs: object) -> Any:
            wanted = crash.only is None or (bool(args) and isinstance(args[0], crash.only))
            if crash.remaining > 0 and wanted:
                crash.remaining -= 1
                crash.raised += 1
                raise RuntimeError(f"injected failure in {cls.__name__}.{method}")
            return await original(instance, *args, **kwargs)

        monkeypatch.setattr(cls, method, failing)

    def arm(self, times: int = 1, *, only: type | None = None) -> None:
        """Fail the next ``times`` calls (those whose first argument is an ``only``, if
        given: an actor's own background messages then cannot take the failure)."""
        self.remaining = times
        self.only = only


@pytest.fixture
def app(scanlet_db: str, tmp_path: Path) -> Starlette:
    return make_app(scanlet_db, tmp_path)


@pytest.fixture
def crashes(monkeypatch: pytest.MonkeyPatch) -> dict[str, Crash]:
    """A disarmed hook in each context's actor, installed before the app starts (a running
    incarnation holds on to the handler it started with)."""
    from scanlet.actors.analytics.actor import AnalyticsFollower
    from scanlet.actors.codes.actor import CodesActor
    from scanlet.actors.scans.actor import ScansActor
    from scanlet.actors.webhooks.outbox import OutboxFollower
    from scanlet.actors.webhooks.registry import WebhooksActor

    actors: dict[str, type] = {
        "codes": CodesActor,
        "scans": ScansActor,
        "analytics": AnalyticsFollower,
        "webhooks-outbox": OutboxFollower,
        "webhooks": WebhooksActor,
    }
    return {name: Crash(monkeypatch, cls, "on_message") for name, cls in actors.items()}


@pytest.fixture
def client(app: Starlette, crashes: dict[str, Crash]) -> Iterator[TestClient]:
    with TestClient(app, base_url="http://qr.test", follow_redirects=False) as test_client:
        yield test_client
