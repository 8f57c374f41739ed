"""QR archives: time per code and the server's peak memory for a ZIP of 1000 codes as PDF.

One ``scanlet serve`` (SQLite) with ``--codes`` codes (1000 by default). The archive of
the first tenth of them (a tag) is downloaded first, the baseline in the same run; then the
archive of all of them. "Flat memory" means the server's resident set grows no more for
ten times the codes: the figures printed are its RSS before and after each download and
the peak (VmHWM), with the time per code of each.
With ``--logo`` every code gets the same PNG logo (PUT .../logo) and the archives are
drawn with ``logo=true``: each code's image then carries the logo, checked by decoding.
Run: python bench/qr_archive.py [--codes 1000] [--format pdf] [--size 30mm] [--logo]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import zipfile
from io import BytesIO
from pathlib import Path

import httpx
from PIL import Image, ImageDraw

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.processes import Served, served


def memory_kib(instance: Served) -> tuple[int, int]:
    """The server process's resident set and its peak so far, in KiB."""
    fields = {}
    for line in Path(f"/proc/{instance.proc.pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        fields[name] = value.split()[0] if value.split() else "0"
    return int(fields["VmRSS"]), int(fields["VmHWM"])


def download(instance: Served, token: str, query: str) -> tuple[float, int, int]:
    """Seconds, entries and bytes of one archive, read as it streams."""
    start = time.perf_counter()
    body = BytesIO()
    with httpx.stream(
        "GET",
        f"{instance.base}/api/v1/qr-archive?{query}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=600,
    ) as answer:
        answer.raise_for_status()
        for chunk in answer.iter_bytes():
            body.write(chunk)
    seconds = time.perf_counter() - start
    entries = len(zipfile.ZipFile(body).namelist())
    return seconds, entries, body.tell()


def logo_png() -> bytes:
    """A 400 px round logo with a white square, as bench/qr.py draws one."""
    image = Image.new("RGBA", (400, 400), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.ellipse((0, 0, 399, 399), fill=(21, 101, 192, 255))
    draw.rectangle((120, 120, 280, 280), fill=(255, 255, 255, 255))
    out = BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--codes", type=int, default=1000)
    parser.add_argument("--format", default="pdf")
    parser.add_argument("--size", default="30mm")
    parser.add_argument("--logo", action="store_true", help="every code with a logo")
    args = parser.parse_args()
    logo = logo_png() if args.logo else None
    with tempfile.TemporaryDirectory() as tmp, served(Path(tmp)) as instance:
        token = instance.key("write", name="bench")
        with httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=30) as client:
            for n in range(args.codes):
                tags = ["tenth"] if n % 10 == 0 else []
                made = client.post(
                    f"{instance.base}/api/v1/codes",
                    json={"target": f"https://example.com/{n}", "tags": tags},
                )
                made.raise_for_status()
                if logo is not None:
                    client.put(
                        f"{instance.base}/api/v1/codes/{made.json()['slug']}/logo",
                        content=logo,
                        headers={"content-type": "image/png"},
                    ).raise_for_status()
        options = f"format={args.format}&size={args.size}" + ("&logo=true" if logo else "")
        for label, query in (("tenth", f"tag=tenth&{options}"), ("all", options)):
            rss_before, _ = memory_kib(instance)
            seconds, entries, size = download(instance, token, query)
            rss_after, peak = memory_kib(instance)
            codes = entries - 1  # the index
            print(
                f"{label:6} {codes:5} codes  {seconds * 1000 / codes:6.1f} ms/code  "
                f"{size / 1e6:6.1f} MB zip  rss {rss_before / 1024:6.1f} -> "
                f"{rss_after / 1024:6.1f} MiB  peak {peak / 1024:6.1f} MiB",
                flush=True,
            )


if __name__ == "__main__":
    main()
