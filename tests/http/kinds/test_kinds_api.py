"""Codes that are not links, through the API: each kind's exact payload and the image that
decodes to it, what a static code refuses, and what changes."""

from __future__ import annotations

from typing import Any

import pytest

from tests.http.kinds.conftest import decoded_png
from tests.http.routing.conftest import Api

# (kind, content, the exact qr_payload)
KINDS: list[tuple[str, dict[str, Any], str]] = [
    ("wifi", {"ssid": "Home", "password": "secret123"}, "WIFI:T:WPA;S:Home;P:secret123;;"),
    (
        "wifi",
        {"ssid": "Café, Bar;1", "password": 'p:w\\"d', "security": "WEP", "hidden": True},
        'WIFI:T:WEP;S:Café\\, Bar\\;1;P:p\\:w\\\\\\"d;H:true;;',
    ),
    ("wifi", {"ssid": "Guest", "security": "nopass"}, "WIFI:T:nopass;S:Guest;;"),
    (
        "vcard",
        {
            "name": "Jane Q. Doe",
            "org": "ACME; Inc",
            "title": "CTO",
            "phone": "+49 30 123",
            "email": "jane@example.com",
            "url": "https://example.com/jane",
            "address": "Main St 1, Berlin",
        },
        "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Doe;Jane Q.\r\nFN:Jane Q. Doe\r\nORG:ACME\\; Inc\r\n"
        "EMAIL:jane@example.com\r\nTEL:+49 30 123\r\nURL:https://example.com/jane\r\n"
        "TITLE:CTO\r\nADR:;;Main St 1\\, Berlin;;;;\r\nEND:VCARD\r\n",
    ),
    (
        "vcard",
        {"name": "Back\\slash"},
        "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Back\\\\slash;\r\nFN:Back\\\\slash\r\nEND:VCARD\r\n",
    ),
    ("geo", {"lat": 52.5163, "lng": -13.3777}, "geo:52.5163,-13.3777"),
    ("geo", {"lat": -90, "lng": 180}, "geo:-90,180"),
    ("sms", {"number": "+49 30 123", "body": "Hi: there"}, "SMSTO:+4930123:Hi: there"),
    ("sms", {"number": "112"}, "SMSTO:112:"),
    (
        "email",
        {"to": "a.b+c@example.com", "subject": "Hello you", "body": "x&y=z\nbye"},
        "mailto:a.b+c@example.com?subject=Hello%20you&body=x%26y%3Dz%0Abye",
    ),
    ("email", {"to": "a@example.com"}, "mailto:a@example.com"),
    ("tel", {"number": "+1 (555) 010-0199"}, "tel:+1(555)010-0199"),
    ("text", {"text": "Hello\nworld: 100% ✓"}, "Hello\nworld: 100% ✓"),
]


@pytest.mark.parametrize(("kind", "content", "payload"), KINDS)
def test_each_kind_has_its_standard_payload_and_an_image_that_decodes_to_it(
    api: Api, kind: str, content: dict[str, Any], payload: str
) -> None:
    code = api.code(kind=kind, content=content, title="t", tags=["x"])
    assert code["kind"] == kind
    assert code["qr_payload"] == payload
    assert code["tracked"] is False
    assert (code["target"], code["short_url"]) == (None, None)
    assert code["qr_compact"] is False
    assert code["qr_versions_saved"] is None
    # Content comes back as sent, with every field (defaults filled in).
    assert {k: v for k, v in code["content"].items() if k in content} == content
    assert decoded_png(api, code["slug"]) == [payload]
    again = api.client.get(f"/api/v1/codes/{code['slug']}", headers=api.headers).json()
    assert again == code


def _refused(reply: Any, loc: list[str | int]) -> str:
    assert reply.status_code == 422, reply.text
    assert reply.headers["content-type"] == "application/problem+json"
    body = reply.json()
    assert body["errors"][0]["loc"] == ["body", *loc], body
    return str(body["errors"][0]["msg"])


BAD_CONTENT: list[tuple[str, Any, list[str | int]]] = [
    ("wifi", {}, ["content", "ssid"]),
    ("wifi", {"ssid": "a", "password": "p", "bogus": 1}, ["content", "bogus"]),
    ("wifi", {"ssid": "", "password": "p"}, ["content", "ssid"]),
    ("wifi", {"ssid": "é" * 17, "password": "p"}, ["content", "ssid"]),  # 34 bytes
    ("wifi", {"ssid": "a" * 33, "password": "p"}, ["content", "ssid"]),
    ("wifi", {"ssid": "a", "password": "p", "security": "WPA4"}, ["content", "security"]),
    ("wifi", {"ssid": "a", "password": "p", "security": "nopass"}, ["content", "password"]),
    ("wifi", {"ssid": "a"}, ["content", "password"]),
    ("wifi", {"ssid": "a", "password": "p", "hidden": "yes"}, ["content", "hidden"]),
    ("wifi", {"ssid": "a\u202eb", "password": "p"}, ["content", "ssid"]),
    ("wifi", {"ssid": 5, "password": "p"}, ["content", "ssid"]),
    ("wifi", [], ["content"]),
    ("vcard", {"name": "A\r\nEND:VCARD"}, ["content", "name"]),
    ("vcard", {"name": "A", "url": "javascript:alert(1)"}, ["content", "url"]),
    ("vcard", {"name": "A", "email": "a@b?x=y"}, ["content", "email"]),
    ("vcard", {"name": "A", "phone": "call me"}, ["content", "phone"]),
    ("vcard", {"name": "A" * 101}, ["content", "name"]),
    ("vcard", {"org": "A"}, ["content", "name"]),
    ("geo", {"lat": 91, "lng": 0}, ["content", "lat"]),
    ("geo", {"lat": 0, "lng": -180.5}, ["content", "lng"]),
    ("geo", {"lat": "52", "lng": 0}, ["content", "lat"]),
    ("sms", {"number": "abc"}, ["content", "number"]),
    ("sms", {"number": "1", "body": "x" * 501}, ["content", "body"]),
    ("sms", {"number": "1", "body": "a\x00b"}, ["content", "body"]),
    ("email", {"to": "not an address"}, ["content", "to"]),
    ("email", {"to": "a@example.com", "subject": "a\nb"}, ["content", "subject"]),
    ("tel", {"number": ""}, ["content", "number"]),
    ("tel", {"number": "+" + "1" * 32}, ["content", "number"]),
    ("text", {"text": ""}, ["content", "text"]),
    ("text", {"text": "x" * 1001}, ["content", "text"]),
    # 200 characters of 3 bytes each: more than a static code's payload may be (512 bytes).
    ("text", {"text": "€" * 200}, ["content"]),
]


@pytest.mark.parametrize(("kind", "content", "loc"), BAD_CONTENT)
def test_bad_content_is_a_422_naming_the_field(
    api: Api, kind: str, content: Any, loc: list[str | int]
) -> None:
    _refused(api.create(kind=kind, content=content), loc)


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        # Beyond what a float holds: refused while the body is read.
        (b'{"kind": "geo", "content": {"lat": 1e400, "lng": 0}}', ["content"]),
        (b'{"kind": "geo", "content": {"lat": -1e400, "lng": 0}}', ["content"]),
        (b'{"kind": "geo", "content": {"lat": 90.0000000001, "lng": 0}}', ["content", "lat"]),
        # A lone surrogate is not text (it has no UTF-8): malformed JSON, 400.
        (b'{"kind": "text", "content": {"text": "a\\ud800"}}', None),
        (b'{"kind": "wifi", "content": {"ssid": "\\udfff", "password": "p"}}', None),
    ],
)
def test_bodies_no_json_library_would_write_are_refused(
    api: Api, body: bytes, loc: list[str | int] | None
) -> None:
    headers = {**api.headers, "content-type": "application/json"}
    reply = api.client.post("/api/v1/codes", content=body, headers=headers)
    if loc is None:
        assert reply.status_code == 400
        assert reply.headers["content-type"] == "application/problem+json"
    else:
        _refused(reply, loc)


BAD_BODIES: list[tuple[dict[str, Any], list[str | int] | None]] = [
    ({"kind": "wifi"}, ["content"]),
    ({"kind": "bogus", "content": {"text": "a"}}, ["kind"]),
    ({"target": "https://e.com", "content": {"text": "a"}}, ["content"]),
    ({"kind": "url", "content": {"text": "a"}}, ["target"]),
    ({"kind": "text", "content": {"text": "a"}, "target": "https://e.com"}, ["target"]),
    ({"kind": "text", "content": {"text": "a"}, "rules": []}, None),  # empty: allowed
    (
        {
            "kind": "text",
            "content": {"text": "a"},
            "rules": [{"when": {"device": "mobile"}, "target": "https://e.com"}],
        },
        ["rules"],
    ),
    (
        {
            "kind": "geo",
            "content": {"lat": 1, "lng": 2},
            "split": [
                {"target": "https://e.com/a", "weight": 1},
                {"target": "https://e.com/b", "weight": 1},
            ],
        },
        ["split"],
    ),
    (
        {"kind": "tel", "content": {"number": "1"}, "fallback_url": "https://e.com"},
        ["fallback_url"],
    ),
    ({"kind": "tel", "content": {"number": "1"}, "password": "pw"}, ["password"]),
    ({"kind": "tel", "content": {"number": "1"}, "max_scans": 5}, ["max_scans"]),
    ({"kind": "tel", "content": {"number": "1"}, "redirect_status": 301}, ["redirect_status"]),
    ({"kind": "tel", "content": {"number": "1"}, "forward_query": True}, ["forward_query"]),
    (
        {"kind": "tel", "content": {"number": "1"}, "valid_until": "2027-01-01T00:00:00Z"},
        ["valid_until"],
    ),
    ({"kind": "tel", "content": {"number": "1"}, "tracked": True}, ["tracked"]),
    ({"target": "https://e.com", "tracked": False}, ["tracked"]),
    ({"kind": "vcard", "content": {"name": "A"}, "tracked": True, "password": "pw"}, ["password"]),
    (
        {"kind": "vcard", "content": {"name": "A"}, "tracked": True, "target": "https://e.com"},
        ["target"],
    ),
    ({"kind": "vcard", "content": {"name": "A"}, "max_scans": 3}, ["max_scans"]),
]


@pytest.mark.parametrize(("body", "loc"), BAD_BODIES)
def test_fields_a_kind_has_no_use_for_are_refused(
    api: Api, body: dict[str, Any], loc: list[str | int] | None
) -> None:
    reply = api.create(**body)
    if loc is None:
        assert reply.status_code == 201, reply.text
    else:
        _refused(reply, loc)


def test_content_may_change_but_not_the_kind(api: Api) -> None:
    code = api.code(kind="wifi", content={"ssid": "Home", "password": "secret123"})
    slug = code["slug"]
    changed = api.patch(slug, content={"ssid": "Home 2", "security": "nopass"}, title="guests")
    assert changed.status_code == 200, changed.text
    assert changed.json()["qr_payload"] == "WIFI:T:nopass;S:Home 2;;"
    assert changed.json()["title"] == "guests"
    assert decoded_png(api, slug) == ["WIFI:T:nopass;S:Home 2;;"]
    # The same kind is no change; another is refused, and so is a bad content.
    assert api.patch(slug, kind="wifi").status_code == 200
    assert "cannot change" in _refused(api.patch(slug, kind="text"), ["kind"])
    _refused(api.patch(slug, tracked=True), ["tracked"])
    _refused(api.patch(slug, content={"ssid": "a" * 40}), ["content", "ssid"])
    _refused(api.patch(slug, content={"text": "hi"}), ["content", "text"])
    _refused(api.patch(slug, target="https://e.com"), ["target"])
    _refused(api.patch(slug, rules=[{"when": {"os": "ios"}, "target": "https://e.com"}]), ["rules"])
    _refused(api.patch(slug, enabled=False), ["enabled"])
    current = api.client.get(f"/api/v1/codes/{slug}", headers=api.headers).json()
    assert current["qr_payload"] == "WIFI:T:nopass;S:Home 2;;"
    # A url code has no content to change.
    link = api.code(target="https://e.com/x")
    _refused(api.patch(link["slug"], content={"text": "a"}), ["content"])
    _refused(api.patch(link["slug"], kind="text"), ["kind"])


def test_a_static_code_has_no_scans_and_its_slug_answers_404(api: Api) -> None:
    code = api.code(kind="text", content={"text": "hello"}, slug="note")
    for path in ("/note", "/q/note"):
        reply = api.scan(path)
        assert reply.status_code == 404
        assert "not a link" in reply.json()["detail"]
    # Traced requests take the full stack: the same answer.
    assert api.scan("/note", traced=True).status_code == 404
    assert api.scans("note") == []
    orphans = api.listed("/api/v1/orphan-scans")
    assert orphans == []
    assert api.client.get("/api/v1/codes/note", headers=api.headers).json()["scans"] == 0
    assert code["slug"] == "note"
    # The slug is taken like any other.
    assert api.create(target="https://e.com", slug="note").status_code == 409


def test_lists_csv_batches_and_the_qr_archive_carry_kinds(api: Api) -> None:
    api.code(kind="tel", content={"number": "+1 555"}, slug="call", tags=["k"])
    api.code(target="https://e.com/menu", slug="menu", tags=["k"])
    listed = api.client.get("/api/v1/codes?tag=k", headers=api.headers).json()["items"]
    assert {(c["slug"], c["kind"], c["qr_payload"]) for c in listed} == {
        ("call", "tel", "tel:+1555"),
        ("menu", "url", "http://qr.test/q/menu"),
    }
    batch = api.client.post(
        "/api/v1/codes/batch",
        json={
            "codes": [
                {"kind": "geo", "content": {"lat": 1.5, "lng": 2}, "slug": "spot", "tags": ["k"]},
                {"kind": "geo", "content": {"lat": 100, "lng": 2}},
            ]
        },
        headers=api.headers,
    ).json()["results"]
    assert batch[0]["status"] == 201
    assert batch[0]["code"]["qr_payload"] == "geo:1.5,2"
    assert batch[1]["status"] == 422
    assert batch[1]["problem"]["errors"][0]["loc"] == ["body", "codes", 1, "content", "lat"]
    csv = api.client.get("/api/v1/codes?tag=k&format=csv", headers=api.headers).text
    header, *rows = csv.strip().splitlines()
    assert header.split(",")[-3:] == ["kind", "content", "tracked"]
    spot = next(row for row in rows if row.startswith("spot,"))
    assert spot.endswith(',geo,"{""lat"":1.5,""lng"":2.0}",false')
    import io
    import zipfile

    import zxingcpp
    from PIL import Image

    archive = api.client.get("/api/v1/qr-archive?tag=k&format=png", headers=api.headers)
    assert archive.status_code == 200
    with zipfile.ZipFile(io.BytesIO(archive.content)) as files:
        read = {
            name: [d.text for d in zxingcpp.read_barcodes(Image.open(io.BytesIO(files.read(name))))]
            for name in ("call.png", "spot.png", "menu.png")
        }
        index = files.read("index.csv").decode()
    assert read == {
        "call.png": ["tel:+1555"],
        "spot.png": ["geo:1.5,2"],
        "menu.png": ["http://qr.test/q/menu"],
    }
    # A static code has its kind in the index, and neither a target nor a short link.
    from csv import DictReader

    indexed = {row["slug"]: row for row in DictReader(io.StringIO(index))}
    assert {slug: row["kind"] for slug, row in indexed.items()} == {
        "call": "tel",
        "spot": "geo",
        "menu": "url",
    }
    assert (indexed["call"]["target"], indexed["call"]["short_url"]) == ("", "")
    assert indexed["menu"]["short_url"] == "http://qr.test/menu"
    assert list(indexed["call"]) == [
        "slug", "title", "target", "short_url", "file", "error", "kind",
    ]  # fmt: skip
