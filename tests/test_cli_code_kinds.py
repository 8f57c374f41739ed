"""Codes that are not links and logos from the shell: ``codes create --kind --content``,
``codes set --content`` and ``codes logo``, through the real executable, with the API's
rules and refusals (one line naming the API's field, never a traceback)."""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image

from tests.clirun import database_content, scanlet

WIFI = '{"ssid": "Café Guests", "password": "espresso42"}'
#: A card whose vCard is over the 512 bytes a static code may hold.
BIG_CARD = {"name": "N" * 100, "org": "O" * 100, "title": "T" * 100, "address": "A" * 150,
            "url": "https://example.com/" + "u" * 200}  # fmt: skip
OPEN_WITH_PASSWORD = '{"ssid": "x", "security": "nopass", "password": "pw"}'
SVG_LOGO = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100">'
    '<circle cx="50" cy="50" r="48" fill="#e33"/></svg>'
)


def ok(*args: str, cwd: Path, stdin: str | None = None) -> str:
    result = scanlet(*args, cwd=cwd, stdin=stdin)
    assert result.returncode == 0, result.stderr
    return result.stdout


def made(*args: str, cwd: Path) -> dict[str, object]:
    code = json.loads(ok(*args, "--format", "json", cwd=cwd))
    assert isinstance(code, dict)
    return code


def png_logo(path: Path) -> Path:
    Image.new("RGB", (64, 64), "#1565c0").save(path, format="PNG")
    return path


def test_static_codes_and_a_tracked_card_from_the_command_line(
    scanlet_db: str, tmp_path: Path
) -> None:
    db = ["--db", scanlet_db]
    ok("migrate", *db, cwd=tmp_path)
    wifi = made("codes", "create", "--kind", "wifi", "--content", WIFI, "--slug", "guests", *db,
                cwd=tmp_path)  # fmt: skip
    assert (wifi["kind"], wifi["tracked"], wifi["short_url"], wifi["target"]) == (
        "wifi",
        False,
        None,
        None,
    )
    assert wifi["qr_payload"] == "WIFI:T:WPA;S:Café Guests;P:espresso42;;"
    assert wifi["content"] == {
        "ssid": "Café Guests",
        "password": "espresso42",
        "security": "WPA",
        "hidden": False,
    }
    text = made("codes", "create", "--kind", "text", "--content", '{"text": "Door 4711"}', *db,
                cwd=tmp_path)  # fmt: skip
    assert text["qr_payload"] == "Door 4711"
    card = made(
        "codes", "create", "--kind", "vcard", "--tracked", "--slug", "jane",
        "--content", '{"name": "Jane Doe", "email": "jane@example.com"}', *db, cwd=tmp_path,
    )  # fmt: skip
    assert (card["tracked"], card["qr_payload"]) == (True, "http://127.0.0.1:8000/q/jane")

    changed = made("codes", "set", "guests", "--content", '{"ssid": "Lobby", "security": "nopass"}',
                   *db, cwd=tmp_path)  # fmt: skip
    assert changed["qr_payload"] == "WIFI:T:nopass;S:Lobby;;"
    shown = made("codes", "show", "guests", *db, cwd=tmp_path)
    assert shown["content"] == changed["content"]
    # The QR image holds the new content (the image is decoded before it is written).
    ok("qr", "guests", "--format", "png", "-o", "guests.png", *db, cwd=tmp_path)
    read = zxingcpp.read_barcodes(Image.open(tmp_path / "guests.png").convert("L"))
    assert [found.text for found in read] == ["WIFI:T:nopass;S:Lobby;;"]


def test_a_card_shown_as_a_table_keeps_one_field_a_line(tmp_path: Path) -> None:
    ok("migrate", cwd=tmp_path)
    table = ok("codes", "create", "--kind", "vcard", "--content", '{"name": "Jane Doe"}',
               "--slug", "jane", cwd=tmp_path)  # fmt: skip
    assert re.search(r"^kind +vcard$", table, re.M)
    assert re.search(r'^content +\{"name":"Jane Doe"', table, re.M)
    assert re.search(
        r"^qr_payload +BEGIN:VCARD\\r\\nVERSION:3\.0\\r\\n.*END:VCARD\\r\\n$", table, re.M
    )
    assert "\r" not in table


def test_the_qr_archive_index_names_each_code_s_kind(tmp_path: Path) -> None:
    ok("migrate", cwd=tmp_path)
    ok("codes", "create", "https://example.com/menu", "--slug", "menu", cwd=tmp_path)
    ok("codes", "create", "--kind", "geo", "--content", '{"lat": 52.5, "lng": 13.4}',
       "--slug", "spot", cwd=tmp_path)  # fmt: skip
    ok("qr-archive", "--format", "png", "--scale", "4", "-o", "codes.zip", cwd=tmp_path)
    with zipfile.ZipFile(tmp_path / "codes.zip") as archive:
        index = archive.read("index.csv").decode()
        spot = archive.read("spot.png")
    assert index.splitlines() == [
        "slug,title,target,short_url,file,error,kind",
        "spot,,,,spot.png,,geo",
        "menu,,https://example.com/menu,http://127.0.0.1:8000/menu,menu.png,,url",
    ]
    read = zxingcpp.read_barcodes(Image.open(io.BytesIO(spot)).convert("L"))
    assert [found.text for found in read] == ["geo:52.5,13.4"]


def test_a_logo_uploaded_drawn_and_removed(scanlet_db: str, tmp_path: Path) -> None:
    db = ["--db", scanlet_db]
    ok("migrate", *db, cwd=tmp_path)
    ok("codes", "create", "https://example.com/menu", "--slug", "menu", *db, cwd=tmp_path)
    (tmp_path / "logo.svg").write_text(SVG_LOGO)
    uploaded = ok("codes", "logo", "menu", "logo.svg", *db, cwd=tmp_path)
    assert re.search(r"^has_logo +True$", uploaded, re.M)
    shown = made("codes", "show", "menu", *db, cwd=tmp_path)
    assert shown["has_logo"] is True
    # Drawn in the middle by qr --logo and qr-archive --logo; the images still scan.
    ok("qr", "menu", "--format", "png", "--logo", "-o", "menu.png", *db, cwd=tmp_path)
    plain = scanlet("qr", "menu", "--format", "png", "-o", "plain.png", *db, cwd=tmp_path)
    assert plain.returncode == 0, plain.stderr
    assert (tmp_path / "menu.png").read_bytes() != (tmp_path / "plain.png").read_bytes()
    read = zxingcpp.read_barcodes(Image.open(tmp_path / "menu.png").convert("L"))
    assert [found.text for found in read] == ["http://127.0.0.1:8000/q/menu"]
    ok("qr-archive", "--format", "png", "--logo", "-o", "codes.zip", *db, cwd=tmp_path)
    with zipfile.ZipFile(tmp_path / "codes.zip") as archive:
        assert archive.read("menu.png") == (tmp_path / "menu.png").read_bytes()

    png = png_logo(tmp_path / "logo.PNG")
    replaced = made("codes", "logo", "menu", str(png), *db, cwd=tmp_path)
    assert replaced["has_logo"] is True

    removed = scanlet("codes", "logo", "menu", "--delete", *db, cwd=tmp_path)
    assert (removed.returncode, removed.stdout) == (0, "removed the logo of code menu\n")
    assert made("codes", "show", "menu", *db, cwd=tmp_path)["has_logo"] is False
    again = scanlet("codes", "logo", "menu", "--delete", *db, cwd=tmp_path)
    assert (again.returncode, again.stderr) == (1, "scanlet: code 'menu' has no logo\n")


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database with a url code ``menu`` and a wifi code ``guests``, and files to upload."""
    folder = tmp_path_factory.mktemp("kinds")
    ok("migrate", cwd=folder)
    ok("codes", "create", "https://example.com/menu", "--slug", "menu", cwd=folder)
    ok("codes", "create", "--kind", "wifi", "--content", WIFI, "--slug", "guests", cwd=folder)
    (folder / "evil.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    )
    (folder / "html.png").write_text("<html>not an image</html>")
    (folder / "empty.svg").write_bytes(b"")
    (folder / "huge.svg").write_bytes(b" " * (256 * 1024 + 1))
    (folder / "logo.gif").write_bytes(b"GIF89a")
    (folder / "fine.svg").write_text(SVG_LOGO)
    return folder


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["create"], 1, "target: is required for a url code"),
        (["create", "--kind", "wifi"], 1, "content: is required for a wifi code"),
        (["create", "--kind", "wifi", "--content", "{nope"], 2, "--content: not JSON (an object"),
        (["create", "--kind", "wifi", "--content", "[1]"], 1, "content: Expected `object"),
        (["create", "--kind", "wifi", "--content", "{}"], 1, "content.ssid:"),
        (
            ["create", "--kind", "wifi", "--content", OPEN_WITH_PASSWORD],
            1,
            "content.password: must be left out when security is nopass",
        ),
        (["create", "--kind", "geo", "--content", '{"lat": 91, "lng": 0}'], 1, "content.lat:"),
        (["create", "--kind", "text", "--content", '{"text": "a", "x": 1}'], 1, "content.x:"),
        (["create", "--kind", "text", "--content", '{"text": "a\\u0007"}'], 1, "content.text:"),
        (["create", "--kind", "tel", "--content", '{"number": "call me"}'], 1, "content.number:"),
        (
            ["create", "--kind", "vcard", "--content", json.dumps(BIG_CARD)],
            1,
            "content: is too long",
        ),
        (["create", "--kind", "wifi", "--content", WIFI, "--tracked"], 1, "tracked: a wifi code"),
        (["create", "https://e.com", "--kind", "wifi", "--content", WIFI], 1, "target: must be"),
        (["create", "https://e.com", "--content", WIFI], 1, "content: must be left out"),
        (["create", "--kind", "wifi", "--content", WIFI, "--max-scans", "3"], 1, "max_scans:"),
        (["create", "--kind", "barcode"], 2, "invalid choice"),
        (["set", "menu", "--content", '{"text": "x"}'], 1, "content: a url code has no content"),
        (["set", "guests", "--content", '{"ssid": ""}'], 1, "content.ssid:"),
        (["set", "guests", "--target", "https://e.com"], 1, "target: must be left out"),
        (["set", "guests", "--content", "nope"], 2, "--content: not JSON"),
        (["logo", "menu"], 2, "give FILE to upload a logo, or --delete"),
        (["logo", "menu", "fine.svg", "--delete"], 2, "give FILE to upload a logo, or --delete"),
        (["logo", "menu", "evil.svg"], 1, "logo: an SVG logo must not contain scripts"),
        (["logo", "menu", "html.png"], 1, "logo: is not a readable PNG image"),
        (["logo", "menu", "empty.svg"], 1, "logo: empty.svg is empty"),
        (["logo", "menu", "huge.svg"], 1, "logo: must be at most 256 KiB"),
        (["logo", "menu", "logo.gif"], 1, "logo: logo.gif is not a .png, .jpg, .jpeg or .svg"),
        (["logo", "menu", "missing.svg"], 1, "logo: cannot read missing.svg"),
        (["logo", "nope", "fine.svg"], 1, "no code with slug 'nope'"),
        (["logo", "menu", "--delete"], 1, "code 'menu' has no logo"),
        (["qr", "menu", "--logo", "-o", "x.png"], 1, "logo: this code has no logo"),
        (["logo", "menu", "fine.svg", "--as", "nobody@example.com"], 1, "--as: there is no user"),
    ],
)
def test_bad_input_is_one_line_naming_the_field_and_changes_nothing(
    folder: Path, args: list[str], code: int, message: str
) -> None:
    before = database_content(folder / "scanlet.db")
    result = scanlet(*(args if args[0] == "qr" else ["codes", *args]), cwd=folder)
    assert result.returncode == code, result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert database_content(folder / "scanlet.db") == before
