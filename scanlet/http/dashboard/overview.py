"""The overview page: totals, a chart across all codes, top codes and orphan scans."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from scanlet.http.dashboard.charts import series_chart
from scanlet.http.dashboard.figures import INTERVAL_LABELS, RANGES, load_stats, selection
from scanlet.http.dashboard.pages import render
from scanlet.http.dashboard.session import User
from scanlet.http.scans_api import raw_scans
from scanlet.http.scoping import limited_codes
from scanlet.http.services import services
from scanlet.storage.records import RawScanQuery

__all__ = ("overview",)

ORPHANS_SHOWN = 10


async def overview(request: Request, user: User) -> Response:
    """Everything at a glance over the chosen range (bots excluded); for a user limited to
    tags, everything of their codes (as ``/api/v1/stats`` answers them), and no orphan
    scans, which are of no code."""
    svc = services(request)
    chosen = selection(request)
    codes = await limited_codes(svc, user.principal)
    stats = await load_stats(svc, None, chosen, codes)
    if codes is None:
        live_codes = len(svc.index)
        orphans = await raw_scans(svc).page(RawScanQuery(orphan=True), limit=ORPHANS_SHOWN)
        shown, whose = orphans.items, "all codes"
    else:
        live_codes = sum(1 for slug in codes if svc.index.resolve(slug) is not None)
        shown, whose = [], "your codes"
    return render(
        request,
        "overview.html",
        user=user,
        title="Overview",
        live_codes=live_codes,
        stats=stats,
        chart=series_chart(
            stats.series,
            interval=chosen.interval,
            tz=chosen.tz,
            title=f"Scans of {whose} over time",
            chart_id="overview-chart",
        ),
        top=stats.top_codes or [],
        orphans=shown,
        chosen=chosen,
        ranges=RANGES,
        intervals=INTERVAL_LABELS,
    )
