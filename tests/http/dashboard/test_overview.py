"""The overview page: totals, the chart across codes, top codes and orphan scans."""

from __future__ import annotations

from starlette.testclient import TestClient

from scanlet.actors.access.keys import Scope
from tests.http.dashboard.conftest import SignIn, api_create, caught_up


def test_the_overview_shows_totals_top_codes_and_orphans(
    client: TestClient, sign_in: SignIn
) -> None:
    key = sign_in(Scope.READ)
    writer = sign_in(Scope.WRITE)
    api_create(client, writer, target="https://example.com/", slug="menu")
    api_create(client, writer, target="https://example.com/", slug="quiet")
    for _ in range(3):
        assert client.get("/menu", follow_redirects=False).status_code == 302
    client.get("/nosuchslug", follow_redirects=False)
    assert key
    caught_up(client)
    page = client.get("/dashboard?range=7d&interval=day")
    assert page.status_code == 200
    assert '<dd data-testid="live-codes">2</dd>' in page.text
    assert '<dd data-testid="total-scans">3</dd>' in page.text
    assert 'href="/dashboard/codes/menu"' in page.text
    assert "<code>nosuchslug</code>" in page.text
    assert 'aria-labelledby="overview-chart-title overview-chart-desc"' in page.text
    assert "Scans of all codes over time" in page.text
