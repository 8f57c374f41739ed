"""The dashboard's live view counts under the stream caps and ends with its session."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import cast

import pytest
from prometheus_client import CollectorRegistry
from starlette.applications import Starlette
from starlette.testclient import TestClient

from scanlet.actors.access.keys import Scope
from scanlet.actors.access.roles import SYSTEM, Role
from scanlet.assembly import Feature, create_app
from scanlet.assembly.analytics import AnalyticsFeature
from scanlet.assembly.dashboard import DashboardFeature
from scanlet.assembly.integrations import IntegrationsFeature
from scanlet.config import load_settings
from scanlet.http.stream import StreamConfig
from tests.http.accounts import PASSWORD, make_user, user_key

from .conftest import api_create, csrf_of, post_form


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = load_settings(
        {
            "SCANLET_DB": str(tmp_path / "live.db"),
            "SCANLET_BASE_URL": "http://qr.test",
            "SCANLET_STREAM_LIMIT_PER_KEY": "1",
        },
        isatty=False,
    )
    fast = StreamConfig(heartbeat=0.05, recheck=0.05)
    features: list[Feature] = [
        AnalyticsFeature(),
        IntegrationsFeature(stream=fast),
        DashboardFeature(),
    ]
    app = create_app(settings, registry=CollectorRegistry(), features=features)
    with TestClient(app, base_url="http://qr.test") as test_client:
        yield test_client


def signed_in(client: TestClient) -> str:
    store = client.app.state.services.keys  # type: ignore[attr-defined]
    created = client.portal.call(  # type: ignore[union-attr]
        lambda: store.create("live", Scope.WRITE, now=datetime.now(UTC))
    )
    form = client.get("/dashboard/sign-in")
    answer = client.post(
        "/dashboard/sign-in",
        data={"csrf": csrf_of(form.text), "key": created.token, "next": "/dashboard"},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    return str(created.token)


def test_live_views_share_the_per_key_cap_and_end_when_the_session_does(
    client: TestClient,
) -> None:
    key = signed_in(client)
    api_create(client, key, target="https://example.com/", slug="menu")
    with client.stream("GET", "/dashboard/stream?slug=menu") as live:
        assert live.status_code == 200
        chunks = live.iter_bytes()
        assert next(chunks).startswith(b"retry:")
        # The same key's second live view is over its cap of one.
        second = client.get("/dashboard/stream?slug=menu")
        assert second.status_code == 429
        assert second.headers["retry-after"] == "10"
        signed_out = post_form(client, "/dashboard/sign-out", "/dashboard")
        assert signed_out.status_code == 303
        # The open view notices at its next re-check and ends (bounded wait, not a timing
        # assertion: a view that never ends fails here instead of hanging the suite).
        deadline = time.monotonic() + 10
        for _ in chunks:
            assert time.monotonic() < deadline, "the live view outlived its session"


def test_a_users_live_view_ends_when_the_user_is_disabled(client: TestClient) -> None:
    app = cast(Starlette, client.app)
    user = make_user(app, client, "ed@example.com", Role.EDITOR)
    form = client.get("/dashboard/sign-in")
    answer = client.post(
        "/dashboard/sign-in",
        data={"csrf": csrf_of(form.text), "email": user.email, "password": PASSWORD},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    api_create(client, user_key(app, client, user, Scope.WRITE), target="https://e.com/", slug="m")
    with client.stream("GET", "/dashboard/stream?slug=m") as live:
        assert live.status_code == 200
        chunks = live.iter_bytes()
        assert next(chunks).startswith(b"retry:")
        users = app.state.services.users
        client.portal.call(  # type: ignore[union-attr]
            partial(users.change, user.id, by=SYSTEM, now=datetime.now(UTC), disabled=True)
        )
        # Bounded wait, as above: a view that outlives its user fails here.
        deadline = time.monotonic() + 10
        for _ in chunks:
            assert time.monotonic() < deadline, "the live view outlived its disabled user"
    assert client.get("/dashboard/codes", follow_redirects=False).status_code == 303
