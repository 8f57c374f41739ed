"""Server-side SVG charts: labelled, accessible, escaped, and scaled to round ticks."""

from __future__ import annotations

import itertools
import re
from datetime import UTC, datetime, timedelta
from xml.etree import ElementTree

from hypothesis import given
from hypothesis import strategies as st

from scanlet.actors.analytics.stats import Bucket
from scanlet.http.dashboard.charts import MAX_BARS, nice_ticks, series_chart

START = datetime(2026, 3, 1, tzinfo=UTC)
SVG = "{http://www.w3.org/2000/svg}"


def _series(*scans: int) -> list[Bucket]:
    return [Bucket(START + timedelta(days=i), n, n // 2) for i, n in enumerate(scans)]


@given(st.integers(min_value=0, max_value=10**9))
def test_ticks_start_at_zero_are_even_and_cover_the_peak(peak: int) -> None:
    ticks = nice_ticks(peak)
    assert ticks[0] == 0
    assert ticks[-1] >= peak
    assert len(ticks) <= 6
    assert len({b - a for a, b in itertools.pairwise(ticks)}) == 1


def test_a_chart_has_a_title_a_summary_axis_labels_and_one_bar_per_bucket() -> None:
    svg = series_chart(_series(3, 0, 7), interval="day", tz="UTC", title="Scans", chart_id="c")
    root = ElementTree.fromstring(str(svg))
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "c-title c-desc"
    assert root.find(f"{SVG}title").text == "Scans"  # type: ignore[union-attr]
    desc = root.find(f"{SVG}desc").text  # type: ignore[union-attr]
    assert desc == ("10 scans from 01 Mar to 03 Mar (per day, UTC); the busiest was 03 Mar with 7.")
    labels = [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "axis-label"]
    assert labels == ["Time (UTC, per day)", "Scans (bots excluded)"]
    bars = [r for r in root.iter(f"{SVG}rect") if r.get("class") == "bar"]
    assert len(bars) == 3
    assert bars[2].find(f"{SVG}title").text == "03 Mar: 7 scans, 3 unique visitors"  # type: ignore[union-attr]


def test_bucket_labels_follow_the_chart_time_zone() -> None:
    svg = series_chart(_series(1), interval="hour", tz="Asia/Tokyo", title="t", chart_id="c")
    assert "01 Mar 09:00" in str(svg)


def test_text_in_a_chart_is_escaped() -> None:
    svg = series_chart(_series(1), interval="day", tz="UTC", title="<b>&</b>", chart_id="c")
    assert "&lt;b&gt;&amp;&lt;/b&gt;" in str(svg)
    ElementTree.fromstring(str(svg))


def test_a_long_series_is_one_area_path_instead_of_thousands_of_bars() -> None:
    svg = str(
        series_chart(
            _series(*range(MAX_BARS + 1)), interval="day", tz="UTC", title="t", chart_id="c"
        )
    )
    assert 'class="bar"' not in svg
    assert len(re.findall(r'class="area"', svg)) == 1


def test_an_empty_range_still_draws_labelled_axes() -> None:
    svg = str(series_chart([], interval="day", tz="UTC", title="t", chart_id="c"))
    assert "No buckets in this range." in svg
    assert "Scans (bots excluded)" in svg
