"""``scanlet export``: data out to stdout."""

from __future__ import annotations

import argparse

from scanlet.cli.common import (
    Parser,
    Subcommands,
    db_flag,
    quiet_flag,
    run,
    settings_from,
    time_arg,
)
from scanlet.cli.progress import progress

__all__ = ("register",)


def cmd_export_scans(args: argparse.Namespace) -> int:
    """Stream raw scans to stdout as CSV or JSON lines, oldest first."""
    from scanlet.assembly.read_models import export_scans

    settings = settings_from(args)
    with progress("export", unit="scan", quiet=args.quiet) as bar:
        return run(
            lambda: export_scans(
                settings,
                args.slug,
                args.start,
                args.end,
                args.format,
                written=bar.advance,
                total=bar.total if bar.shown else None,
            )
        )


def cmd_export_archive(args: argparse.Namespace) -> int:
    """Write everything needed to move this Scanlet (codes, scans, webhooks and keys
    without secrets) to stdout as JSON lines."""
    import sys

    from scanlet.assembly.archive import export_archive
    from scanlet.cli.progress import progress

    settings = settings_from(args)
    with progress("export", unit="scan", quiet=args.quiet) as bar:
        scans = run(lambda: export_archive(settings, sys.stdout.buffer, bar.advance))
    print(f"scanlet: archived {scans} scans", file=sys.stderr)
    return 0


def register(sub: Subcommands) -> None:
    export = sub.add_parser("export", help="export data to stdout")
    export_sub = export.add_subparsers(dest="export_command", required=True, parser_class=Parser)
    scans = export_sub.add_parser("scans", help="stream raw scans to stdout, oldest first")
    scans.add_argument("--slug", help="only this code's scans (default: every scan and orphan)")
    scans.add_argument(
        "--from", dest="start", type=time_arg, metavar="TIME", help="RFC 3339, inclusive"
    )
    scans.add_argument(
        "--to", dest="end", type=time_arg, metavar="TIME", help="RFC 3339, exclusive"
    )
    scans.add_argument("--format", choices=["csv", "jsonl"], default="csv")
    quiet_flag(scans)
    db_flag(scans)
    scans.set_defaults(func=cmd_export_scans)

    archive = export_sub.add_parser(
        "archive", help="everything needed to move this Scanlet, as JSON lines on stdout"
    )
    archive.add_argument("--quiet", action="store_true", help="no progress bar")
    db_flag(archive)
    archive.set_defaults(func=cmd_export_archive)
