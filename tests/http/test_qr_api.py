"""The QR image route: decodes to the payload, validates options, honours ETags."""

import io
from collections.abc import Callable

import pytest
import zxingcpp
from PIL import Image
from starlette.testclient import TestClient

from scanlet.actors.access.keys import Scope


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
