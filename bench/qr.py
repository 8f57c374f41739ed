"""Render time of QR images at print sizes, per format, with and without logo and check.

Run: `python bench/qr.py [--rounds N]`. CPU only, in process, no server. Every render
misses the cache (a renderer with no entries), so each figure is the full cost: layout,
drawing, encoding and, where on, the decode check. The baseline, measured in the same run,
is segno's own plain PNG of the same payload (segno writes PNGs itself, without Pillow, at
12 pixels per module: about 30 mm at 300 dpi for this payload); ratios are to it.
The figure for the issue (#16): a checked 30 mm, 300 dpi PNG with a logo; goal under 50 ms.
Then the cost of checking an uploaded logo (``load_logo``: Pillow's decode of a PNG or JPEG,
the SVG sanitiser), paid once per upload and once per logo a process first draws.
An archive of 1000 codes as PDF, with peak memory: bench/qr_archive.py (``--logo`` too).
"""

from __future__ import annotations

import argparse
import io
import platform
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial

import segno
from PIL import Image, ImageDraw

from scanlet.adapters.qr_images import Logo, QrOptions, QrRenderer, load_logo

PAYLOAD = "https://qr.example.com/q/Ab3xYz9k"


def median_ms(run: Callable[[], object], rounds: int) -> float:
    """Median wall time of ``run`` in milliseconds, after one warm-up call."""
    run()
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def segno_png() -> bytes:
    out = io.BytesIO()
    segno.make_qr(PAYLOAD, error="M").save(out, kind="png", scale=12, border=4)
    return out.getvalue()


def make_logo() -> Logo:
    image = Image.new("RGBA", (400, 400), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.ellipse((0, 0, 399, 399), fill=(21, 101, 192, 255))
    draw.rectangle((120, 120, 280, 280), fill=(255, 255, 255, 255))
    out = io.BytesIO()
    image.save(out, "PNG")
    return load_logo(out.getvalue(), "image/png")


def uploads() -> list[tuple[str, bytes, str]]:
    """Logos as users upload them: a 1000 px PNG and JPEG, an SVG of 100 shapes."""
    image = Image.new("RGB", (1000, 1000), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    for n in range(0, 500, 50):  # a few rings: a logo, well under 256 KiB in either format
        draw.ellipse((n, n, 999 - n, 999 - n), outline=(n % 255, 80, 200), width=12)
    found: list[tuple[str, bytes, str]] = []
    for fmt in ("PNG", "JPEG"):
        out = io.BytesIO()
        image.save(out, fmt)
        found.append((f"{fmt} 1000 px {len(out.getvalue()) // 1024} KiB", out.getvalue(),
                      f"image/{fmt.lower()}"))  # fmt: skip
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100">'
        + "".join(f'<circle cx="{n}" cy="50" r="{n % 40 + 5}" fill="#1565c0"/>' for n in range(100))
        + "</svg>"
    ).encode()
    found.append((f"SVG 100 shapes {len(svg) // 1024} KiB", svg, "image/svg+xml"))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    rounds: int = args.rounds
    renderer = QrRenderer(max_entries=0)
    logo = make_logo()

    print(f"python {sys.version.split()[0]} on {platform.machine()}, segno {segno.__version__}")
    baseline = median_ms(segno_png, rounds)
    print(f"baseline: segno plain PNG, 12 px/module: {baseline:.2f} ms (median of {rounds})")
    print()
    print(f"{'format':<6} {'size':<7} {'logo':<5} {'check':<6} {'ms':>8} {'x baseline':>11}")
    rows: list[tuple[str, str, bool, bool]] = [
        (fmt, size, with_logo, check)
        for fmt in ("png", "svg", "pdf", "eps")
        for size in ("30mm", "100mm")
        for with_logo in (False, True)
        for check in (False, True)
    ]
    figure = 0.0
    for fmt, size, with_logo, check in rows:
        options = QrOptions(format=fmt, size=size, logo=with_logo)  # type: ignore[arg-type]
        used = logo if with_logo else None

        def run(
            options: QrOptions = options, used: Logo | None = used, check: bool = check
        ) -> None:
            renderer.render(PAYLOAD, options, used, check=check)

        ms = median_ms(run, rounds)
        if (fmt, size, with_logo, check) == ("png", "30mm", True, True):
            figure = ms
        print(
            f"{fmt:<6} {size:<7} {'yes' if with_logo else 'no':<5} {'yes' if check else 'no':<6} "
            f"{ms:>8.2f} {ms / baseline:>11.2f}"
        )
    print()
    print(f"{'upload check':<24} {'ms':>8} {'x baseline':>11}")
    for label, data, media_type in uploads():
        ms = median_ms(partial(load_logo, data, media_type), rounds)
        print(f"{label:<24} {ms:>8.2f} {ms / baseline:>11.2f}")
    print()
    verdict = "meets" if figure < 50 else "misses"
    print(
        f"checked 30 mm, 300 dpi PNG with a logo: {figure:.1f} ms, {figure / baseline:.1f}x "
        f"segno's plain PNG; {verdict} the goal of 50 ms"
    )


if __name__ == "__main__":
    main()
