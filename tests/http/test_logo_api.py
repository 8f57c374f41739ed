"""/api/v1/codes/{slug}/logo: upload, read and remove a code's logo, and hostile uploads."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator

import httpx2
import pytest
import zxingcpp
from PIL import Image, ImageDraw
from starlette.testclient import TestClient

from scanlet.actors.access.keys import Scope

SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100">'
    b'<circle cx="50" cy="50" r="48" fill="#e33"/></svg>'
)


def raster(fmt: str, size: tuple[int, int] = (120, 80), colour: str = "#1565c0") -> bytes:
    image = Image.new("RGB", size, "white")
    ImageDraw.Draw(image).ellipse((0, 0, size[0] - 1, size[1] - 1), fill=colour)
    out = io.BytesIO()
    image.save(out, fmt)
    return out.getvalue()


@pytest.fixture
def writer(client: TestClient, mint_key: Callable[[Scope], str]) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {mint_key(Scope.WRITE)}"}
    made = client.post(
        "/api/v1/codes", json={"target": "https://e.com", "slug": "menu"}, headers=headers
    )
    assert made.status_code == 201
    assert made.json()["has_logo"] is False
    return headers


def put(
    client: TestClient, headers: dict[str, str], body: bytes, media_type: str
) -> httpx2.Response:
    return client.put(
        "/api/v1/codes/menu/logo", content=body, headers={**headers, "content-type": media_type}
    )


@pytest.mark.parametrize(
    ("fmt", "media_type"), [("PNG", "image/png"), ("JPEG", "image/jpeg"), (None, "image/svg+xml")]
)
def test_each_format_uploads_reads_back_and_is_drawn(
    client: TestClient, writer: dict[str, str], fmt: str | None, media_type: str
) -> None:
    body = SVG if fmt is None else raster(fmt)
    response = client.put(
        "/api/v1/codes/menu/logo", content=body, headers={**writer, "content-type": media_type}
    )
    assert response.status_code == 200, response.text
    assert response.json()["has_logo"] is True
    assert client.get("/api/v1/codes/menu", headers=writer).json()["has_logo"] is True
    stored = client.get("/api/v1/codes/menu/logo", headers=writer)
    assert stored.status_code == 200
    assert stored.headers["content-type"].startswith(media_type)
    assert "sandbox" in stored.headers["content-security-policy"]
    if fmt is not None:
        assert stored.content == body  # a raster logo is kept as it came
    # The image with the logo is checked by the server and still decodes here.
    image = client.get("/api/v1/codes/menu/qr?format=png&size=30mm&logo=true", headers=writer)
    assert image.status_code == 200, image.text
    decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(image.content)))
    assert [d.text for d in decoded] == ["http://qr.test/q/menu"]
    # The logo is really there: the middle of the code is the logo's colour, not modules.
    rgb = Image.open(io.BytesIO(image.content)).convert("RGB")
    centre = rgb.getpixel((rgb.width // 2, rgb.height // 2))
    expected = (0xEE, 0x33, 0x33) if fmt is None else (0x15, 0x65, 0xC0)
    assert isinstance(centre, tuple)
    assert max(abs(a - b) for a, b in zip(centre, expected, strict=True)) < 24  # JPEG drifts


def test_changing_or_removing_the_logo_changes_the_images_etag(
    client: TestClient, writer: dict[str, str]
) -> None:
    url = "/api/v1/codes/menu/qr?format=svg&logo=true"
    assert put(client, writer, raster("PNG"), "image/png").status_code == 200
    first = client.get(url, headers=writer)
    assert first.status_code == 200
    etag = first.headers["etag"]
    assert client.get(url, headers={**writer, "if-none-match": etag}).status_code == 304
    other = raster("PNG", colour="#2e7d32")
    assert put(client, writer, other, "image/png").status_code == 200
    second = client.get(url, headers={**writer, "if-none-match": etag})
    assert second.status_code == 200
    assert second.headers["etag"] != etag
    deleted = client.delete("/api/v1/codes/menu/logo", headers=writer)
    assert deleted.status_code == 204
    assert client.get("/api/v1/codes/menu", headers=writer).json()["has_logo"] is False
    assert client.get("/api/v1/codes/menu/logo", headers=writer).status_code == 404
    gone = client.get(url, headers={**writer, "if-none-match": second.headers["etag"]})
    assert gone.status_code == 422
    assert gone.json()["errors"] == [{"loc": ["query", "logo"], "msg": "this code has no logo"}]
    assert client.delete("/api/v1/codes/menu/logo", headers=writer).status_code == 404


def test_the_change_is_an_event_with_the_hash_not_the_bytes(
    client: TestClient, writer: dict[str, str]
) -> None:
    body = raster("PNG")
    assert put(client, writer, body, "image/png").status_code == 200
    history = client.get("/api/v1/codes/menu/history", headers=writer).json()["items"]
    (change,) = history[0]["changes"]
    assert change["field"] == "logo"
    assert change["old"] is None
    assert isinstance(change["new"], str)
    assert len(change["new"]) == 32
    assert client.delete("/api/v1/codes/menu/logo", headers=writer).status_code == 204
    latest = client.get("/api/v1/codes/menu/history", headers=writer).json()["items"][0]
    assert latest["changes"] == [{"field": "logo", "old": change["new"], "new": None}]


def test_logo_true_without_a_logo_is_a_problem(client: TestClient, writer: dict[str, str]) -> None:
    response = client.get("/api/v1/codes/menu/qr?logo=true", headers=writer)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["loc"] == ["query", "logo"]


def test_a_logo_over_256_kib_is_413_by_header_and_while_streaming(
    client: TestClient, writer: dict[str, str]
) -> None:
    big = b"\x89PNG\r\n\x1a\n" + b"\x00" * (256 * 1024)
    by_header = put(client, writer, big, "image/png")
    assert by_header.status_code == 413

    def chunks() -> Iterator[bytes]:
        for _ in range(40):
            yield b"\x00" * 8192  # 320 KiB, no Content-Length (chunked)

    streamed = client.put(
        "/api/v1/codes/menu/logo",
        content=chunks(),
        headers={**writer, "content-type": "image/png"},
    )
    assert streamed.status_code == 413
    assert streamed.headers["content-type"] == "application/problem+json"
    assert client.get("/api/v1/codes/menu", headers=writer).json()["has_logo"] is False


@pytest.mark.parametrize(
    ("body", "media_type", "status", "reason"),
    [
        (raster("PNG"), "image/gif", 415, "not image/gif"),
        (raster("PNG"), "application/json", 415, "not application/json"),
        (b"GIF89a" + b"\x00" * 64, "image/png", 422, "not a readable PNG"),
        (raster("JPEG"), "image/png", 422, "not a readable PNG"),  # forged: says PNG
        (raster("PNG"), "image/jpeg", 422, "not a readable JPEG"),
        (b"<html><script>alert(1)</script></html>", "image/png", 422, "not a readable PNG"),
        (raster("PNG", (8, 8)), "image/png", 422, "from 16 to 4096 pixels"),
        (raster("PNG", (4096, 1100)), "image/png", 422, "at most 4194304 pixels"),
        (b"", "image/png", 400, "empty"),
        (b"not xml at all", "image/svg+xml", 422, "not well-formed"),
    ],
)
def test_wrong_types_and_forged_bytes_are_refused(
    client: TestClient,
    writer: dict[str, str],
    body: bytes,
    media_type: str,
    status: int,
    reason: str,
) -> None:
    response = put(client, writer, body, media_type)
    assert response.status_code == status, response.text
    problem = response.json()
    assert reason in problem["detail"]
    if status == 422:
        assert problem["errors"][0]["loc"] == ["body", "logo"]


def svg(inner: str, root: str = "") -> bytes:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10" {root}>'
        f'{inner}<rect width="4" height="4"/></svg>'
    ).encode()


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (svg("<script>alert(document.cookie)</script>"), "must not contain scripts (<script>)"),
        (svg("", root='onload="alert(1)"'), "event-handler attributes (onload)"),
        (svg('<image href="https://evil.example/t.png" width="9" height="9"/>'), "outside itself"),
        (
            svg('<use xmlns:x="http://www.w3.org/1999/xlink" x:href="http://evil.example/a#b"/>'),
            "outside itself",
        ),
        (svg('<rect style="fill:url(http://evil.example/p)"/>'), "url()"),
        (
            b'<!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1">&x;</svg>',
            "DOCTYPE or entities",
        ),
        (
            b'<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" '
            b'"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">'
            b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1"/>',
            "DOCTYPE or entities",
        ),
        (
            b'<!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
            b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1">&b;</svg>',
            "DOCTYPE or entities",
        ),
    ],
)
def test_malicious_svgs_are_refused_with_the_reason(
    client: TestClient, writer: dict[str, str], body: bytes, reason: str
) -> None:
    response = put(client, writer, body, "image/svg+xml")
    assert response.status_code == 422, response.text
    problem = response.json()
    assert reason in problem["errors"][0]["msg"]
    assert problem["errors"][0]["loc"] == ["body", "logo"]
    assert client.get("/api/v1/codes/menu", headers=writer).json()["has_logo"] is False


def test_an_svg_is_stored_sanitised(client: TestClient, writer: dict[str, str]) -> None:
    body = svg('<text x="1" y="9">hi</text><metadata>m</metadata>')
    assert put(client, writer, body, "image/svg+xml").status_code == 200
    stored = client.get("/api/v1/codes/menu/logo", headers=writer).content
    assert b"<text" not in stored
    assert b"metadata" not in stored
    assert b"<rect" in stored


def test_a_viewer_may_read_but_not_change_a_logo(
    client: TestClient, writer: dict[str, str], mint_key: Callable[[Scope], str]
) -> None:
    viewer = {"Authorization": f"Bearer {mint_key(Scope.READ)}"}
    refused = put(client, viewer, SVG, "image/svg+xml")
    assert refused.status_code == 403
    assert put(client, writer, SVG, "image/svg+xml").status_code == 200
    assert client.delete("/api/v1/codes/menu/logo", headers=viewer).status_code == 403
    assert client.get("/api/v1/codes/menu/logo", headers=viewer).status_code == 200
    assert client.put("/api/v1/codes/menu/logo", content=SVG).status_code == 401


def test_a_logo_of_an_unknown_or_deleted_code_is_404(
    client: TestClient, writer: dict[str, str]
) -> None:
    assert put(client, writer, SVG, "image/svg+xml").status_code == 200
    assert client.delete("/api/v1/codes/menu", headers=writer).status_code == 204
    assert client.get("/api/v1/codes/menu/logo", headers=writer).status_code == 404
    missing = client.put(
        "/api/v1/codes/nothing/logo",
        content=SVG,
        headers={**writer, "content-type": "image/svg+xml"},
    )
    assert missing.status_code == 404
