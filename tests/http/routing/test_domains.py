"""Domains (issue #15): codes on several hosts, routed by the request's Host header."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from scanlet.actors.access.keys import Scope
from tests.http.routing.conftest import Api, start

A, B = "https://example.com/a", "https://example.com/b"
LINKS = "links.example"


class DomainsApi:
    """``Api`` with an admin key, for the domains routes."""

    def __init__(self, api: Api) -> None:
        self.api = api
        token = api.client.portal.call(self._mint)  # type: ignore[union-attr]
        self.admin = {"Authorization": f"Bearer {token}"}

    async def _mint(self) -> str:
        keys = self.api.app.state.services.keys
        return str((await keys.create("admin", Scope.ADMIN, now=datetime.now(UTC))).token)

    def register(self, host: str = LINKS, **body: Any) -> dict[str, Any]:
        made = self.api.client.post(
            "/api/v1/domains", json={"host": host, **body}, headers=self.admin
        )
        assert made.status_code == 201, made.text
        result: dict[str, Any] = made.json()
        return result

    def there(self, path: str, expect: int | None = None, **params: Any) -> Any:
        """A listing or figure of a code on LINKS (``?domain=`` with the other parameters),
        asked again until the log is read to ``expect`` items (see ``Api.listed``)."""
        for _ in range(400):
            self.api.caught_up()
            reply = self.api.client.get(
                path, params={"domain": LINKS, **params}, headers=self.api.headers
            )
            assert reply.status_code == 200, reply.text
            if expect is None or len(reply.json()["items"]) >= expect:
                return reply.json()
            time.sleep(0.05)
        raise AssertionError(f"{path} lists fewer than {expect}")

    def scan(self, path: str, host: str) -> Any:
        return self.api.client.get(path, headers={"host": host}, follow_redirects=False)


@pytest.fixture
def domains(api: Api) -> DomainsApi:
    return DomainsApi(api)


def _field(reply: Any) -> list[Any]:
    assert reply.status_code == 422, reply.text
    assert reply.headers["content-type"] == "application/problem+json"
    return [error["loc"] for error in reply.json()["errors"]]


def test_the_same_slug_on_two_domains_is_two_codes_routed_by_host(domains: DomainsApi) -> None:
    api = domains.api
    domains.register()
    here = api.code(slug="menu", target=A)
    there = api.code(slug="menu", target=B, domain=LINKS)
    assert (here["slug"], here["domain"], here["short_url"]) == (
        "menu",
        "qr.test",
        "http://qr.test/menu",
    )
    assert (there["slug"], there["domain"]) == ("menu", LINKS)
    assert there["short_url"] == "https://links.example/menu"
    assert there["qr_payload"] == "https://links.example/q/menu"
    assert domains.scan("/menu", "qr.test").headers["location"] == A
    assert domains.scan("/menu", LINKS).headers["location"] == B
    assert domains.scan("/q/menu", LINKS).headers["location"] == B
    # The Host is compared in lower case, without its port or a trailing dot.
    assert domains.scan("/menu", "LINKS.Example.:8443").headers["location"] == B
    # Any host no domain is registered for is the default domain: an IP literal, garbage.
    for other in (
        "elsewhere.example",
        "192.0.2.1:8000",
        "[2001:db8::1]:80",
        "%%%",
        "x" * 4000,
        ":",
    ):
        assert domains.scan("/menu", other).headers["location"] == A, other
    # A slug taken on one domain is free on the other, and taken again on its own.
    assert api.create(slug="menu", target=A, domain=LINKS).status_code == 409
    assert api.create(slug="only-there", target=B, domain=LINKS).status_code == 201
    assert domains.scan("/only-there", "qr.test").status_code == 404
    assert domains.scan("/only-there", LINKS).headers["location"] == B
    # Each scan is the code's own.
    assert [s["target"] for s in api.scans("menu", expect=7)] == [A] * 7
    there_scans = domains.there("/api/v1/codes/menu/scans", expect=3, limit=1000)
    assert [s["target"] for s in there_scans["items"]] == [B] * 3


def test_every_per_code_route_takes_the_domain(domains: DomainsApi) -> None:
    api = domains.api
    client, headers = api.client, api.headers
    domains.register()
    api.code(slug="menu", target=A)
    api.code(slug="menu", target=B, domain=LINKS, tags=["x"])
    one = f"/api/v1/codes/menu?domain={LINKS}"
    assert client.get(one, headers=headers).json()["target"] == B
    assert client.get("/api/v1/codes/menu?domain=qr.test", headers=headers).json()["target"] == A
    assert client.get("/api/v1/codes/menu?domain=QR.TEST.", headers=headers).json()["target"] == A
    changed = client.patch(one, json={"title": "There"}, headers=headers)
    assert (changed.status_code, changed.json()["title"]) == (200, "There")
    assert client.get("/api/v1/codes/menu", headers=headers).json()["title"] is None
    domains.scan("/menu", LINKS)
    image = client.get(f"/api/v1/codes/menu/qr?domain={LINKS}&format=svg", headers=headers)
    assert image.status_code == 200
    assert 'filename="menu.svg"' in image.headers["content-disposition"]
    default_image = client.get("/api/v1/codes/menu/qr?format=svg", headers=headers)
    assert default_image.headers["etag"] != image.headers["etag"]  # another payload
    window: dict[str, Any] = {"from": "2026-11-01T00:00:00Z", "to": "2026-12-31T00:00:00Z"}
    assert domains.there("/api/v1/codes/menu/scans", expect=1)["items"]
    assert domains.there("/api/v1/codes/menu/stats", **window)["total"] == 1
    assert api.stats("menu")["total"] == 0
    history = client.get(f"/api/v1/codes/menu/history?domain={LINKS}", headers=headers)
    assert [item["type"] for item in history.json()["items"]] == ["code.updated", "code.created"]
    # Lists filter by domain; without the filter they hold both.
    listed = client.get("/api/v1/codes", params={"domain": LINKS}, headers=headers).json()
    assert [(c["slug"], c["domain"]) for c in listed["items"]] == [("menu", LINKS)]
    default = client.get("/api/v1/codes", params={"domain": "qr.test"}, headers=headers).json()
    assert [(c["slug"], c["domain"]) for c in default["items"]] == [("menu", "qr.test")]
    both = client.get("/api/v1/codes", headers=headers).json()["items"]
    assert sorted(c["domain"] for c in both) == [LINKS, "qr.test"]
    assert client.delete(one, headers=headers).status_code == 204
    assert client.get(one, headers=headers).status_code == 404
    assert client.get("/api/v1/codes/menu", headers=headers).status_code == 200
    assert domains.scan("/menu", LINKS).status_code == 410  # deleted there, not here
    # A domain that is malformed or not registered is a 422 naming the parameter.
    for bad in ("nosuch.example", "a/b", "x" * 300, "127.0.0.1"):
        reply = client.get("/api/v1/codes/menu", params={"domain": bad}, headers=headers)
        assert _field(reply) == [["query", "domain"]], bad
        listing = client.get("/api/v1/codes", params={"domain": bad}, headers=headers)
        assert _field(listing) == [["query", "domain"]], bad
    refused = api.create(slug="new", target=A, domain="nosuch.example")
    assert _field(refused) == [["body", "domain"]]
    assert _field(api.create(slug="new", target=A, domain="https://links.example/")) == [
        ["body", "domain"]
    ]


def test_location_of_a_new_code_names_its_domain(domains: DomainsApi) -> None:
    domains.register()
    made = domains.api.create(slug="menu", target=A, domain="Links.Example")
    assert made.headers["location"] == f"/api/v1/codes/menu?domain={LINKS}"
    follow = domains.api.client.get(made.headers["location"], headers=domains.api.headers)
    assert follow.json()["target"] == A


@pytest.fixture
def server_wide(scanlet_db: str, tmp_path: Path) -> Iterator[DomainsApi]:
    for api in start(
        scanlet_db,
        tmp_path,
        SCANLET_NOT_FOUND_URL="https://example.com/server-missing/{slug}",
        SCANLET_ROOT_URL="https://example.com/server-home",
    ):
        yield DomainsApi(api)


def test_not_found_and_root_urls_per_domain_fall_back_to_the_server_wide(
    server_wide: DomainsApi,
) -> None:
    domains, api = server_wide, server_wide.api
    domains.register(
        not_found_url="https://links.example.org/missing?code={slug}",
        root_url="https://links.example.org/",
    )
    domains.register("plain.example")
    missing = domains.scan("/nosuch", LINKS)
    assert (missing.status_code, missing.headers["location"]) == (
        302,
        "https://links.example.org/missing?code=nosuch",
    )
    root = domains.scan("/", LINKS)
    assert (root.status_code, root.headers["location"]) == (302, "https://links.example.org/")
    for host in ("plain.example", "qr.test"):
        assert domains.scan("/nosuch", host).headers["location"] == (
            "https://example.com/server-missing/nosuch"
        )
        assert domains.scan("/", host).headers["location"] == "https://example.com/server-home"
    # Still recorded as orphans, each under its domain.
    orphans = api.listed("/api/v1/orphan-scans", expect=3)
    assert sorted(o["slug"] for o in orphans) == [
        "links.example/nosuch",
        "nosuch",
        "plain.example/nosuch",
    ]


def test_not_found_and_root_urls_without_server_wide_ones(domains: DomainsApi) -> None:
    domains.register(root_url="https://links.example.org/")
    assert domains.scan("/", LINKS).headers["location"] == "https://links.example.org/"
    assert domains.scan("/", "qr.test").status_code == 404
    assert domains.scan("/nosuch", LINKS).status_code == 404


def test_a_name_in_another_script_is_registered_in_its_ascii_form(domains: DomainsApi) -> None:
    made = domains.register("XN--BCHER-KVA.example")
    assert made["host"] == "xn--bcher-kva.example"
    domains.api.code(slug="menu", target=A, domain="xn--bcher-kva.example")
    assert domains.scan("/menu", "xn--bcher-kva.example").headers["location"] == A


def test_domains_are_managed_by_admins(domains: DomainsApi) -> None:
    api, client, admin = domains.api, domains.api.client, domains.admin
    made = domains.register("Links.Example.", not_found_url="https://example.com/x/{slug}")
    assert made["host"] == LINKS
    assert made["base_url"] == "https://links.example"
    assert made["codes"] == 0
    assert client.get("/api/v1/domains", headers=admin).json()["items"] == [made]
    assert client.get(f"/api/v1/domains/{LINKS.upper()}", headers=admin).json() == made
    changed = client.patch(
        f"/api/v1/domains/{LINKS}",
        json={"base_url": "http://links.example:8080/", "not_found_url": None},
        headers=admin,
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["base_url"], changed.json()["not_found_url"]) == (
        "http://links.example:8080",
        None,
    )
    code = api.code(slug="menu", target=A, domain=LINKS)
    assert code["short_url"] == "http://links.example:8080/menu"
    assert client.get(f"/api/v1/domains/{LINKS}", headers=admin).json()["codes"] == 1
    # A target on a registered domain would loop back here.
    looping = api.create(target="http://links.example:8080/menu")
    assert _field(looping) == [["body", "target"]]
    # Not while it has codes.
    busy = client.delete(f"/api/v1/domains/{LINKS}", headers=admin)
    assert busy.status_code == 409
    assert busy.headers["content-type"] == "application/problem+json"
    client.delete(f"/api/v1/codes/menu?domain={LINKS}", headers=api.headers)
    assert client.delete(f"/api/v1/domains/{LINKS}", headers=admin).status_code == 204
    assert client.get(f"/api/v1/domains/{LINKS}", headers=admin).status_code == 404
    assert client.delete(f"/api/v1/domains/{LINKS}", headers=admin).status_code == 404
    assert client.get("/api/v1/domains", headers=admin).json()["items"] == []
    # Once removed, its Host is the default domain's again.
    api.code(slug="menu", target=B)
    assert domains.scan("/menu", LINKS).headers["location"] == B
    # Write keys create codes on domains but do not manage them.
    assert client.get("/api/v1/domains", headers=api.headers).status_code == 403
    post = client.post("/api/v1/domains", json={"host": "x.example"}, headers=api.headers)
    assert post.status_code == 403


@pytest.mark.parametrize(
    "host",
    [
        "https://links.example",
        "links.example/path",
        "links.example:8080",
        "user@links.example",
        "links example",
        "",
        "a" * 64 + ".example",  # a label over 63
        ("a" * 62 + ".") * 4 + "example",  # a name over 253
        "-links.example",
        "links..example",
        "127.0.0.1",
        "0x7f.1",
        "[::1]",
        "::1",
        "links.example\u0000",
        "bücher.example",  # its xn-- form is what requests carry
        "links.1abc",  # a last label starting with a digit
    ],
)
def test_bad_hosts_are_refused_naming_the_field(domains: DomainsApi, host: str) -> None:
    client, admin = domains.api.client, domains.admin
    reply = client.post("/api/v1/domains", json={"host": host}, headers=admin)
    assert _field(reply) == [["body", "host"]], reply.text


def test_bad_domain_bodies_are_refused(domains: DomainsApi) -> None:
    client, admin = domains.api.client, domains.admin

    def post(**body: Any) -> Any:
        return client.post("/api/v1/domains", json={"host": LINKS, **body}, headers=admin)

    assert _field(post(base_url="https://other.example")) == [["body", "base_url"]]
    assert _field(post(base_url="")) == [["body", "base_url"]]
    assert _field(post(base_url="https://links.example/path")) == [["body", "base_url"]]
    assert _field(post(base_url="javascript:alert(1)")) == [["body", "base_url"]]
    assert _field(post(not_found_url="https://user@evil.example/")) == [["body", "not_found_url"]]
    assert _field(post(root_url="/relative")) == [["body", "root_url"]]
    assert post(extra=1).status_code == 422
    # The default domain is not registered; nor is one twice.
    assert (
        client.post("/api/v1/domains", json={"host": "QR.test"}, headers=admin).status_code == 409
    )
    domains.register()
    twice = post()
    assert twice.status_code == 409
    assert [e["loc"] for e in twice.json()["errors"]] == [["body", "host"]]
    for path in ("/api/v1/domains/a%2Fb", "/api/v1/domains/127.0.0.1"):
        assert client.get(path, headers=admin).status_code in (404, 422), path
    assert _field(client.get("/api/v1/domains/127.0.0.1", headers=admin)) == [["path", "host"]]
    patch = client.patch(
        f"/api/v1/domains/{LINKS}", json={"root_url": "ftp://x.example/"}, headers=admin
    )
    assert _field(patch) == [["body", "root_url"]]
    missing = client.patch("/api/v1/domains/nosuch.example", json={}, headers=admin)
    assert missing.status_code == 404


def test_a_protected_code_on_a_domain_takes_its_password_there(domains: DomainsApi) -> None:
    api = domains.api
    domains.register()
    api.code(slug="menu", target=A)
    api.code(slug="menu", target=B, domain=LINKS, password="open sesame")
    form = domains.scan("/menu", LINKS)
    assert (form.status_code, "type=password" in form.text) == (200, True)
    unlocked = api.client.post(
        "/menu",
        data={"password": "open sesame"},
        headers={"host": LINKS},
        follow_redirects=False,
    )
    assert (unlocked.status_code, unlocked.headers["location"]) == (302, B)
    # The default domain's code of the same slug has no password: a POST there is a 405.
    assert api.client.post("/menu", data={"password": "x"}).status_code == 405
    assert domains.scan("/menu", "qr.test").headers["location"] == A
