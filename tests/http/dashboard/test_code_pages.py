"""Codes in the dashboard: list, search, pages, create, edit, enable, delete; escaped output."""

from __future__ import annotations

import re

import pytest
from starlette.testclient import TestClient

from scanlet.actors.access.keys import Scope
from tests.http.dashboard.conftest import SignIn, api_create, caught_up, csrf_of, post_form

XSS = "<script>alert(1)</script>"


def test_the_list_shows_slug_title_target_scans_and_a_qr_image(
    client: TestClient, sign_in: SignIn
) -> None:
    key = sign_in(Scope.WRITE)
    api_create(client, key, target="https://example.com/menu", slug="menu", title="Menu")
    assert client.get("/menu", follow_redirects=False).status_code == 302
    page = client.get("/dashboard/codes")
    assert page.status_code == 200
    row = re.search(r"<tr>.*?</tr>", page.text.split("<tbody>")[1], re.S)
    assert row is not None
    for text in ('href="/dashboard/codes/menu"', "Menu", "https://example.com/menu"):
        assert text in row.group(0)
    assert re.search(r'<td class="num">1</td>', row.group(0))
    assert 'src="/dashboard/codes/menu/qr?scale=2&amp;border=1"' in row.group(0)
    image = client.get("/dashboard/codes/menu/qr?scale=2&border=1")
    assert image.headers["content-type"] == "image/svg+xml"


def test_search_and_tag_filter_narrow_the_list(client: TestClient, sign_in: SignIn) -> None:
    key = sign_in(Scope.WRITE)
    api_create(client, key, target="https://example.com/a", slug="alpha", tags=["print"])
    api_create(client, key, target="https://example.com/b", slug="beta", title="Menu")
    searched = client.get("/dashboard/codes", params={"q": "menu"}).text
    assert "/dashboard/codes/beta" in searched
    assert "/dashboard/codes/alpha" not in searched
    tagged = client.get("/dashboard/codes", params={"tag": "print"}).text
    assert "/dashboard/codes/alpha" in tagged
    assert "/dashboard/codes/beta" not in tagged


def test_the_list_pages_through_many_codes(client: TestClient, sign_in: SignIn) -> None:
    key = sign_in(Scope.WRITE)
    for n in range(27):
        api_create(client, key, target=f"https://example.com/{n}", slug=f"c{n:02d}")
    first = client.get("/dashboard/codes").text
    assert first.count('class="thumb"') == 25
    next_url = re.search(r'href="([^"]+)" rel="next"', first)
    assert next_url is not None
    second = client.get(next_url.group(1).replace("&amp;", "&")).text
    assert second.count('class="thumb"') == 2
    assert 'rel="next"' not in second
    assert "First page" in second


def test_a_code_created_from_the_form_gets_its_page(client: TestClient, sign_in: SignIn) -> None:
    sign_in(Scope.WRITE)
    answer = post_form(
        client,
        "/dashboard/new",
        "/dashboard/new",
        target="https://example.com/tickets",
        title="Tickets",
        tags="events, print,",
        slug="tickets",
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == "/dashboard/codes/tickets?done=created"
    page = client.get(answer.headers["location"]).text
    assert "The code was created." in page
    assert 'data-testid="scan-count"' in page
    assert "http://qr.test/tickets" in page
    assert ">events</a>" in page
    assert ">print</a>" in page


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"target": ""}, "target", "enter the URL"),
        ({"target": "javascript:alert(1)"}, "target", "http"),
        ({"target": "http://qr.test/menu"}, "target", "must not point at this server"),
        ({"target": "https://example.com/", "slug": "bad slug!"}, "slug", "letters"),
        ({"target": "https://example.com/", "slug": "api"}, "slug", "reserved"),
        ({"target": "https://example.com/", "title": "x" * 201}, "title", "at most 200"),
    ],
)
def test_validation_errors_are_shown_next_to_their_field(
    client: TestClient, sign_in: SignIn, fields: dict[str, str], field: str, message: str
) -> None:
    sign_in(Scope.WRITE)
    answer = post_form(client, "/dashboard/new", "/dashboard/new", **fields)
    assert answer.status_code == 422
    assert answer.headers["content-type"].startswith("text/html")
    error = re.search(rf'<p class="field-error" id="f-{field}-error"[^>]*>([^<]*)</p>', answer.text)
    assert error is not None, answer.text
    assert message in error.group(1)
    assert f'id="f-{field}" name="{field}"' in answer.text
    assert 'aria-invalid="true"' in answer.text


def test_a_taken_slug_is_an_error_on_the_slug_field(client: TestClient, sign_in: SignIn) -> None:
    key = sign_in(Scope.WRITE)
    api_create(client, key, target="https://example.com/", slug="menu")
    answer = post_form(
        client, "/dashboard/new", "/dashboard/new", target="https://example.com/", slug="menu"
    )
    assert answer.status_code == 422
    assert 'id="f-slug-error"' in answer.text
    assert 'value="https://example.com/"' in answer.text


def test_editing_changes_target_title_and_tags(client: TestClient, sign_in: SignIn) -> None:
    key = sign_in(Scope.WRITE)
    api_create(client, key, target="https://example.com/old", slug="menu", title="Old")
    form = client.get("/dashboard/codes/menu/edit")
    assert 'value="https://example.com/old"' in form.text
    answer = post_form(
        client,
        "/dashboard/codes/menu/edit",
        "/dashboard/codes/menu/edit",
        target="https://example.com/new",
        title="",
        tags="a, b",
    )
    assert answer.headers["location"] == "/dashboard/codes/menu?done=updated"
    code = client.get("/api/v1/codes/menu", headers={"Authorization": f"Bearer {key}"}).json()
    assert (code["target"], code["title"], code["tags"]) == (
        "https://example.com/new",
        None,
        ["a", "b"],
    )
    bad = post_form(
        client, "/dashboard/codes/menu/edit", "/dashboard/codes/menu/edit", target="nope"
    )
    assert bad.status_code == 422
    assert 'id="f-target-error"' in bad.text


def test_disabling_and_enabling_a_code(client: TestClient, sign_in: SignIn) -> None:
    key = sign_in(Scope.WRITE)
    api_create(client, key, target="https://example.com/", slug="menu")
    page = "/dashboard/codes/menu"
    answer = post_form(client, f"{page}/enabled", page, enabled="false")
    assert answer.headers["location"] == f"{page}?done=disabled"
    assert client.get("/menu", follow_redirects=False).status_code == 410
    assert ">Enable</button>" in client.get(page).text
    post_form(client, f"{page}/enabled", page, enabled="true")
    assert client.get("/menu", follow_redirects=False).status_code == 302


def test_deleting_asks_first_then_deletes(client: TestClient, sign_in: SignIn) -> None:
    key = sign_in(Scope.WRITE)
    api_create(client, key, target="https://example.com/", slug="menu")
    confirm = client.get("/dashboard/codes/menu/delete")
    assert "Delete for good" in confirm.text
    assert (
        client.get("/menu", follow_redirects=False).status_code == 302
    )  # looking at the question changes nothing
    answer = post_form(client, "/dashboard/codes/menu/delete", "/dashboard/codes/menu/delete")
    assert answer.headers["location"] == "/dashboard/codes?done=deleted"
    assert client.get("/menu", follow_redirects=False).status_code == 410
    gone = client.get("/dashboard/codes/menu")
    assert gone.status_code == 404
    assert gone.headers["content-type"].startswith("text/html")


def test_a_form_without_its_csrf_token_changes_nothing(client: TestClient, sign_in: SignIn) -> None:
    key = sign_in(Scope.WRITE)
    api_create(client, key, target="https://example.com/", slug="menu")
    for path in ("/dashboard/codes/menu/delete", "/dashboard/codes/menu/enabled"):
        answer = client.post(path, data={"enabled": "false"})
        assert answer.status_code == 403
        assert answer.headers["content-type"].startswith("text/html")
    assert client.get("/menu", follow_redirects=False).status_code == 302


def test_a_read_key_sees_everything_but_cannot_change_anything(
    client: TestClient, sign_in: SignIn, mint_key: object
) -> None:
    writer = sign_in(Scope.WRITE)
    api_create(client, writer, target="https://example.com/", slug="menu")
    sign_in(Scope.READ)
    page = client.get("/dashboard/codes/menu")
    assert page.status_code == 200
    assert "/dashboard/codes/menu/edit" not in page.text
    assert 'action="/dashboard/codes/menu/enabled"' not in page.text
    assert 'href="/dashboard/new"' not in client.get("/dashboard/codes").text
    csrf = csrf_of(page.text)  # the sign-out form's token is a valid session token
    for path, data in [
        ("/dashboard/new", {"target": "https://example.com/x"}),
        ("/dashboard/codes/menu/edit", {"target": "https://example.com/x"}),
        ("/dashboard/codes/menu/enabled", {"enabled": "false"}),
        ("/dashboard/codes/menu/delete", {}),
    ]:
        answer = client.post(path, data={"csrf": csrf, **data})
        assert answer.status_code == 403, path
        assert "acts as viewer: it can look but not change" in answer.text
    assert client.get("/dashboard/new").status_code == 403
    assert client.get("/menu", follow_redirects=False).status_code == 302


def test_user_input_is_escaped_on_every_page(client: TestClient, sign_in: SignIn) -> None:
    key = sign_in(Scope.WRITE)
    api_create(
        client, key, target="https://example.com/?q=<script>", slug="x", title=XSS, tags=[XSS]
    )
    for path in (
        "/dashboard/codes",
        "/dashboard/codes/x",
        "/dashboard/codes/x/edit",
        "/dashboard/codes/x/delete",
        "/dashboard",
        f"/dashboard/codes?q={XSS}",
    ):
        html = client.get(path).text
        assert XSS not in html, path
        assert "<script>" not in html.replace('<script src="/dashboard/static/', ""), path
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in client.get("/dashboard/codes/x").text


def test_pages_carry_a_strict_csp_and_no_inline_script_or_style(
    client: TestClient, sign_in: SignIn
) -> None:
    key = sign_in(Scope.WRITE)
    api_create(client, key, target="https://example.com/", slug="menu")
    client.get("/menu", follow_redirects=False)
    for path in ("/dashboard", "/dashboard/codes", "/dashboard/codes/menu", "/dashboard/new"):
        answer = client.get(path)
        csp = answer.headers["content-security-policy"]
        assert "script-src 'self'" in csp
        assert "default-src 'none'" in csp
        assert "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
        assert answer.headers["cache-control"] == "no-store"
        assert answer.headers["x-frame-options"] == "DENY"  # once, from the app's middleware
        assert not re.search(r"<script(?![^>]*\bsrc=)", answer.text), path
        assert not re.search(r"\sstyle=|<style|\son[a-z]+=", answer.text), path


def test_the_code_page_has_qr_downloads_short_link_chart_breakdowns_and_latest_scans(
    client: TestClient, sign_in: SignIn
) -> None:
    key = sign_in(Scope.WRITE)
    api_create(client, key, target="https://example.com/", slug="menu")
    iphone = (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15"
        " (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"
    )
    client.get(
        "/q/menu",
        follow_redirects=False,
        headers={"user-agent": iphone, "referer": "https://news.example/"},
    )
    client.get("/menu", follow_redirects=False, headers={"user-agent": "curl/8.0"})
    caught_up(client)
    page = client.get("/dashboard/codes/menu?range=7d&interval=day&ecc=H&dark=%23112233").text
    assert '<span data-testid="scan-count" id="scan-count" aria-live="polite">2</span>' in page
    assert 'download="menu.svg"' in page
    assert 'download="menu.png"' in page
    assert "/dashboard/codes/menu/qr?format=svg&amp;border=4&amp;ecc=H&amp;" in page
    assert "dark=%23112233" in page
    assert 'value="http://qr.test/menu"' in page
    assert 'data-copy="#short-url"' in page
    assert 'role="img"' in page
    assert "Scans (bots excluded)" in page
    headings = ("Device", "Operating system", "Browser", "Referrer", "Source", "Country")
    for heading in (*headings, "Target", "Rule"):
        assert f"<h3>{heading}</h3>" in page
    assert "news.example" in page
    assert "iOS" in page
    assert page.count("<time datetime=") >= 4  # two scans + created/updated


def test_bad_selector_values_are_an_html_error_not_problem_json(
    client: TestClient, sign_in: SignIn
) -> None:
    key = sign_in(Scope.WRITE)
    api_create(client, key, target="https://example.com/", slug="menu")
    for query in ("range=forever", "interval=minute", "tz=Mars/Olympus"):
        answer = client.get(f"/dashboard/codes/menu?{query}")
        assert answer.status_code == 422, query
        assert answer.headers["content-type"].startswith("text/html")


def test_unknown_dashboard_paths_are_html_but_api_errors_stay_problem_json(
    client: TestClient, sign_in: SignIn
) -> None:
    sign_in(Scope.READ)
    for path in ("/dashboard/nothing/here", "/dashboard/codes/missing", "/dashboard/static/x.js"):
        answer = client.get(path)
        assert answer.status_code == 404, path
        assert answer.headers["content-type"].startswith("text/html"), path
    api = client.get("/api/v1/codes")
    assert api.status_code == 401
    assert api.headers["content-type"] == "application/problem+json"


def test_images_and_the_stream_need_a_session_and_answer_401_without(
    client: TestClient, sign_in: SignIn
) -> None:
    key = sign_in(Scope.WRITE)
    api_create(client, key, target="https://example.com/", slug="menu")
    client.cookies.clear()
    assert client.get("/dashboard/codes/menu/qr").status_code == 401
    assert client.get("/dashboard/stream?slug=menu").status_code == 401


def test_static_files_are_served_from_the_package(client: TestClient) -> None:
    page = client.get("/dashboard/sign-in").text
    for name, media in (("dashboard.css", "text/css"), ("dashboard.js", "text/javascript")):
        url = re.search(rf'"(/dashboard/static/{name}\?v=[0-9a-f]+)"', page)
        assert url is not None, name
        answer = client.get(url.group(1))
        assert answer.headers["content-type"].startswith(media)
        assert "immutable" in answer.headers["cache-control"]


LOOKALIKE = "https://\u0430pple.com/login"  # "apple" with a Cyrillic a
LOOKALIKE_SHOWN = "https://xn--pple-43d.com/login"
WARNING = "Look-alike host"


def test_a_lookalike_target_is_shown_in_ascii_with_a_warning_on_every_page(
    client: TestClient, sign_in: SignIn
) -> None:
    key = sign_in(Scope.WRITE)
    api_create(client, key, target=LOOKALIKE, slug="spoof")
    pages = {
        "list": client.get("/dashboard/codes").text,
        "code": client.get("/dashboard/codes/spoof").text,
        "delete": client.get("/dashboard/codes/spoof/delete").text,
        "edit": client.get("/dashboard/codes/spoof/edit").text,
    }
    for name, page in pages.items():
        assert LOOKALIKE_SHOWN in page, name
        assert WARNING in page, name
    for name in ("list", "code", "delete"):
        assert "\u0430pple" not in pages[name], name
    # The edit form keeps the stored value in its field, so saving changes nothing unasked.
    assert f'value="{LOOKALIKE}"' in pages["edit"]


def test_an_ordinary_idn_target_is_shown_in_unicode_without_a_warning(
    client: TestClient, sign_in: SignIn
) -> None:
    key = sign_in(Scope.WRITE)
    api_create(client, key, target="https://b\u00fccher.de/", slug="books")
    for page in (client.get("/dashboard/codes").text, client.get("/dashboard/codes/books").text):
        assert "https://b\u00fccher.de/" in page
        assert "xn--" not in page
        assert WARNING not in page


def test_the_code_page_shows_scans_by_target_and_by_rule(
    client: TestClient, sign_in: SignIn
) -> None:
    key = sign_in(Scope.WRITE)
    rule = {"when": {"os": "ios"}, "target": "https://example.com/ios-only"}
    api_create(client, key, target="https://example.com/", slug="routed", rules=[rule])
    iphone = (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15"
        " (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"
    )
    client.get("/routed", follow_redirects=False, headers={"user-agent": iphone})
    caught_up(client)
    page = client.get("/dashboard/codes/routed").text
    by_rule = page.split("<h3>Rule</h3>", 1)[1]
    assert "rules[0]" in by_rule
    by_target = page.split("<h3>Target</h3>", 1)[1].split("<h3>", 1)[0]
    assert "https://example.com/ios-only" in by_target
