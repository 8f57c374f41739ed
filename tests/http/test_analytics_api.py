"""The stats, raw-scan and orphan-scan routes, end to end through the app."""

import csv
import io
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio
import anyio.lowlevel
import pytest
from prometheus_client import CollectorRegistry
from starlette.applications import Starlette
from starlette.testclient import TestClient

from scanlet.actors.access.keys import Scope
from scanlet.actors.analytics.actor import REMOTE_MIN_EVENTS
from scanlet.actors.events import ScanRecorded
from scanlet.assembly import create_app, projection_worker
from scanlet.assembly.analytics import AnalyticsFeature
from scanlet.config import load_settings
from tests.actors.analytics.conftest import append, scan
from tests.conftest import caught_up

PHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1"
)


class Api:
    """A running app, its client, a write key, and a way to wait for the read models."""

    def __init__(self, app: Starlette, client: TestClient, token: str) -> None:
        self.app, self.client = app, client
        self.headers = {"Authorization": f"Bearer {token}"}

    def get(self, path: str, **params: Any) -> Any:
        return self.client.get(path, params=params, headers=self.headers)

    def create(self, slug: str) -> None:
        body = {"target": "https://example.com/", "slug": slug}
        assert self.client.post("/api/v1/codes", json=body, headers=self.headers).status_code == 201

    def device_scans(self, slug: str, *times: str) -> None:
        events = [
            {"type": "scan", "id": str(uuid.uuid4()), "slug": slug, "occurred_at": t} for t in times
        ]
        reply = self.client.post("/api/v1/events", json={"events": events}, headers=self.headers)
        statuses = {r["status"] for r in reply.json()["results"]}
        assert statuses == {"accepted"}, reply.text

    def caught_up(self) -> None:
        ref = self.app.state.services.system.lookup("analytics")
        storage = self.app.state.services.storage
        self.client.portal.call(caught_up, ref, storage)  # type: ignore[union-attr]


async def _mint(app: Starlette) -> str:
    created = await app.state.services.keys.create("t", Scope.WRITE, now=datetime.now(UTC))
    return str(created.token)


@contextmanager
def serve(db: str, key_dir: Path, *, peer: str = "203.0.113.9", **env: str) -> Iterator[Api]:
    settings = load_settings(
        {"SCANLET_DB": db, "SCANLET_SECRET_FILE": str(key_dir / "scanlet.key"), **env},
        isatty=False,
    )
    app = create_app(settings, registry=CollectorRegistry(), features=[AnalyticsFeature()])
    with TestClient(app, client=(peer, 4000)) as client:
        yield Api(app, client, client.portal.call(_mint, app))  # type: ignore[union-attr]


@pytest.fixture
def api(scanlet_db: str, tmp_path: Path) -> Iterator[Api]:
    with serve(scanlet_db, tmp_path) as running:
        yield running


# SQLite only: on PostgreSQL the ring can meet the log's fence held by a transaction
# elsewhere on the server (another test run's CREATE DATABASE); the follower then applies the
# scan at its next periodic wake-up, which a count of idle waits does not reach. It passes on
# a quiet server; the wake-up by the bus is the same code on both backends.
@pytest.mark.backends("sqlite")
def test_a_redirect_shows_in_the_stats_without_being_asked_to_catch_up(api: Api) -> None:
    api.create("menu")
    assert (
        api.client.get("/q/menu", headers={"user-agent": PHONE}, follow_redirects=False).status_code
        == 302
    )
    system = api.app.state.services.system
    portal = api.client.portal
    assert portal is not None
    # The doorbell on the bus rings the follower; no explicit catch-up here. Bounded by a
    # count of idle waits, not by time.
    for _ in range(200):
        portal.call(system.wait_idle)
        portal.call(anyio.lowlevel.checkpoint)
        if api.get("/api/v1/codes/menu/stats").json()["total"]:
            break
    stats = api.get("/api/v1/codes/menu/stats").json()
    assert stats["slug"] == "menu"
    assert stats["by_source"] == {"qr": 1}
    assert stats["by_device"] == {"mobile": 1}
    assert stats["unique_visitors"] == 1
    assert len(stats["series"]) in (30, 31)


def test_local_days_follow_daylight_saving_time(api: Api) -> None:
    api.create("menu")
    # 2026-03-29 in Berlin is 23 hours long: 2026-03-28T23:00Z to 2026-03-29T22:00Z.
    api.device_scans("menu", "2026-03-28T22:30:00Z", "2026-03-28T23:30:00Z", "2026-03-29T21:30:00Z")
    api.caught_up()
    stats = api.get(
        "/api/v1/codes/menu/stats",
        **{"from": "2026-03-28T00:00:00+01:00", "to": "2026-03-30T00:00:00+02:00"},
        tz="Europe/Berlin",
    ).json()
    assert [(b["start"], b["scans"]) for b in stats["series"]] == [
        ("2026-03-27T23:00:00Z", 1),
        ("2026-03-28T23:00:00Z", 2),
    ]
    assert stats["by_source"] == {"device": 3}
    assert stats["unique_visitors"] == 0  # devices send no visitor hash
    utc = api.get(
        "/api/v1/codes/menu/stats",
        **{"from": "2026-03-28T00:00:00Z", "to": "2026-03-30T00:00:00Z"},
        interval="hour",
    ).json()
    assert len(utc["series"]) == 48
    assert sum(b["scans"] for b in utc["series"]) == utc["total"] == 3


def test_bots_count_only_as_bots_unless_included(api: Api) -> None:
    api.create("menu")
    api.client.get("/menu", headers={"user-agent": "curl/8.4.0"}, follow_redirects=False)
    api.client.get("/menu", headers={"user-agent": PHONE}, follow_redirects=False)
    api.caught_up()
    plain = api.get("/api/v1/codes/menu/stats").json()
    assert (plain["total"], plain["bots"], plain["by_device"]) == (1, 1, {"mobile": 1})
    both = api.get("/api/v1/codes/menu/stats", include_bots="true").json()
    assert (both["total"], both["bots"]) == (2, 1)
    everything = api.get("/api/v1/stats").json()
    assert "slug" not in everything
    assert everything["top_codes"] == [{"slug": "menu", "scans": 1, "unique_visitors": 1}]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"interval": "year"}, "interval"),
        ({"tz": "Mars/Olympus"}, "tz"),
        ({"tz": "../../etc/passwd"}, "tz"),
        ({"from": "yesterday"}, "from"),
        ({"from": "2026-01-02T00:00:00"}, "from"),
        ({"from": "2026-02-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"}, "from"),
        ({"from": "0001-01-01T00:00:00Z"}, "from"),
        ({"include_bots": "maybe"}, "include_bots"),
        ({"interval": "hour", "from": "2000-01-01T00:00:00Z"}, "interval"),
    ],
)
def test_bad_stats_parameters_are_422_problems(
    api: Api, params: dict[str, str], field: str
) -> None:
    reply = api.get("/api/v1/stats", **params)
    assert reply.status_code == 422
    assert reply.headers["content-type"] == "application/problem+json"
    assert reply.json()["errors"][0]["loc"] == ["query", field]


@pytest.mark.parametrize(
    ("to", "start"),
    [
        ("1970-01-10T00:00:00Z", "1970-01-01T00:00:00Z"),
        ("1970-01-01T00:00:00Z", "1970-01-01T00:00:00Z"),
        ("2026-03-31T00:00:00Z", "2026-03-01T00:00:00Z"),
    ],
)
def test_the_default_from_is_30_days_before_to_but_never_before_1970(
    api: Api, to: str, start: str
) -> None:
    # It once went back 30 days past 1970 and refused the request for a "from" the client
    # never sent (schemathesis: a schema-valid request rejected).
    reply = api.get("/api/v1/stats", to=to)
    assert reply.status_code == 200, reply.text
    assert reply.json()["from"] == start


def test_unknown_codes_have_no_stats_or_scans(api: Api) -> None:
    assert api.get("/api/v1/codes/nope/stats").status_code == 404
    assert api.get("/api/v1/codes/nope/scans").status_code == 404


def test_raw_scans_page_newest_first_with_a_cursor_and_stream_as_csv(api: Api) -> None:
    api.create("menu")
    times = [f"2026-01-0{d}T12:00:00Z" for d in range(1, 6)]
    api.device_scans("menu", *times)
    api.caught_up()
    first = api.get("/api/v1/codes/menu/scans", limit=2).json()
    assert [s["occurred_at"] for s in first["items"]] == [
        "2026-01-05T12:00:00.000000Z",
        "2026-01-04T12:00:00.000000Z",
    ]
    rest = api.get("/api/v1/codes/menu/scans", limit=10, cursor=first["next_cursor"]).json()
    assert len(rest["items"]) == 3
    assert rest["next_cursor"] is None
    ranged = api.get(
        "/api/v1/codes/menu/scans", **{"from": "2026-01-02T00:00:00Z", "to": "2026-01-04T00:00:00Z"}
    ).json()
    assert len(ranged["items"]) == 2
    assert api.get("/api/v1/codes/menu/scans", cursor="garbage!").status_code == 422
    assert api.get("/api/v1/codes/menu/scans", limit=1001).status_code == 422
    reply = api.get("/api/v1/codes/menu/scans", format="csv")
    assert reply.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(reply.text)))
    assert [r["occurred_at"][:10] for r in rows] == [t[:10] for t in reversed(times)]
    assert rows[0]["source"] == "device"


def test_orphan_scans_are_listed_apart(api: Api) -> None:
    api.client.get("/nothing-here", headers={"user-agent": "=cmd|' /C calc'!A0"})
    api.caught_up()
    page = api.get("/api/v1/orphan-scans").json()
    assert [s["slug"] for s in page["items"]] == ["nothing-here"]
    assert page["items"][0]["orphan"] is True
    text = api.get("/api/v1/orphan-scans", format="csv").text
    assert "'=cmd" in text  # a formula-looking cell is neutralised for spreadsheets


def test_a_trusted_proxy_reports_the_country(scanlet_db: str, tmp_path: Path) -> None:
    env = {"SCANLET_TRUSTED_PROXIES": "10.0.0.0/8", "SCANLET_COUNTRY_HEADER": "CF-IPCountry"}
    with serve(scanlet_db, tmp_path, peer="10.0.0.2", **env) as api:
        api.create("menu")
        api.client.get(
            "/menu", headers={"cf-ipcountry": "NL", "user-agent": PHONE}, follow_redirects=False
        )
        api.client.get(
            "/q/menu", headers={"cf-ipcountry": "XX", "user-agent": PHONE}, follow_redirects=False
        )
        api.caught_up()
        assert api.get("/api/v1/codes/menu/stats").json()["by_country"] == {"NL": 1, "unknown": 1}
    # The same database, served to a peer that is not a trusted proxy.
    with serve(scanlet_db, tmp_path, peer="203.0.113.5", **env) as api:
        api.create("untrusted")
        api.client.get(
            "/untrusted",
            headers={"cf-ipcountry": "NL", "user-agent": PHONE},
            follow_redirects=False,
        )
        api.caught_up()
        stats = api.get("/api/v1/codes/untrusted/stats").json()
        assert stats["by_country"] == {"unknown": 1}


def test_the_lag_gauge_is_exported(api: Api) -> None:
    api.caught_up()
    assert (
        'scanlet_projection_lag_events{projection="analytics"} 0.0'
        in api.client.get("/metrics").text
    )


def test_each_applied_batch_is_timed(api: Api) -> None:
    api.create("timed")
    for _ in range(3):
        api.client.get("/timed", follow_redirects=False)
    api.caught_up()
    samples = {
        line.split(" ")[0]: float(line.rsplit(" ", 1)[1])
        for line in api.client.get("/metrics").text.splitlines()
        if line.startswith("scanlet_projection_apply_seconds_")
    }
    count = samples['scanlet_projection_apply_seconds_count{projection="analytics"}']
    assert count >= 1  # the scans (and the code's creation), in a batch or more
    assert samples['scanlet_projection_apply_seconds_sum{projection="analytics"}'] > 0


def test_a_breakdown_lists_the_top_values_and_sums_the_rest_as_other() -> None:
    from scanlet.actors.analytics.stats import top_values

    counts = {f"site{n}.example": n + 1 for n in range(500)}
    kept = top_values(counts, 20)
    assert len(kept) == 21
    assert kept["site499.example"] == 500
    assert "site0.example" not in kept
    assert sum(kept.values()) == sum(counts.values())
    assert top_values({"a": 1}, 20) == {"a": 1}
    # Ties are broken by name, so an answer does not change between two identical queries.
    assert top_values({"b": 2, "a": 2, "c": 2}, 2) == {"a": 2, "b": 2, "other": 2}


def test_many_referrer_hosts_give_the_top_ones_and_other(api: Api) -> None:
    api.create("menu")
    for n in range(30):
        api.client.get(
            "/menu",
            headers={"user-agent": PHONE, "referer": f"https://site{n}.example/"},
            follow_redirects=False,
        )
    api.caught_up()
    default = api.get("/api/v1/codes/menu/stats").json()["by_referrer"]
    assert len(default) == 21
    assert default["other"] == 10
    narrow = api.get("/api/v1/codes/menu/stats", top=5).json()["by_referrer"]
    assert len(narrow) == 6
    assert sum(narrow.values()) == 30
    assert api.get("/api/v1/codes/menu/stats", top=0).status_code == 422


def imported_visits(count: int) -> list[ScanRecorded]:
    """Visits of ``menu`` to write to the log in one go, as an import does, with agents
    never seen."""
    tag = uuid.uuid4().hex
    return [
        scan("menu", datetime(2026, 3, 10, tzinfo=UTC), visitor=f"v{i}", agent=f"{PHONE} {tag}/{i}")
        for i in range(count)
    ]


@pytest.mark.parametrize("enabled", [True, False])
@pytest.mark.usefixtures("awake_agent_worker")
def test_the_new_agents_of_an_import_are_parsed_in_the_worker_process(
    scanlet_db: str, tmp_path: Path, enabled: bool
) -> None:
    visits = imported_visits(40)
    # (Without the projection worker, which parses a backlog's agents itself.)
    with serve(
        scanlet_db,
        tmp_path,
        SCANLET_AGENT_WORKER=str(enabled).lower(),
        SCANLET_PROJECTION_WORKER="off",
    ) as api:
        api.create("menu")
        api.client.portal.call(append, api.app.state.services.storage, visits)  # type: ignore[union-attr]
        api.caught_up()
        period = {"from": "2026-03-10T00:00:00Z", "to": "2026-03-11T00:00:00Z"}
        stats = api.get("/api/v1/codes/menu/stats", **period).json()
        metrics = api.client.get("/metrics").text
    assert stats["by_device"] == {"mobile": 40}
    if enabled:
        assert "scanlet_agent_worker_described_total 40.0" in metrics
    else:
        assert "scanlet_agent_worker" not in metrics


@pytest.mark.parametrize(
    ("setting", "cpus", "enabled"),
    [("on", 1, True), ("off", 2, False), ("auto", 2, True), ("auto", 1, False)],
)
def test_a_backlog_is_folded_in_the_projection_worker_process(
    scanlet_db: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    setting: str,
    cpus: int,
    enabled: bool,
) -> None:
    """``on`` and ``off`` whatever the CPUs; ``auto`` only where the server may use two.

    Two backlogs, one after the other, each three times what the worker takes: a catch-up
    that checked the lag just before a backlog landed folds it all here (CI's loaded machine
    saw that once, on PostgreSQL), and two such races in a row are what the test leaves to
    chance."""
    monkeypatch.setattr(projection_worker, "usable_cpus", lambda: cpus)
    backlog = 2 * 3 * REMOTE_MIN_EVENTS
    visits = imported_visits(backlog)
    with serve(scanlet_db, tmp_path, SCANLET_PROJECTION_WORKER=setting) as api:
        api.create("menu")
        # A few scans are folded on the loop ...
        api.device_scans("menu", "2026-03-10T01:00:00Z", "2026-03-10T02:00:00Z")
        api.caught_up()
        before = api.client.get("/metrics").text
        # ... the backlogs in the worker.
        storage = api.app.state.services.storage
        for half in (visits[: backlog // 2], visits[backlog // 2 :]):
            api.client.portal.call(append, storage, half)  # type: ignore[union-attr]
            api.caught_up()
        period = {"from": "2026-03-10T00:00:00Z", "to": "2026-03-11T00:00:00Z"}
        stats = api.get("/api/v1/codes/menu/stats", **period).json()
        listed = api.get("/api/v1/codes/menu/scans", **period, limit=1000).json()
        after = api.client.get("/metrics").text
    assert stats["total"] == backlog + 2
    assert stats["by_device"] == {"mobile": backlog, "other": 2}
    assert len(listed["items"]) == backlog + 2
    if enabled:
        assert _metric(before, "scanlet_projection_worker_slices_total") == 0
        assert _metric(after, "scanlet_projection_worker_slices_total") >= 1
        assert _metric(after, "scanlet_projection_worker_failures_total") == 0
    else:
        assert "scanlet_projection_worker" not in after


def _metric(exposition: str, name: str) -> float:
    """The value of the unlabelled sample ``name`` in a /metrics text."""
    found = re.search(rf"^{name} (\S+)$", exposition, re.MULTILINE)
    assert found is not None, f"{name} not exposed"
    return float(found.group(1))
