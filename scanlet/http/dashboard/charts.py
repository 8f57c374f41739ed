"""Server-side SVG charts: scans over time, labelled and readable without JavaScript.

A chart is an ``<svg role="img">`` whose ``<title>`` and ``<desc>`` (named by
``aria-labelledby``) say what it shows and sum it up, with both axes labelled; each bar has
its own ``<title>`` as a tooltip. Colours come from the stylesheet through classes, so the
strict Content-Security-Policy (no inline styles) holds. Every text is escaped here, since
the result is inserted into a page as markup.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime
from html import escape
from zoneinfo import ZoneInfo

from markupsafe import Markup

from scanlet.actors.analytics.stats import Bucket

__all__ = ("bucket_label", "nice_ticks", "series_chart")

WIDTH, HEIGHT = 760, 260
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 16, 52
#: Above this many buckets the series is drawn as one area path instead of bars.
MAX_BARS = 200

_FORMATS = {
    "hour": "%d %b %H:%M",
    "day": "%d %b",
    "week": "%d %b",
    "month": "%b %Y",
}
_UNITS = {"hour": "per hour", "day": "per day", "week": "per week", "month": "per month"}


def nice_ticks(peak: int, most: int = 5) -> list[int]:
    """Round tick values from 0 to at least ``peak``: ``nice_ticks(37)`` -> [0, 10, 20, 30, 40]."""
    if peak <= 0:
        return [0, 1]
    raw = peak / (most - 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    step = max(1, int(step))
    top = -(-peak // step) * step
    return list(range(0, top + 1, step))


def bucket_label(start: datetime, interval: str, tz: str) -> str:
    """How a bucket's start is written on the axis, in the chart's time zone."""
    return start.astimezone(ZoneInfo(tz)).strftime(_FORMATS.get(interval, "%d %b"))


def _label_indexes(count: int, most: int = 7) -> list[int]:
    if count <= most:
        return list(range(count))
    step = math.ceil(count / most)
    return list(range(0, count, step))


def series_chart(
    series: Sequence[Bucket], *, interval: str, tz: str, title: str, chart_id: str
) -> Markup:
    """An SVG bar chart of scans per bucket (bots excluded upstream), as safe markup."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    values = [bucket.scans for bucket in series]
    ticks = nice_ticks(max(values, default=0))
    top = ticks[-1]
    total = sum(values)
    count = max(1, len(series))
    slot = plot_w / count

    def y(value: int) -> float:
        return TOP + plot_h - (value / top) * plot_h

    labels = [bucket_label(bucket.start, interval, tz) for bucket in series]
    if series:
        peak_at = values.index(max(values))
        summary = (
            f"{total} scans from {labels[0]} to {labels[-1]} ({_UNITS.get(interval, '')}, "
            f"{tz}); the busiest was {labels[peak_at]} with {values[peak_at]}."
        )
    else:
        summary = "No buckets in this range."
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" '
        f'xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(summary)}</desc>',
    ]
    for tick in ticks:
        ty = y(tick)
        parts.append(
            f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{ty:.1f}" y2="{ty:.1f}"/>'
            f'<text class="tick" x="{LEFT - 6}" y="{ty + 4:.1f}" text-anchor="end">{tick}</text>'
        )
    if len(series) <= MAX_BARS:
        width = max(1.0, slot * 0.8)
        for index, (bucket, label) in enumerate(zip(series, labels, strict=True)):
            bar_y = y(bucket.scans)
            parts.append(
                f'<rect class="bar" x="{LEFT + index * slot + (slot - width) / 2:.1f}" '
                f'y="{bar_y:.1f}" width="{width:.1f}" height="{TOP + plot_h - bar_y:.1f}">'
                f"<title>{escape(label)}: {bucket.scans} scans, "
                f"{bucket.unique_visitors} unique visitors</title></rect>"
            )
    else:
        points = " ".join(
            f"L{LEFT + (i + 0.5) * slot:.1f},{y(v):.1f}" for i, v in enumerate(values)
        )
        base = TOP + plot_h
        parts.append(
            f'<path class="area" d="M{LEFT + slot / 2:.1f},{base} {points} '
            f'L{LEFT + (count - 0.5) * slot:.1f},{base} Z"/>'
        )
    for index in _label_indexes(len(series)):
        x = LEFT + (index + 0.5) * slot
        parts.append(
            f'<text class="tick" x="{x:.1f}" y="{TOP + plot_h + 16}" text-anchor="middle">'
            f"{escape(labels[index])}</text>"
        )
    axis_y = TOP + plot_h
    parts.append(
        f'<line class="axis" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{axis_y}" y2="{axis_y}"/>'
        f'<line class="axis" x1="{LEFT}" x2="{LEFT}" y1="{TOP}" y2="{axis_y}"/>'
        f'<text class="axis-label" x="{LEFT + plot_w / 2:.1f}" y="{HEIGHT - 8}" '
        f'text-anchor="middle">Time ({escape(tz)}, {_UNITS.get(interval, interval)})</text>'
        f'<text class="axis-label" x="14" y="{TOP + plot_h / 2:.1f}" text-anchor="middle" '
        f'transform="rotate(-90 14 {TOP + plot_h / 2:.1f})">Scans (bots excluded)</text>'
        "</svg>"
    )
    return Markup("".join(parts))
