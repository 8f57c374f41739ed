"""``scanlet qr`` through the real executable: images decoded by zxing-cpp, the API's
refusals, and a terminal drawing that scans off the screen."""

import io
import re
import subprocess
import zipfile
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image

from tests.clirun import SCANLET, on_terminal, scanlet

PAYLOAD = "http://127.0.0.1:8000/q/menu"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    for args in (["migrate"], ["codes", "create", "https://example.com/menu", "--slug", "menu"]):
        assert scanlet(*args, cwd=tmp_path).returncode == 0
    return tmp_path


def decoded(image: Image.Image) -> list[str]:
    return [found.text for found in zxingcpp.read_barcodes(image.convert("L"))]


def test_a_png_written_to_a_file_decodes_to_the_codes_payload(folder: Path) -> None:
    result = scanlet(
        "qr", "menu", "--format", "png", "--size", "30mm", "--dpi", "300", "-o", "menu.png",
        cwd=folder,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    image = Image.open(folder / "menu.png")
    assert image.size == (354, 354)  # 30 mm at 300 dpi, as the API makes it
    assert decoded(image) == [PAYLOAD]


def test_a_dash_or_a_pipe_gets_the_image_on_stdout(folder: Path) -> None:
    png = subprocess.run(
        [SCANLET, "qr", "menu", "--format", "png", "-o", "-"], cwd=folder, capture_output=True
    )
    assert png.returncode == 0
    assert decoded(Image.open(io.BytesIO(png.stdout))) == [PAYLOAD]
    piped = scanlet("qr", "menu", cwd=folder)
    assert piped.returncode == 0
    assert "<svg" in piped.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nope"], "no code with slug 'nope'"),
        (["menu", "--scale", "0"], "scale: must be a whole number from 1 to 50"),
        (["menu", "--size", "30mm", "--scale", "4"], "scale"),
        (["menu", "--format", "png", "--size", "9000px"], "size:"),
        (["menu", "--dark", "fff"], "dark: must differ from light"),
        (["menu", "--ecc", "Z"], "ecc:"),
        (["menu", "--label", "x" * 41], "label:"),
        (["menu", "-o", "{tmp}/missing/dir/menu.svg"], "cannot write"),
    ],
)
def test_what_the_api_refuses_is_one_line(folder: Path, args: list[str], message: str) -> None:
    filled = [a.format(tmp=folder) for a in args]
    output = [] if "-o" in filled else ["-o", "x.svg"]
    result = scanlet("qr", *filled, *output, cwd=folder)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1, result.stderr
    assert message in result.stderr
    assert not (folder / "x.svg").exists()


def test_on_a_terminal_the_code_is_drawn_in_half_blocks_that_scan(folder: Path) -> None:
    code, _, text = on_terminal(folder, "qr", "menu")
    assert code == 0
    plain = re.sub(r"\x1b\[[0-9;]*m", "", text).replace("\r", "")
    lines = [line for line in plain.split("\n") if line]
    assert lines[-1] == PAYLOAD
    drawing = lines[:-1]
    assert set("".join(drawing)) <= {" ", "▀", "▄", "█"}
    # Back to pixels as a screen shows them (dark glyph halves on white), then decoded.
    scale = 6
    width, height = len(drawing[0]), 2 * len(drawing)
    image = Image.new("L", (width * scale, height * scale), 255)
    for y, line in enumerate(drawing):
        for x, glyph in enumerate(line):
            for half, dark in enumerate((glyph in "▀█", glyph in "▄█")):
                if dark:
                    top = (2 * y + half) * scale
                    image.paste(0, (x * scale, top, (x + 1) * scale, top + scale))
    assert decoded(image) == [PAYLOAD]


def test_qr_reads_the_code_from_either_backend(scanlet_db: str, tmp_path: Path) -> None:
    db = ["--db", scanlet_db]
    assert scanlet("migrate", *db, cwd=tmp_path).returncode == 0
    made = scanlet("codes", "create", "https://example.com", "--slug", "menu", *db, cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    result = scanlet("qr", "menu", "--format", "png", "-o", "menu.png", *db, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert decoded(Image.open(tmp_path / "menu.png")) == [PAYLOAD]


def test_qr_archive_writes_the_zip_the_api_serves(folder: Path) -> None:
    created = scanlet("codes", "create", "https://example.com/bar", "--slug", "bar", cwd=folder)
    assert created.returncode == 0
    result = scanlet("qr-archive", "--format", "png", "--scale", "4", "-o", "codes.zip", cwd=folder)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "wrote codes.zip: 2 images and index.csv"
    archive = zipfile.ZipFile(folder / "codes.zip")
    assert sorted(archive.namelist()) == ["bar.png", "index.csv", "menu.png"]
    assert decoded(Image.open(io.BytesIO(archive.read("menu.png")))) == [PAYLOAD]
    index = archive.read("index.csv").decode().splitlines()
    assert index[0] == "slug,title,target,short_url,file,error,kind"
    piped = subprocess.run(
        [SCANLET, "qr-archive", "--tag", "none"], cwd=folder, capture_output=True
    )
    assert piped.returncode == 0
    assert zipfile.ZipFile(io.BytesIO(piped.stdout)).namelist() == ["index.csv"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--dark", "fff"], "dark: must differ from light"),
        (["--format", "gif"], "invalid choice"),
        (["-o", "/nonexistent/dir/x.zip"], "cannot write /nonexistent/dir/x.zip"),
    ],
)
def test_qr_archive_refusals_are_one_line(folder: Path, args: list[str], message: str) -> None:
    result = scanlet("qr-archive", *args, cwd=folder)
    assert result.returncode in (1, 2)
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
