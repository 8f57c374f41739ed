"""Domains in the dashboard: the admins' domains page, the code form's domain select, the
list's domain filter, and links that name a code on another domain by its domain."""

from __future__ import annotations

from starlette.testclient import TestClient

from scanlet.actors.access.keys import Scope
from tests.http.dashboard.conftest import SignIn, api_create, post_form

LINKS = "links.example"


def test_admins_add_and_remove_domains(client: TestClient, sign_in: SignIn) -> None:
    key = sign_in(Scope.ADMIN)
    page = client.get("/dashboard/domains")
    assert page.status_code == 200
    assert "No domain besides the default one yet." in page.text
    assert 'href="/dashboard/domains"' in page.text  # in the navigation, for admins
    added = post_form(client, "/dashboard/domains", "/dashboard/domains", host="Links.Example")
    assert (added.status_code, added.headers["location"]) == (303, "/dashboard/domains?done=added")
    listed = client.get("/dashboard/domains").text
    assert "https://links.example" in listed
    refused = post_form(
        client, "/dashboard/domains", "/dashboard/domains", host="https://x.example/"
    )
    assert refused.status_code == 422
    assert "must be a host name alone" in refused.text
    twice = post_form(client, "/dashboard/domains", "/dashboard/domains", host=LINKS)
    assert (twice.status_code, "is registered already" in twice.text) == (422, True)
    api_create(client, key, target="https://example.com/there", slug="menu", domain=LINKS)
    busy = post_form(client, f"/dashboard/domains/{LINKS}/delete", "/dashboard/domains")
    assert busy.status_code == 422
    assert "still has 1 code" in busy.text
    answer = client.delete(
        f"/api/v1/codes/menu?domain={LINKS}", headers={"Authorization": f"Bearer {key}"}
    )
    assert answer.status_code == 204
    removed = post_form(client, f"/dashboard/domains/{LINKS}/delete", "/dashboard/domains")
    assert removed.headers["location"] == "/dashboard/domains?done=removed"
    assert "No domain besides the default one yet." in client.get("/dashboard/domains").text


def test_editors_do_not_manage_domains(client: TestClient, sign_in: SignIn) -> None:
    sign_in(Scope.WRITE)
    assert client.get("/dashboard/domains").status_code == 403
    assert 'href="/dashboard/domains"' not in client.get("/dashboard/codes").text


def test_codes_on_another_domain_in_the_list_form_and_pages(
    client: TestClient, sign_in: SignIn
) -> None:
    key = sign_in(Scope.ADMIN)
    # No domain registered: neither the form's select nor the list's filter is shown.
    assert 'name="domain"' not in client.get("/dashboard/new").text
    post_form(client, "/dashboard/domains", "/dashboard/domains", host=LINKS)
    api_create(client, key, target="https://example.com/here", slug="menu")
    form = client.get("/dashboard/new").text
    assert f'<option value="{LINKS}">' in form
    assert '<option value="qr.test">' in form
    made = post_form(
        client,
        "/dashboard/new",
        "/dashboard/new",
        target="https://example.com/there",
        slug="menu",
        domain=LINKS,
    )
    assert made.headers["location"] == f"/dashboard/codes/menu?domain={LINKS}&done=created"
    there = client.get(made.headers["location"]).text
    assert "https://example.com/there" in there
    assert "https://links.example/menu" in there
    assert f'href="/dashboard/codes/menu/edit?domain={LINKS}"' in there
    assert f'data-live-slug="{LINKS}/menu"' in there
    here = client.get("/dashboard/codes/menu").text
    assert "https://example.com/here" in here
    assert 'href="/dashboard/codes/menu/edit"' in here
    image = client.get(f"/dashboard/codes/menu/qr?domain={LINKS}&format=svg")
    assert image.status_code == 200
    # The list: both, each linking to its own; filtered by domain.
    both = client.get("/dashboard/codes").text
    assert f'href="/dashboard/codes/menu?domain={LINKS}"' in both
    assert 'href="/dashboard/codes/menu"' in both
    only = client.get("/dashboard/codes", params={"domain": LINKS}).text
    assert f'href="/dashboard/codes/menu?domain={LINKS}"' in only
    assert 'href="/dashboard/codes/menu"' not in only
    default = client.get("/dashboard/codes", params={"domain": "qr.test"}).text
    assert 'href="/dashboard/codes/menu"' in default
    assert f"domain={LINKS}" not in default
    assert client.get("/dashboard/codes", params={"domain": "nosuch.example"}).status_code == 422
    # Edited through its page: the other domain's code stays as it was.
    saved = post_form(
        client,
        f"/dashboard/codes/menu/edit?domain={LINKS}",
        f"/dashboard/codes/menu/edit?domain={LINKS}",
        target="https://example.com/moved",
        title="",
        tags="",
    )
    assert saved.headers["location"] == f"/dashboard/codes/menu?domain={LINKS}&done=updated"
    assert client.get("/menu", headers={"host": LINKS}, follow_redirects=False).headers[
        "location"
    ] == ("https://example.com/moved")
    assert client.get("/menu", follow_redirects=False).headers["location"] == (
        "https://example.com/here"
    )
    # A domain nobody registered, chosen by a hand-made form: refused next to the field.
    refused = post_form(
        client,
        "/dashboard/new",
        "/dashboard/new",
        target="https://example.com/x",
        domain="nosuch.example",
    )
    assert refused.status_code == 422
    assert "no domain &#39;nosuch.example&#39; is registered" in refused.text
