"""The design panel of a code's page: options, downloads, and the logo upload and removal."""

from __future__ import annotations

import html
import re

from starlette.testclient import TestClient

from scanlet.actors.access.keys import Scope
from scanlet.http.dashboard.design import DEFAULTS, design_of
from tests.http.dashboard.conftest import SignIn, api_create, csrf_of, post_form

SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 4 4">'
    b'<circle cx="2" cy="2" r="2" fill="#1565c0"/></svg>'
)
_PREVIEW = re.compile(r'id="qr-preview" class="qr" src="([^"]+)"')


def preview_of(page: str) -> str:
    found = _PREVIEW.search(page)
    assert found is not None, "no preview on the page"
    return html.unescape(found.group(1))


def test_a_size_with_its_unit_and_dpi_make_the_qr_query() -> None:
    design = design_of(
        {"format": "pdf", "size_value": "30", "size_unit": "mm", "dpi": "600", "shape": "dots"},
        has_logo=False,
    )
    assert design.error is None
    assert design.query["size"] == "30mm"
    assert design.query["dpi"] == "600"
    assert "scale" not in design.query
    # A PDF is previewed as its SVG; each download keeps the options in its own format.
    assert "format=svg" in design.preview("/q")
    downloads = dict(design.downloads("/q"))
    assert list(downloads) == ["svg", "png", "pdf", "eps"]
    assert "format=pdf" in downloads["pdf"]
    assert "download=true" in downloads["pdf"]
    assert "size=30mm" in downloads["pdf"]


def test_logo_is_asked_for_only_when_the_code_has_one() -> None:
    assert "logo" not in design_of({"logo": "true"}, has_logo=False).query
    assert design_of({"logo": "true"}, has_logo=True).query["logo"] == "true"


def test_options_the_renderer_refuses_fall_back_to_defaults_with_the_reason() -> None:
    design = design_of({"dark": "#ffffff", "light": "#ffffff"}, has_logo=False)
    assert design.error == "dark: must differ from light, or the code cannot be read"
    assert design.values == DEFAULTS
    assert design_of({"size_value": "30", "size_unit": "furlong"}, has_logo=False).error


def test_the_page_shows_every_option_and_a_download_per_format(
    client: TestClient, sign_in: SignIn
) -> None:
    key = sign_in(Scope.WRITE)
    api_create(client, key, target="https://example.com/", slug="menu")
    page = client.get("/dashboard/codes/menu?size_value=3&size_unit=cm&shape=rounded").text
    for name in ("format", "size_value", "size_unit", "dpi", "shape", "dark", "light", "finder"):
        assert f'name="{name}"' in page
    assert 'name="label"' in page
    assert 'name="logo" value="true" disabled' in page  # no logo yet
    for fmt in ("svg", "png", "pdf", "eps"):
        assert f'id="download-{fmt}"' in page
    preview = preview_of(page)
    assert "size=3cm" in preview
    assert "shape=rounded" in preview
    assert client.get(preview).headers["content-type"].startswith("image/svg+xml")


def test_a_logo_uploaded_from_the_panel_is_drawn_and_removed(
    client: TestClient, sign_in: SignIn
) -> None:
    key = sign_in(Scope.WRITE)
    api_create(client, key, target="https://example.com/", slug="menu")
    token = csrf_of(client.get("/dashboard/codes/menu").text)
    uploaded = client.post(
        "/dashboard/codes/menu/logo",
        content=SVG,
        headers={"content-type": "image/svg+xml", "x-csrf-token": token},
    )
    assert uploaded.status_code == 200, uploaded.text
    assert len(uploaded.json()["logo"]) == 32
    page = client.get("/dashboard/codes/menu?logo=true&format=png").text
    assert 'name="logo" value="true" checked' in page
    preview = preview_of(page)
    assert "logo=true" in preview
    image = client.get(preview)
    assert image.status_code == 200
    assert image.headers["content-type"] == "image/png"
    removed = post_form(
        client, "/dashboard/codes/menu/logo/delete", "/dashboard/codes/menu", csrf=token
    )
    assert removed.status_code == 303
    assert "done=logo-removed" in removed.headers["location"]
    headers = {"Authorization": f"Bearer {key}"}
    assert client.get("/api/v1/codes/menu", headers=headers).json()["has_logo"] is False


def test_an_upload_without_the_form_token_or_with_a_bad_image_changes_nothing(
    client: TestClient, sign_in: SignIn
) -> None:
    key = sign_in(Scope.WRITE)
    api_create(client, key, target="https://example.com/", slug="menu")
    no_token = client.post(
        "/dashboard/codes/menu/logo", content=SVG, headers={"content-type": "image/svg+xml"}
    )
    assert no_token.status_code == 403
    token = csrf_of(client.get("/dashboard/codes/menu").text)
    hostile = client.post(
        "/dashboard/codes/menu/logo",
        content=b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)" viewBox="0 0 1 1"/>',
        headers={"content-type": "image/svg+xml", "x-csrf-token": token},
    )
    assert hostile.status_code == 422
    assert hostile.headers["content-type"] == "application/problem+json"
    assert "event-handler" in hostile.json()["detail"]
    headers = {"Authorization": f"Bearer {key}"}
    assert client.get("/api/v1/codes/menu", headers=headers).json()["has_logo"] is False


def test_a_viewer_gets_no_upload_and_cannot_post_one(client: TestClient, sign_in: SignIn) -> None:
    key = sign_in(Scope.WRITE)
    api_create(client, key, target="https://example.com/", slug="menu")
    sign_in(Scope.READ)
    page = client.get("/dashboard/codes/menu").text
    assert 'id="logo-upload"' not in page
    refused = client.post(  # the viewer's own, valid form token (the sign-out form's)
        "/dashboard/codes/menu/logo",
        content=SVG,
        headers={"content-type": "image/svg+xml", "x-csrf-token": csrf_of(page)},
    )
    assert refused.status_code == 403
    assert "can look but not change" in refused.text
