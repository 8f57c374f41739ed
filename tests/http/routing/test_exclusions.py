"""Your own scans: redirected as usual, recorded as excluded, out of every figure unless
asked for (SCANLET_EXCLUDE_FROM and the exclude-me cookie)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from scanlet.config import ConfigError, load_settings
from tests.http.routing.conftest import Api, start

T = "https://example.com/"
OFFICE = "198.51.100.0/24"


@pytest.fixture
def office(scanlet_db: str, tmp_path: Path) -> Iterator[Api]:
    yield from start(scanlet_db, tmp_path, SCANLET_EXCLUDE_FROM=f"{OFFICE}, 2001:db8::/32")


def test_scans_from_excluded_networks_redirect_and_stay_out_of_the_figures(office: Api) -> None:
    api = office
    api.code(slug="m", target=T, rules=[{"when": {"os": "ios"}, "target": T + "ios"}])
    assert api.went("/m", ip="198.51.100.20") == T + "ios"
    assert api.went("/q/m", ip="2001:db8::7", traced=True) == T + "ios"
    assert api.went("/m", ip="203.0.113.9") == T + "ios"
    scans = api.scans("m", expect=3)
    assert [s["excluded"] for s in scans] == [True, True, False]
    stats = api.stats("m")
    assert (stats["total"], stats["unique_visitors"], stats["excluded"]) == (1, 1, 2)
    assert stats["by_rule"] == {"rules[0]": 1}
    assert sum(bucket["scans"] for bucket in stats["series"]) == 1
    everything = api.client.get(
        "/api/v1/codes/m/stats",
        params={
            "from": "2026-11-01T00:00:00Z",
            "to": "2026-12-31T00:00:00Z",
            "include_excluded": "true",
        },
        headers=api.headers,
    ).json()
    assert (everything["total"], everything["unique_visitors"]) == (3, 3)
    assert everything["by_source"] == {"link": 2, "qr": 1}
    assert everything["include_excluded"] is True
    overall = api.client.get(
        "/api/v1/stats",
        params={"from": "2026-11-01T00:00:00Z", "to": "2026-12-31T00:00:00Z"},
        headers=api.headers,
    ).json()
    assert overall["top_codes"][0]["scans"] == 1
    assert overall["excluded"] == 2
    # Excluded scans still count towards nothing else either: the code's counter is the
    # scans actor's (what max_scans limits), and they were sent to the target.
    csv = api.client.get("/api/v1/codes/m/scans?format=csv", headers=api.headers).text
    assert csv.splitlines()[0].endswith(",target,rule,outcome,excluded")


def test_the_exclude_me_cookie_marks_a_browsers_scans(api: Api) -> None:
    api.code(slug="c", target=T)
    api.client.cookies.set("scanlet_exclude", "1")
    assert api.went("/c") == T
    assert api.went("/c", traced=True) == T
    api.client.cookies.clear()
    api.client.cookies.set("scanlet_exclude", "0")
    assert api.went("/c") == T
    assert [s["excluded"] for s in api.scans("c", expect=3)] == [True, True, False]
    assert api.stats("c")["total"] == 1


def test_a_bad_exclude_from_stops_the_start_with_the_variable_named() -> None:
    with pytest.raises(ConfigError, match="SCANLET_EXCLUDE_FROM"):
        load_settings({"SCANLET_EXCLUDE_FROM": "10.0.0.0/33"}, isatty=False)
