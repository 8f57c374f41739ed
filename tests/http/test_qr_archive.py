"""QR archives: a ZIP of every chosen code's image and an index, streamed; bad options are a
422 before the download starts; only a few archives are built at once."""

import csv
import io
import zipfile
from collections.abc import Callable

import pytest
import zxingcpp
from PIL import Image
from starlette.applications import Starlette
from starlette.testclient import TestClient

from scanlet.actors.access.keys import Scope
from scanlet.http.build_slots import BuildSlots
from scanlet.http.problems import Problem
from tests.adapters.qr_images.helpers import pdf_image

URL = "/api/v1/qr-archive"


@pytest.fixture
def reader(client: TestClient, mint_key: Callable[[Scope], str]) -> dict[str, str]:
    writer = {"Authorization": f"Bearer {mint_key(Scope.WRITE)}"}
    for slug, tags in (("menu-a", ["menu"]), ("menu-b", ["menu"]), ("poster", ["print"])):
        created = client.post(
            "/api/v1/codes",
            json={"target": f"https://e.com/{slug}", "slug": slug, "title": slug, "tags": tags},
            headers=writer,
        )
        assert created.status_code == 201
    return {"Authorization": f"Bearer {mint_key(Scope.READ)}"}


def unzip(content: bytes) -> zipfile.ZipFile:
    archive = zipfile.ZipFile(io.BytesIO(content))
    assert archive.testzip() is None  # every entry's CRC checks out
    return archive


def index_of(archive: zipfile.ZipFile) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(archive.read("index.csv").decode())))


def test_a_tag_s_codes_as_pngs_that_scan_with_an_index(
    client: TestClient, reader: dict[str, str]
) -> None:
    answer = client.get(f"{URL}?tag=menu&format=png&scale=4", headers=reader)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/zip"
    assert 'filename="qr-codes.zip"' in answer.headers["content-disposition"]
    archive = unzip(answer.content)
    assert sorted(archive.namelist()) == ["index.csv", "menu-a.png", "menu-b.png"]
    for slug in ("menu-a", "menu-b"):
        image = Image.open(io.BytesIO(archive.read(f"{slug}.png")))
        assert [d.text for d in zxingcpp.read_barcodes(image)] == [f"http://qr.test/q/{slug}"]
        # PNGs are compressed already: stored as they are.
        assert archive.getinfo(f"{slug}.png").compress_type == zipfile.ZIP_STORED
    rows = sorted(index_of(archive), key=lambda row: row["slug"])
    assert rows == [
        {
            "slug": slug,
            "title": slug,
            "target": f"https://e.com/{slug}",
            "short_url": f"http://qr.test/{slug}",
            "file": f"{slug}.png",
            "error": "",
            "kind": "url",
        }
        for slug in ("menu-a", "menu-b")
    ]


def test_pdfs_of_a_physical_size_for_every_code(client: TestClient, reader: dict[str, str]) -> None:
    answer = client.get(f"{URL}?format=pdf&size=30mm", headers=reader)
    assert answer.status_code == 200
    archive = unzip(answer.content)
    assert sorted(archive.namelist()) == ["index.csv", "menu-a.pdf", "menu-b.pdf", "poster.pdf"]
    image = pdf_image(archive.read("poster.pdf"))
    assert [d.text for d in zxingcpp.read_barcodes(image)] == ["http://qr.test/q/poster"]


def test_no_matching_code_is_an_archive_with_only_the_index_header(
    client: TestClient, reader: dict[str, str]
) -> None:
    answer = client.get(f"{URL}?tag=nothing", headers=reader)
    assert answer.status_code == 200
    archive = unzip(answer.content)
    assert archive.namelist() == ["index.csv"]
    assert index_of(archive) == []


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("dark=%23ffffff&light=%23ffffff", "dark"),
        ("format=gif", "format"),
        ("size=3mm", "size"),
        ("tag=" + "x" * 300, "tag"),
    ],
)
def test_options_that_cannot_work_are_a_422_before_any_byte_of_zip(
    client: TestClient, reader: dict[str, str], query: str, field: str
) -> None:
    answer = client.get(f"{URL}?{query}", headers=reader)
    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["errors"][0]["loc"][-1] == field


def test_with_logo_true_a_code_with_a_logo_gets_it_and_the_others_are_plain(
    client: TestClient, reader: dict[str, str], mint_key: Callable[[Scope], str]
) -> None:
    writer = {"Authorization": f"Bearer {mint_key(Scope.WRITE)}"}
    svg = (
        b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 4 4">'
        b'<rect width="4" height="4" fill="#1565c0"/></svg>'
    )
    uploaded = client.put(
        "/api/v1/codes/menu-a/logo",
        content=svg,
        headers={**writer, "content-type": "image/svg+xml"},
    )
    assert uploaded.status_code == 200
    answer = client.get(f"{URL}?tag=menu&format=png&size=30mm&logo=true", headers=reader)
    assert answer.status_code == 200, answer.text
    archive = unzip(answer.content)
    assert all(row["error"] == "" for row in index_of(archive))
    centres = {}
    for slug in ("menu-a", "menu-b"):
        image = Image.open(io.BytesIO(archive.read(f"{slug}.png"))).convert("RGB")
        assert [d.text for d in zxingcpp.read_barcodes(image)] == [f"http://qr.test/q/{slug}"]
        centres[slug] = image.getpixel((image.width // 2, image.height // 2))
    assert centres["menu-a"] == (0x15, 0x65, 0xC0)  # the logo
    assert centres["menu-b"] in {(0, 0, 0), (255, 255, 255)}  # modules


def test_an_archive_needs_a_key(client: TestClient) -> None:
    assert client.get(URL).status_code == 401


def test_beyond_the_builds_allowed_at_once_the_answer_is_429(
    app: Starlette, client: TestClient, reader: dict[str, str]
) -> None:
    slots: BuildSlots = app.state.services.qr_archives
    held = [slots.take() for _ in range(slots.limit)]
    refused = client.get(URL, headers=reader)
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "30"
    for release in held:
        release()
    assert client.get(URL, headers=reader).status_code == 200
    # Every finished download gave its slot back.
    assert slots.running == 0


def test_a_slot_is_given_back_once_however_often_release_is_called() -> None:
    slots = BuildSlots("things", limit=1)
    release = slots.take()
    with pytest.raises(Problem):
        slots.take()
    release()
    release()
    assert slots.running == 0
    slots.take()
    assert slots.running == 1
