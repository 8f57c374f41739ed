"""Render time of QR images at print sizes, per format, with and without logo and check.

Run: `python bench/qr.py [--rounds N]`. CPU only, in process, no server. Every render
misses the cache (a renderer with no entries), so each figure is the full cost: layout,
drawing, encoding and, where on, the decode check. The baseline, measured in the same run,
is segno's own plain PNG of the same payload (segno writes PNGs itself, without Pillow, at
12 pixels per module: about 30 mm at 300 dpi for this payload); ratios are to it.
The figure for the issue (#16): a checked 30 mm, 300 dpi PNG with a logo; goal under 50 ms.
"""

from __future__ import annotations

import argparse
import io
import platform
import statistics
import sys
import time
from collections.abc import Callable

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
    verdict = "meets" if figure < 50 else "misses"
    print(
        f"checked 30 mm, 300 dpi PNG with a logo: {figure:.1f} ms, {figure / baseline:.1f}x "
        f"segno's plain PNG; {verdict} the goal of 50 ms"
    )


if __name__ == "__main__":
    main()
