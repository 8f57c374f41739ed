"""Domains (#15) with kinds (#16) and logos: a code on another domain may be compact, static
or a tracked vcard, and may have a logo; its links are on its domain's base URL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.http.routing.conftest import Api, start
from tests.http.routing.test_domains import LINKS, DomainsApi

A, B = "https://example.com/a", "https://example.com/b"
CARD = {"name": "Jane Doe", "phone": "+49 30 123", "email": "jane@example.com"}
SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 4 4"><rect width="4" height="4"/></svg>'
)


@pytest.fixture
def domains(api: Api) -> DomainsApi:
    return DomainsApi(api)


@pytest.fixture
def compact(scanlet_db: str, tmp_path: Path) -> Iterator[DomainsApi]:
    for api in start(scanlet_db, tmp_path, SCANLET_QR_COMPACT="true"):
        yield DomainsApi(api)


@pytest.mark.parametrize("traced", [False, True])
def test_compact_links_are_on_the_code_s_domain_and_fold_within_it(
    compact: DomainsApi, traced: bool
) -> None:
    api = compact.api
    compact.register()
    there = api.code(slug="Menu", target=B, domain=LINKS)
    assert there["qr_payload"] == "HTTPS://LINKS.EXAMPLE/Q/MENU"
    assert there["qr_compact"] is True
    assert there["short_url"] == "https://links.example/Menu"
    # The same slug ignoring case on another domain is another code, compact too.
    here = api.code(slug="MENU", target=A)
    assert here["qr_payload"] == "HTTP://QR.TEST/Q/MENU"
    # Within a domain a slug equal to a taken one ignoring case is refused.
    twin = api.create(slug="menu", target=A, domain=LINKS)
    assert twin.status_code == 409
    assert "ignoring case" in twin.json()["detail"]
    headers = {"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}
    for path in ("/Q/MENU", "/Q/menu", "/Q/Menu"):
        on_links = compact.api.client.get(
            path, headers={"host": LINKS, **(headers if traced else {})}, follow_redirects=False
        )
        assert on_links.headers["location"] == B, path
        on_default = compact.api.client.get(
            path, headers={"host": "qr.test", **(headers if traced else {})}, follow_redirects=False
        )
        assert on_default.headers["location"] == A, path
    scans = compact.there("/api/v1/codes/Menu/scans", expect=3)["items"]
    assert {(s["source"], s["target"]) for s in scans} == {("qr", B)}
    # A slug no code of the Host's domain has ignoring case names none there.
    api.code(slug="only-here", target=A)
    assert compact.scan("/Q/ONLY-HERE", LINKS).status_code == 404
    assert compact.scan("/Q/ONLY-HERE", "qr.test").headers["location"] == A


def test_a_static_code_on_a_domain_has_no_short_url(domains: DomainsApi) -> None:
    api = domains.api
    domains.register()
    code = api.code(kind="text", content={"text": "hello"}, slug="note", domain=LINKS)
    assert (code["domain"], code["tracked"], code["short_url"]) == (LINKS, False, None)
    assert code["qr_payload"] == "hello"
    assert domains.scan("/note", LINKS).status_code == 404
    listed = domains.there("/api/v1/codes")["items"]
    assert [(c["slug"], c["short_url"]) for c in listed] == [("note", None)]


@pytest.mark.parametrize("traced", [False, True])
def test_a_tracked_vcard_on_a_domain_answers_its_card(domains: DomainsApi, traced: bool) -> None:
    api = domains.api
    domains.register()
    code = api.code(kind="vcard", content=CARD, tracked=True, slug="jane", domain=LINKS)
    assert code["short_url"] == "https://links.example/jane"
    assert code["qr_payload"] == "https://links.example/q/jane"
    headers = {"host": LINKS}
    if traced:
        headers["traceparent"] = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    reply = api.client.get("/q/jane", headers=headers, follow_redirects=False)
    assert reply.status_code == 200, reply.text
    assert reply.headers["content-type"] == "text/vcard; charset=utf-8"
    assert reply.headers["content-disposition"] == 'attachment; filename="jane.vcf"'
    # On the default domain there is no such code.
    assert domains.scan("/q/jane", "qr.test").status_code == 404
    scans = domains.there("/api/v1/codes/jane/scans", expect=1)["items"]
    assert [(s["source"], s["outcome"]) for s in scans] == [("qr", "card")]


def test_a_code_on_a_domain_has_its_own_logo(domains: DomainsApi) -> None:
    api = domains.api
    client, headers = api.client, api.headers
    domains.register()
    api.code(slug="menu", target=A)
    api.code(slug="menu", target=B, domain=LINKS)
    put = client.put(
        f"/api/v1/codes/menu/logo?domain={LINKS}",
        content=SVG,
        headers={**headers, "content-type": "image/svg+xml"},
    )
    assert put.status_code == 200, put.text
    assert (put.json()["domain"], put.json()["has_logo"]) == (LINKS, True)
    assert client.get(f"/api/v1/codes/menu?domain={LINKS}", headers=headers).json()["has_logo"]
    assert client.get("/api/v1/codes/menu", headers=headers).json()["has_logo"] is False
    got = client.get(f"/api/v1/codes/menu/logo?domain={LINKS}", headers=headers)
    assert got.status_code == 200
    assert client.get("/api/v1/codes/menu/logo", headers=headers).status_code == 404
    image = client.get(
        f"/api/v1/codes/menu/qr?domain={LINKS}&format=svg&logo=true", headers=headers
    )
    assert image.status_code == 200, image.text
    gone = client.delete(f"/api/v1/codes/menu/logo?domain={LINKS}", headers=headers)
    assert gone.status_code in (200, 204), gone.text
    assert not client.get(f"/api/v1/codes/menu?domain={LINKS}", headers=headers).json()["has_logo"]
