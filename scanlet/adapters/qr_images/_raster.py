"""Drawing a layout in pixels with Pillow: the PNG format, and the raster the check decodes.

Square modules are snapped to whole pixels (crisp edges, every module within one pixel of
its true size). Rounded modules and dots are drawn at up to 4x and reduced, which smooths
their curves; labels are set by FreeType from the bundled font file.
"""

from __future__ import annotations

import io

from PIL import Image, ImageDraw

from scanlet.adapters.qr_images._font import FREETYPE_LOCK, pillow_font
from scanlet.adapters.qr_images._geometry import Contour, polygon
from scanlet.adapters.qr_images._layout import MAX_PIXELS, Layout
from scanlet.adapters.qr_images._options import TRANSPARENT, rgb

__all__ = ("encode_png", "raster")

_DOT_RADIUS = 0.45
_CURVE_STEPS = 6


def raster(layout: Layout, per_module: float) -> Image.Image:
    """The drawing at ``per_module`` pixels per module: RGB, or RGBA on a transparent light."""
    options = layout.options
    width = max(1, round(layout.width * per_module))
    height = max(1, round(layout.height * per_module))
    dark, finder = rgb(options.dark), rgb(options.finder or options.dark)
    if options.light == TRANSPARENT:
        # Transparent white: readers that ignore alpha still see dark on white.
        image = Image.new("RGBA", (width, height), (255, 255, 255, 0))
    else:
        image = Image.new("RGB", (width, height), rgb(options.light))
    factor = 1
    if options.shape != "square":
        factor = max(1, min(4, MAX_PIXELS // max(width, height)))
    size = (width * factor, height * factor)
    modules = Image.new("L", size, 0)
    finders = modules if finder == dark else Image.new("L", size, 0)
    step = per_module * factor
    _draw_modules(ImageDraw.Draw(modules), layout, step)
    _draw_finders(ImageDraw.Draw(finders), layout, step)
    if factor > 1:
        shared = finders is modules
        modules = modules.reduce(factor)
        finders = modules if shared else finders.reduce(factor)
    image.paste(dark + ((255,) if image.mode == "RGBA" else ()), mask=modules)
    if finder != dark:
        image.paste(finder + ((255,) if image.mode == "RGBA" else ()), mask=finders)
    if layout.logo is not None and layout.logo_box is not None:
        x, y, w, h = (v * per_module for v in layout.logo_box)
        box = (round(x), round(y), max(1, round(x + w) - round(x)), max(1, round(y + h) - round(y)))
        logo = layout.logo.raster(box[2], box[3])
        if image.mode == "RGBA":
            image.alpha_composite(logo, (box[0], box[1]))
        else:
            image.paste(logo, (box[0], box[1]), mask=logo)
    if layout.label is not None:
        label = layout.label
        with FREETYPE_LOCK:
            ImageDraw.Draw(image).text(
                ((label.left + label.advance / 2) * per_module, label.baseline * per_module),
                label.text,
                fill=dark + ((255,) if image.mode == "RGBA" else ()),
                font=pillow_font(max(1, round(label.em * per_module))),
                anchor="ms",
            )
    return image


def encode_png(image: Image.Image, dpi: int | None) -> bytes:
    """PNG bytes of ``image``, with its resolution recorded when it has one."""
    out = io.BytesIO()
    if dpi is None:
        image.save(out, "PNG")
    else:
        image.save(out, "PNG", dpi=(dpi, dpi))
    return out.getvalue()


def _draw_modules(draw: ImageDraw.ImageDraw, layout: Layout, step: float) -> None:
    border = layout.border
    shape = layout.options.shape
    if shape == "square":
        # Runs of dark modules per row as rectangles, edges rounded to whole pixels.
        rows: dict[int, list[int]] = {}
        for r, c in layout.cells:
            rows.setdefault(r, []).append(c)
        for r, cols in rows.items():
            cols.sort()
            top, bottom = round((r + border) * step), round((r + border + 1) * step)
            start = previous = cols[0]
            for c in [*cols[1:], -2]:
                if c != previous + 1:
                    left, right = (
                        round((start + border) * step),
                        round((previous + border + 1) * step),
                    )
                    if right > left and bottom > top:
                        draw.rectangle((left, top, right - 1, bottom - 1), fill=255)
                    start = c
                previous = c
        return
    if shape == "dots":
        radius = _DOT_RADIUS * step
        for r, c in layout.cells:
            cx, cy = (c + border + 0.5) * step, (r + border + 0.5) * step
            draw.ellipse((cx - radius, cy - radius, cx + radius, cy + radius), fill=255)
        return
    # Rounded: each module a square whose corners are rounded where both neighbours beside
    # that corner are light, the same shapes the vector formats trace as outlines.
    dark = set(layout.cells)
    for r, c in layout.cells:
        up, down = (r - 1, c) not in dark, (r + 1, c) not in dark
        left, right = (r, c - 1) not in dark, (r, c + 1) not in dark
        x, y = (c + border) * step, (r + border) * step
        radii = [
            0.5 * step if up and left else 0.0,
            0.5 * step if up and right else 0.0,
            0.5 * step if down and right else 0.0,
            0.5 * step if down and left else 0.0,
        ]
        corners = [(x, y), (x + step, y), (x + step, y + step), (x, y + step)]
        draw.polygon(_flatten(polygon(corners, radii)), fill=255)


def _draw_finders(draw: ImageDraw.ImageDraw, layout: Layout, step: float) -> None:
    rounded = layout.options.shape == "rounded"
    far = layout.modules - 7
    for x, y in ((0, 0), (far, 0), (0, far)):
        for inset, fill, radius in ((0, 255, 1.5), (1, 0, 0.75), (2, 255, 0.75)):
            left = round((x + layout.border + inset) * step)
            top = round((y + layout.border + inset) * step)
            right = round((x + layout.border + 7 - inset) * step) - 1
            bottom = round((y + layout.border + 7 - inset) * step) - 1
            if rounded:
                draw.rounded_rectangle((left, top, right, bottom), radius * step, fill=fill)
            else:
                draw.rectangle((left, top, right, bottom), fill=fill)


def _flatten(contour: Contour) -> list[tuple[float, float]]:
    start, segments = contour
    points = [start]
    x0, y0 = start
    for segment in segments:
        if len(segment) == 2:
            points.append(segment)
            x0, y0 = segment
            continue
        x1, y1, x2, y2, x3, y3 = segment
        for i in range(1, _CURVE_STEPS + 1):
            t = i / _CURVE_STEPS
            u = 1 - t
            points.append(
                (
                    u**3 * x0 + 3 * u * u * t * x1 + 3 * u * t * t * x2 + t**3 * x3,
                    u**3 * y0 + 3 * u * u * t * y1 + 3 * u * t * t * y2 + t**3 * y3,
                )
            )
        x0, y0 = x3, y3
    return points
