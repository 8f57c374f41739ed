"""``scanlet import``: codes and visits from Shlink, YOURLS, Kutt, CSV files and archives.

Every importer shares the flags and the way it reports: one line per code on stdout
(``created``, ``renamed``, ``kept``, ``skipped``, ``failed``), a summary line, the
failures again on stderr, and exit code 1 if any item failed.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import AsyncIterable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import structlog

from scanlet import priority
from scanlet.actors.access.roles import Principal, Role
from scanlet.cli.acting import acting, acting_email, as_flag
from scanlet.cli.common import (
    EXIT_FAILED,
    EXIT_OK,
    CommandFailed,
    Parser,
    Subcommands,
    db_flag,
    run,
    settings_from,
)
from scanlet.cli.progress import Progress, progress
from scanlet.cli.users import with_storage
from scanlet.http.scoping import refuse_if_limited
from scanlet.importing import Conflict, ImportReport, SourceItem
from scanlet.storage.ports import Storage

__all__ = ("register",)

#: Failures listed on stderr at most (all of them are in the per-item lines on stdout).
MAX_LISTED_FAILURES = 100


def _print_report(report: ImportReport, *, dry_run: bool) -> int:
    for label, outcome, detail in report.items:
        print(f"{outcome:8} {label}  {detail}")
    for label, text in report.notes:
        print(f"note     {label}  {text}")
    print(("dry run: " if dry_run else "") + report.summary(dry_run=dry_run))
    for label, reason in report.failures[:MAX_LISTED_FAILURES]:
        print(f"scanlet: failed: {label}: {reason}", file=sys.stderr)
    if len(report.failures) > MAX_LISTED_FAILURES:
        print(f"scanlet: ... {len(report.failures)} failures in all", file=sys.stderr)
    if report.stopped is not None:
        print(f"scanlet: import stopped: {report.stopped}", file=sys.stderr)
    return EXIT_FAILED if report.failed else EXIT_OK


@contextmanager
def _warnings_only_on_stderr() -> Iterator[None]:
    """The actors' info lines (one per code created) would drown the report on stdout: for
    the command's duration, only warnings and errors are logged, on stderr."""
    saved = structlog.get_config()
    structlog.configure(
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING),
        cache_logger_on_first_use=False,
    )
    try:
        yield
    finally:
        structlog.configure(**saved)


async def importer(storage: Storage, args: argparse.Namespace) -> Principal:
    """Who may import, under ``--as``: an admin without a tag limit. An import brings codes
    of any tags and writes past visits into the history, all recorded as the import's."""
    principal = await acting(storage, args, Role.ADMIN)
    refuse_if_limited(principal, "imports")
    return principal


class _ImportBar:
    """What the import reports, drawn on ``bar``: codes done of all the source holds, or
    with ``by_bytes`` bytes of its file read of the file's size (an archive, whose visits
    all come after its codes); the visits so far and their rate beside it."""

    def __init__(self, bar: Progress, *, by_bytes: bool) -> None:
        self._bar = bar
        self._by_bytes = by_bytes
        self._codes = 0
        self._visits = 0
        self._size: int | None = None
        self._started = time.monotonic()

    def advance(self, codes: int, visits: int) -> None:
        self._codes += codes
        self._visits += visits
        if not self._by_bytes:
            self._bar.advance(codes)
        if not self._visits:
            return
        rate = self._visits / max(time.monotonic() - self._started, 1e-3)
        counts = f"{self._visits} visits, {rate:.0f} visits/s"
        self._bar.note(f"{self._codes} codes, {counts}" if self._by_bytes else counts)

    def total(self, codes: int) -> None:
        if not self._by_bytes:
            self._bar.total(codes)

    def read(self, done: int, size: int | None) -> None:
        if size is not None and size != self._size:
            self._size = size
            self._bar.total(size)
        self._bar.reach(done)


def run_items(
    args: argparse.Namespace,
    items: Callable[[], AsyncIterable[SourceItem]],
    *,
    by_bytes: bool = False,
) -> int:
    """Import what ``items`` yields with the flags every importer shares; ``by_bytes``: the
    progress bar counts the bytes of the source's file (see ``_ImportBar``)."""
    from scanlet.assembly.importing import run_import

    # An import is bulk work beside a server's redirects (see scanlet.priority).
    if not args.full_priority:
        priority.lower_priority()
    settings = settings_from(args)
    if acting_email(args) is not None:
        with_storage(settings, lambda storage: importer(storage, args))
    unit = "B" if by_bytes else "code"
    with _warnings_only_on_stderr(), progress("import", unit=unit, quiet=args.quiet) as bar:
        shown = _ImportBar(bar, by_bytes=by_bytes)
        report = run(
            lambda: run_import(
                settings,
                items(),
                on_conflict=Conflict(args.on_conflict),
                dry_run=args.dry_run,
                progress=shown.advance,
                total=shown.total,
                read=shown.read,
            )
        )
    return _print_report(report, dry_run=args.dry_run)


def cmd_import_shlink(args: argparse.Namespace) -> int:
    """Short URLs, their visits and the orphan visits of a Shlink server (REST API v3)."""
    from scanlet.importing.sources.shlink import shlink_items

    return run_items(args, lambda: shlink_items(args.url, args.api_key))


def cmd_import_yourls(args: argparse.Namespace) -> int:
    """Links and clicks of a YOURLS with the yourls-shlink-import plugin."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    from scanlet.importing.sources.yourls import yourls_items

    if args.signature:
        credentials = {"signature": args.signature}
    elif args.username and args.password:
        credentials = {"username": args.username, "password": args.password}
    else:
        raise CommandFailed("give --signature, or --username and --password")
    try:
        zone = ZoneInfo(args.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise CommandFailed(f"--timezone: unknown time zone {args.timezone!r}") from None
    return run_items(args, lambda: yourls_items(args.url, credentials, zone))


def cmd_import_kutt(args: argparse.Namespace) -> int:
    """Links of a Kutt server (API v2), with their visit totals (Kutt lists no visits)."""
    from scanlet.importing.sources.kutt import kutt_items

    return run_items(args, lambda: kutt_items(args.url, args.api_key))


def cmd_import_csv(args: argparse.Namespace) -> int:
    """Codes from a CSV file: Scanlet's own format, Shlink's or Bitly's export."""
    from scanlet.importing.sources.csv_files import csv_items

    return run_items(args, lambda: csv_items(Path(args.file), args.format))


def cmd_import_archive(args: argparse.Namespace) -> int:
    """Everything a ``scanlet export archive`` wrote."""
    from scanlet.importing.archive import archive_items

    return run_items(args, lambda: archive_items(Path(args.file)), by_bytes=True)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--on-conflict",
        choices=[c.value for c in Conflict],
        default=Conflict.SKIP.value,
        help="a slug another code has: skip the item, rename it (SLUG-2, ...) or stop "
        "(default: skip)",
    )
    parser.add_argument("--dry-run", action="store_true", help="check everything, store nothing")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument(
        "--full-priority",
        action="store_true",
        help="run at this shell's CPU priority (default: 10 steps lower, so that a server on "
        "the same machine answers first)",
    )
    as_flag(parser)
    db_flag(parser)


def register(sub: Subcommands) -> None:
    imp = sub.add_parser("import", help="import codes and visits from another tool or a file")
    imp_sub = imp.add_subparsers(dest="import_command", required=True, parser_class=Parser)

    shlink = imp_sub.add_parser("shlink", help="from a Shlink server (REST API v3)")
    shlink.add_argument("--url", required=True, help="the Shlink server, e.g. https://s.test")
    shlink.add_argument("--api-key", required=True, help="a Shlink API key")
    _common(shlink)
    shlink.set_defaults(func=cmd_import_shlink)

    yourls = imp_sub.add_parser(
        "yourls", help="from YOURLS (needs its yourls-shlink-import plugin)"
    )
    yourls.add_argument("--url", required=True, help="where YOURLS is, e.g. https://y.test")
    yourls.add_argument("--signature", help="the signature token (Tools page of YOURLS)")
    yourls.add_argument("--username", help="a YOURLS user, with --password")
    yourls.add_argument("--password", help="that user's password")
    yourls.add_argument(
        "--timezone", default="UTC", help="the zone YOURLS's times are in (default UTC)"
    )
    _common(yourls)
    yourls.set_defaults(func=cmd_import_yourls)

    kutt = imp_sub.add_parser("kutt", help="from a Kutt server (API v2; visit totals only)")
    kutt.add_argument("--url", required=True, help="the Kutt server, e.g. https://kutt.test")
    kutt.add_argument("--api-key", required=True, help="a Kutt API key")
    _common(kutt)
    kutt.set_defaults(func=cmd_import_kutt)

    csv = imp_sub.add_parser("csv", help="from a CSV file (scanlet, shlink or bitly columns)")
    csv.add_argument("file", metavar="FILE", help="the CSV file (UTF-8, a header row first)")
    csv.add_argument("--format", choices=["scanlet", "shlink", "bitly"], default="scanlet")
    _common(csv)
    csv.set_defaults(func=cmd_import_csv)

    archive = imp_sub.add_parser("archive", help="from a scanlet export archive file")
    archive.add_argument("file", metavar="FILE", help="the archive (JSON lines)")
    _common(archive)
    archive.set_defaults(func=cmd_import_archive)
