"""The QR image route: decodes to the payload, validates options, honours ETags."""

import io
from collections.abc import Callable

import pytest
import zxingcpp
from PIL import Image
from starlette.applications import Starlette
from starlette.testclient import TestClient

from scanlet.actors.access.keys import Scope
from scanlet.adapters.qr_images import Logo, load_logo
from tests.adapters.qr_images.helpers import decode, pdf_image, pdf_page_size


@pytest.fixture
def reader(client: TestClient, mint_key: Callable[[Scope], str]) -> dict[str, str]:
    writer = {"Authorization": f"Bearer {mint_key(Scope.WRITE)}"}
    client.post("/api/v1/codes", json={"target": "https://e.com", "slug": "img"}, headers=writer)
    return {"Authorization": f"Bearer {mint_key(Scope.READ)}"}


def test_the_png_decodes_to_exactly_the_qr_payload(
    client: TestClient, reader: dict[str, str]
) -> None:
    response = client.get("/api/v1/codes/img/qr?format=png&scale=4&ecc=H", headers=reader)
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(response.content)))
    assert [d.text for d in decoded] == ["http://qr.test/q/img"]


def test_svg_is_the_default_and_carries_an_etag(client: TestClient, reader: dict[str, str]) -> None:
    response = client.get("/api/v1/codes/img/qr", headers=reader)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("image/svg+xml")
    assert response.content.lstrip().startswith(b"<?xml")
    etag = response.headers["etag"]
    again = client.get("/api/v1/codes/img/qr", headers={**reader, "if-none-match": etag})
    assert again.status_code == 304
    assert again.content == b""
    other = client.get(
        "/api/v1/codes/img/qr?dark=%23aa0000", headers={**reader, "if-none-match": etag}
    )
    assert other.status_code == 200
    assert other.headers["etag"] != etag


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("format=gif", "format"),
        ("scale=0", "scale"),
        ("scale=51", "scale"),
        ("border=21", "border"),
        ("ecc=X", "ecc"),
        ("dark=zzz", "dark"),
        ("light=%23GGGGGG", "light"),
    ],
)
def test_bad_options_are_422(
    client: TestClient, reader: dict[str, str], query: str, field: str
) -> None:
    response = client.get(f"/api/v1/codes/img/qr?{query}", headers=reader)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert field in response.json()["detail"]


def test_unknown_codes_have_no_image(client: TestClient, reader: dict[str, str]) -> None:
    assert client.get("/api/v1/codes/nope/qr", headers=reader).status_code == 404


@pytest.mark.parametrize(
    ("fmt", "media_type"),
    [
        ("svg", "image/svg+xml"),
        ("png", "image/png"),
        ("pdf", "application/pdf"),
        ("eps", "application/postscript"),
    ],
)
def test_each_format_has_its_media_type_and_a_file_name(
    client: TestClient, reader: dict[str, str], fmt: str, media_type: str
) -> None:
    response = client.get(f"/api/v1/codes/img/qr?format={fmt}&size=30mm", headers=reader)
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == media_type
    assert response.headers["content-disposition"] == f'inline; filename="img.{fmt}"'
    download = client.get(f"/api/v1/codes/img/qr?format={fmt}&download=1", headers=reader)
    assert download.headers["content-disposition"] == f'attachment; filename="img.{fmt}"'


def test_a_print_pdf_decodes_and_honours_its_etag(
    client: TestClient, reader: dict[str, str]
) -> None:
    query = "format=pdf&size=30mm&shape=rounded&finder=%23aa0000&label=Scan%20for%20the%20menu"
    response = client.get(f"/api/v1/codes/img/qr?{query}", headers=reader)
    assert response.status_code == 200
    assert pdf_page_size(response.content)[0] == pytest.approx(85.04, abs=0.01)
    assert decode(pdf_image(response.content)) == ["http://qr.test/q/img"]
    etag = response.headers["etag"]
    again = client.get(f"/api/v1/codes/img/qr?{query}", headers={**reader, "if-none-match": etag})
    assert again.status_code == 304


def test_a_png_at_print_size_carries_its_dpi(client: TestClient, reader: dict[str, str]) -> None:
    response = client.get("/api/v1/codes/img/qr?format=png&size=30mm&dpi=600", headers=reader)
    image = Image.open(io.BytesIO(response.content))
    assert image.size == (709, 709)
    assert round(image.info["dpi"][0]) == 600


def test_logo_true_is_422_while_the_code_has_no_logo(
    client: TestClient, reader: dict[str, str]
) -> None:
    response = client.get("/api/v1/codes/img/qr?logo=true", headers=reader)
    assert response.status_code == 422
    body = response.json()
    assert "this code has no logo" in body["detail"]
    assert body["errors"] == [{"loc": ["query", "logo"], "msg": "this code has no logo"}]


class OneLogo:
    def __init__(self, logo: Logo) -> None:
        self.logo = logo
        self.asked: list[str] = []

    async def logo_for(self, slug: str) -> Logo | None:
        self.asked.append(slug)
        return self.logo if slug == "img" else None


def test_a_logo_from_the_logo_source_is_drawn_and_decodes(
    app: Starlette, client: TestClient, reader: dict[str, str]
) -> None:
    svg = (
        b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 2 1">'
        b'<rect width="2" height="1" fill="#1565c0"/></svg>'
    )
    source = OneLogo(load_logo(svg, "image/svg+xml"))
    app.state.services.logos = source
    response = client.get("/api/v1/codes/img/qr?format=png&size=30mm&logo=1", headers=reader)
    assert response.status_code == 200
    assert source.asked == ["img"]
    image = Image.open(io.BytesIO(response.content)).convert("RGB")
    assert image.getpixel((177, 177)) == pytest.approx((21, 101, 192), abs=3)
    assert decode(image) == ["http://qr.test/q/img"]


@pytest.mark.parametrize(
    ("query", "field", "fragment"),
    [
        ("dark=%23aaaaaa", "dark", "too little contrast"),
        ("finder=%23eeeeee", "finder", "too little contrast"),
        ("dark=%23ffffff&light=%23000000", "dark", "not darker than light"),
        ("label=" + "W" * 40, "label", "longer than the code is wide"),
        ("format=png&size=1000mm", "size", "4096"),
    ],
)
def test_combinations_that_would_not_scan_are_422_with_the_reason(
    client: TestClient, reader: dict[str, str], query: str, field: str, fragment: str
) -> None:
    response = client.get(f"/api/v1/codes/img/qr?{query}", headers=reader)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    [error] = response.json()["errors"]
    assert error["loc"] == ["query", field]
    assert fragment in error["msg"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("size=30", "size"),
        ("size=30mm&scale=4", "scale"),
        ("dpi=20", "dpi"),
        ("shape=star", "shape"),
        ("finder=nope", "finder"),
        ("frame=label", "label"),
        ("label=" + "x" * 41, "label"),
        ("download=maybe", "download"),
    ],
)
def test_bad_print_options_are_422_naming_the_field(
    client: TestClient, reader: dict[str, str], query: str, field: str
) -> None:
    response = client.get(f"/api/v1/codes/img/qr?{query}", headers=reader)
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["query", field]


def test_the_openapi_document_lists_every_image_type(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    operation = document["paths"]["/api/v1/codes/{slug}/qr"]["get"]
    content = operation["responses"]["200"]["content"]
    assert set(content) == {
        "image/svg+xml",
        "image/png",
        "application/pdf",
        "application/postscript",
    }
    names = {p["name"] for p in operation["parameters"]}
    assert {"size", "dpi", "shape", "finder", "frame", "label", "logo", "download"} <= names
