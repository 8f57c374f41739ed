"""The overview page: totals, a chart across all codes, top codes and orphan scans."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from scanlet.http.dashboard.charts import series_chart
from scanlet.http.dashboard.figures import INTERVAL_LABELS, RANGES, load_stats, selection
from scanlet.http.dashboard.pages import redirect, render
from scanlet.http.dashboard.session import User
from scanlet.http.scans_api import raw_scans
from scanlet.http.services import services
from scanlet.storage.records import RawScanQuery

__all__ = ("overview",)

ORPHANS_SHOWN = 10


async def overview(request: Request, user: User) -> Response:
    if user.principal.tags is not None:
        # The overview's figures span every code; a tag-limited user starts at their codes.
        return redirect("/dashboard/codes")
    """Everything at a glance over the chosen range (bots excluded)."""
    svc = services(request)
    chosen = selection(request)
    stats = await load_stats(svc, None, chosen)
    orphans = await raw_scans(svc).page(RawScanQuery(orphan=True), limit=ORPHANS_SHOWN)
    return render(
        request,
        "overview.html",
        user=user,
        title="Overview",
        live_codes=len(svc.index),
        stats=stats,
        chart=series_chart(
            stats.series,
            interval=chosen.interval,
            tz=chosen.tz,
            title="Scans of all codes over time",
            chart_id="overview-chart",
        ),
        top=stats.top_codes or [],
        orphans=orphans.items,
        chosen=chosen,
        ranges=RANGES,
        intervals=INTERVAL_LABELS,
    )
