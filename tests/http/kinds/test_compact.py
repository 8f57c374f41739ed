"""SCANLET_QR_COMPACT: url codes' QR payloads in QR alphanumeric characters, and /Q/{slug}
finding the code whatever the case of the slug."""

from __future__ import annotations

import io

import segno
import zxingcpp
from PIL import Image

from tests.http.kinds.conftest import decoded_png
from tests.http.routing.conftest import Api


def test_compact_payloads_scan_back_to_their_code_in_any_case(compact_api: Api) -> None:
    api = compact_api
    code = api.code(target="https://example.com/menu", slug="Spring-Menu1")
    assert code["qr_payload"] == "HTTP://QR.TEST/Q/SPRING-MENU1"
    assert code["qr_compact"] is True
    # "http://qr.test/q/Spring-Menu1" is 29 bytes: byte mode, version 3 (26 fit version 2);
    # the compact one is 29 alphanumeric characters: version 2 (up to 38).
    assert (code["qr_version"], code["qr_modules"]) == (2, 25)
    assert code["qr_versions_saved"] == 1
    assert segno.make_qr(code["qr_payload"], error="M").mode == "alphanumeric"
    assert decoded_png(api, "Spring-Menu1") == ["HTTP://QR.TEST/Q/SPRING-MENU1"]
    for path in ("/Q/SPRING-MENU1", "/Q/spring-menu1", "/Q/Spring-Menu1"):
        assert api.went(path) == "https://example.com/menu"
    # Traced requests take the Starlette route: the same lookup.
    assert api.went("/Q/SPRING-MENU1", traced=True) == "https://example.com/menu"
    scans = api.scans("Spring-Menu1", expect=4)
    assert {(s["slug"], s["source"]) for s in scans} == {("Spring-Menu1", "qr")}


def test_a_slug_equal_to_a_taken_one_ignoring_case_is_refused(compact_api: Api) -> None:
    api = compact_api
    api.code(target="https://example.com/a", slug="abc")
    twin = api.create(target="https://example.com/b", slug="ABC")
    assert twin.status_code == 409
    assert "ignoring case" in twin.json()["detail"]
    # Deleted slugs stay taken, ignoring case too.
    api.code(target="https://example.com/c", slug="old")
    assert api.client.delete("/api/v1/codes/old", headers=api.headers).status_code == 204
    assert api.create(target="https://example.com/d", slug="OLD").status_code == 409
    assert api.scan("/Q/OLD").status_code == 410


def test_slugs_that_cannot_be_compact_keep_the_usual_payload(compact_api: Api) -> None:
    api = compact_api
    code = api.code(target="https://example.com/a", slug="with_underscore")
    assert code["qr_payload"] == "http://qr.test/q/with_underscore"
    assert code["qr_compact"] is False
    assert code["qr_versions_saved"] is None
    static = api.code(kind="tel", content={"number": "123"})
    assert static["qr_payload"] == "tel:123"
    assert static["qr_compact"] is False
    card = api.code(kind="vcard", content={"name": "A"}, tracked=True, slug="card")
    assert card["qr_payload"] == "HTTP://QR.TEST/Q/CARD"
    assert api.scan("/Q/card").headers["content-type"] == "text/vcard; charset=utf-8"


def test_without_the_setting_twins_are_allowed_and_q_never_guesses(api: Api) -> None:
    one = api.code(target="https://example.com/1", slug="TwinPosters1")
    assert one["qr_payload"] == "http://qr.test/q/TwinPosters1"
    # What it would save, shown whether or not compact links are on.
    assert one["qr_versions_saved"] == 1
    api.code(target="https://example.com/2", slug="TWINPOSTERS1")
    # Two slugs equal ignoring case: /Q/ names neither, and neither has a compact link.
    assert api.scan("/Q/TWINPOSTERS1").status_code == 404
    assert api.scan("/Q/TwinPosters1").status_code == 404
    twin = api.client.get("/api/v1/codes/TwinPosters1", headers=api.headers).json()
    assert twin["qr_versions_saved"] is None
    # A unique one is found by /Q/ even with the setting off (printed codes keep working).
    api.code(target="https://example.com/3", slug="solo")
    assert api.went("/Q/SOLO") == "https://example.com/3"


def test_the_archive_draws_compact_payloads(compact_api: Api) -> None:
    import zipfile

    api = compact_api
    api.code(target="https://example.com/a", slug="poster", tags=["p"])
    reply = api.client.get("/api/v1/qr-archive?tag=p&format=png", headers=api.headers)
    with zipfile.ZipFile(io.BytesIO(reply.content)) as files:
        image = Image.open(io.BytesIO(files.read("poster.png")))
    assert [d.text for d in zxingcpp.read_barcodes(image)] == ["HTTP://QR.TEST/Q/POSTER"]
