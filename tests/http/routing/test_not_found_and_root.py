"""SCANLET_NOT_FOUND_URL and SCANLET_ROOT_URL: unknown slugs and the root go somewhere."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from scanlet.config import ConfigError, load_settings
from tests.http.routing.conftest import Api, start

T = "https://example.com/"


@pytest.fixture
def routed(scanlet_db: str, tmp_path: Path) -> Iterator[Api]:
    yield from start(
        scanlet_db,
        tmp_path,
        SCANLET_NOT_FOUND_URL="https://example.com/missing?code={slug}",
        SCANLET_ROOT_URL="https://example.com/home",
    )


def test_unknown_and_deleted_slugs_go_to_the_not_found_url_and_are_recorded(routed: Api) -> None:
    api = routed
    reply = api.scan("/q/nosuch")
    assert (reply.status_code, reply.headers["location"]) == (
        302,
        "https://example.com/missing?code=nosuch",
    )
    api.code(slug="gone", target=T)
    assert api.client.delete("/api/v1/codes/gone", headers=api.headers).status_code == 204
    assert api.went("/gone") == "https://example.com/missing?code=gone"
    orphans = api.listed("/api/v1/orphan-scans", expect=2)
    assert sorted(o["slug"] for o in orphans) == ["gone", "nosuch"]
    # A path that can be no slug at all is still a plain 404.
    assert api.scan("/not.a.slug").status_code == 404


def test_the_root_goes_to_the_root_url(routed: Api) -> None:
    reply = routed.client.get("/", follow_redirects=False)
    assert (reply.status_code, reply.headers["location"]) == (302, "https://example.com/home")


def test_without_them_unknown_slugs_and_the_root_answer_404_and_410(api: Api) -> None:
    assert api.scan("/nosuch").status_code == 404
    assert api.client.get("/").status_code == 404
    api.code(slug="gone", target=T)
    api.client.delete("/api/v1/codes/gone", headers=api.headers)
    assert api.scan("/gone").status_code == 410


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SCANLET_NOT_FOUND_URL", "javascript:alert(1)"),
        ("SCANLET_ROOT_URL", "https://user@evil.example/"),
        ("SCANLET_ROOT_URL", "/relative"),
    ],
)
def test_a_bad_url_stops_the_start_naming_the_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        load_settings({name: value}, isatty=False)
