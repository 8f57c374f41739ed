"""``scanlet stats``: a code's (or every code's) figures from the analytics read model.

The flags are read into the API's query parameters and go through the same parsing
(``stats_query``) and the same read model code (``answer_stats``): ``--format json`` prints
the body ``GET /api/v1/codes/{slug}/stats`` (or ``/api/v1/stats``) answers.
"""

from __future__ import annotations

import argparse
import math
from datetime import datetime

from scanlet.actors.analytics.buckets import INTERVALS
from scanlet.actors.analytics.stats import Stats
from scanlet.cli.common import (
    EXIT_OK,
    CommandFailed,
    Subcommands,
    db_flag,
    print_fields,
    print_json,
    printable,
    run,
    settings_from,
)
from scanlet.clock import SystemClock
from scanlet.http.stats_api import answer_stats, stats_query
from scanlet.storage.opening import open_storage

__all__ = ("register", "sparkline")

_BARS = "▁▂▃▄▅▆▇█"
#: Buckets per sparkline line: a year of days still reads as a few lines.
_SPARK_WIDTH = 72
#: Flags that are the API's query parameters (the flag's dest -> the parameter).
_PARAMS = {"start": "from", "end": "to", "interval": "interval", "tz": "tz", "top": "top"}


def sparkline(values: list[int]) -> str:
    """One character per value, its height relative to the largest; a space for zero.

    ``sparkline([0, 1, 4, 8])`` -> ``" ▁▄█"``.
    """
    peak = max(values, default=0)
    if peak == 0:
        return " " * len(values)
    return "".join(
        " " if v == 0 else _BARS[max(1, math.ceil(v * len(_BARS) / peak)) - 1] for v in values
    )


def _rfc3339(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _breakdown(counts: dict[str, int]) -> str:
    # Names come from visitors (referrer hosts, agents): printable before they are printed.
    return ", ".join(f"{printable(name)} {count}" for name, count in counts.items()) or "-"


def _print_table(stats: Stats) -> None:
    scans = [bucket.scans for bucket in stats.series]
    spark = sparkline(scans)
    lines = [spark[i : i + _SPARK_WIDTH] for i in range(0, len(spark), _SPARK_WIDTH)] or [""]
    fields: dict[str, object] = {
        "code": stats.slug or "(all codes)",
        "range": f"{_rfc3339(stats.from_)} to {_rfc3339(stats.to)}",
        "buckets": f"{len(scans)} x {stats.interval} ({stats.tz}), most {max(scans, default=0)}",
        "total": stats.total,
        "unique_visitors": stats.unique_visitors,
        "bots": stats.bots,
        "excluded": stats.excluded,
        "series": f"|{lines[0]}|",
    }
    fields.update({f"series+{n}": f"|{line}|" for n, line in enumerate(lines[1:], 1)})
    fields.update(
        {
            "by_source": _breakdown(stats.by_source),
            "by_device": _breakdown(stats.by_device),
            "by_os": _breakdown(stats.by_os),
            "by_browser": _breakdown(stats.by_browser),
            "by_referrer": _breakdown(stats.by_referrer),
            "by_country": _breakdown(stats.by_country),
            "by_target": _breakdown(stats.by_target),
            "by_rule": _breakdown(stats.by_rule),
        }
    )
    if stats.top_codes is not None:
        fields["top_codes"] = ", ".join(f"{c.slug} {c.scans}" for c in stats.top_codes) or "-"
    print_fields(fields)


def cmd_stats(args: argparse.Namespace) -> int:
    """Print the stats of a code, or of all codes."""
    params = {
        name: str(getattr(args, dest))
        for dest, name in _PARAMS.items()
        if getattr(args, dest) is not None
    }
    for flag in ("include_bots", "include_excluded"):
        if getattr(args, flag):
            params[flag] = "true"
    query = stats_query(params, args.slug, SystemClock().now())
    settings = settings_from(args)

    async def answer() -> Stats:
        async with open_storage(settings, create=False) as storage:
            # As the API: a code that is, or was, there (its scans outlive it).
            if args.slug is not None and await storage.codes.find(args.slug) is None:
                raise CommandFailed(f"no code with slug {args.slug!r}")
            return await answer_stats(storage.analytics, query)

    stats = run(answer)
    if args.format == "json":
        print_json(stats)
    else:
        _print_table(stats)
    return EXIT_OK


def register(sub: Subcommands) -> None:
    stats = sub.add_parser(
        "stats",
        help="scans, visitors, a sparkline and the top breakdowns of a code or of all",
        description="The figures of GET /api/v1/codes/{slug}/stats (or /api/v1/stats without "
        "SLUG); --format json prints that body.",
    )
    stats.add_argument("slug", metavar="SLUG", nargs="?", help="one code (default: all codes)")
    stats.add_argument("--from", dest="start", metavar="TIME", help="RFC 3339 (to - 30 days)")
    stats.add_argument("--to", dest="end", metavar="TIME", help="RFC 3339, exclusive (now)")
    stats.add_argument("--interval", help=f"bucket size: {', '.join(INTERVALS)} (day)")
    stats.add_argument("--tz", metavar="ZONE", help="IANA time zone of the buckets (UTC)")
    stats.add_argument("--top", metavar="N", help="values per breakdown, 1-100 (20)")
    stats.add_argument("--include-bots", action="store_true", help="count bots everywhere")
    stats.add_argument(
        "--include-excluded",
        action="store_true",
        help="count own scans (SCANLET_EXCLUDE_FROM, exclude-me) everywhere",
    )
    stats.add_argument("--format", choices=["table", "json"], default="table")
    db_flag(stats)
    stats.set_defaults(func=cmd_stats)
