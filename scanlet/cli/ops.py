"""Running and keeping the service: serve, config, migrate, rebuild and backup."""

from __future__ import annotations

import argparse
from pathlib import Path

import msgspec

from scanlet.cli.common import (
    EXIT_OK,
    CommandFailed,
    Subcommands,
    db_flag,
    quiet_flag,
    run,
    settings_from,
)
from scanlet.cli.progress import Progress, progress
from scanlet.config import mask_password
from scanlet.storage.opening import open_storage

__all__ = ("register",)


class _Countdown:
    """Turns "events left" reports into a bar's total and advances; the total grows when
    a running server appends while the rebuild goes on."""

    def __init__(self, bar: Progress) -> None:
        self._bar = bar
        self._done = 0
        self._total: int | None = None

    def __call__(self, remaining: int) -> None:
        if self._total is None:
            self._total = remaining
            self._bar.total(remaining)
            return
        done = max(self._done, self._total - remaining)
        if done + remaining > self._total:
            self._total = done + remaining
            self._bar.total(self._total)
        self._bar.advance(done - self._done)
        self._done = done


class _Bytes:
    """Bytes copied so far, of how many, as a bar's total and advances."""

    def __init__(self, bar: Progress) -> None:
        self._bar = bar
        self._shown = 0
        self._total = 0

    def __call__(self, done: int, total: int) -> None:
        if total != self._total:
            self._total = total
            self._bar.total(total)
        if done > self._shown:
            self._bar.advance(done - self._shown)
            self._shown = done


def cmd_serve(args: argparse.Namespace) -> int:
    """Run the HTTP server and the actor system until SIGINT or SIGTERM."""
    from scanlet.serving import serve  # imported late: the server pulls in uvicorn

    settings = settings_from(
        args,
        HOST=args.host,
        PORT=None if args.port is None else str(args.port),
        BASE_URL=args.base_url,
        LOG_FORMAT=args.log_format,
        LOG_LEVEL=args.log_level,
    )
    return serve(settings)


def cmd_config(args: argparse.Namespace) -> int:
    """Print the effective configuration."""
    settings = settings_from(args)
    shown = settings.masked()
    if args.format == "json":
        print(msgspec.json.encode(shown).decode())
    else:
        width = max(map(len, shown))
        for name, value in shown.items():
            print(f"{name.ljust(width)}  {value}")
    return EXIT_OK


def cmd_migrate(args: argparse.Namespace) -> int:
    """Bring the schema up to date (opening the database applies pending migrations)."""
    settings = settings_from(args)

    async def version() -> int:
        async with open_storage(settings) as storage:
            return await storage.schema_version()

    print(f"schema version {run(version)} at {settings.database}")
    return EXIT_OK


def cmd_rebuild(args: argparse.Namespace) -> int:
    """Drop every read model and apply the whole event log again."""
    from scanlet.assembly.read_models import rebuild_read_models

    settings = settings_from(args)
    with progress("rebuild", unit="event", quiet=args.quiet) as bar:
        position = run(lambda: rebuild_read_models(settings, _Countdown(bar)))
    print(f"rebuilt the analytics read models up to event {position}")
    return EXIT_OK


def cmd_backup(args: argparse.Namespace) -> int:
    """Copy the database online (safe while a server runs) and verify the copy."""
    settings = settings_from(args)
    if settings.postgres_url is not None:
        # PostgreSQL has its own tools for this, better than any copy made from here.
        raise CommandFailed(
            "backup copies SQLite files; for PostgreSQL use pg_dump: "
            f"pg_dump --format=custom --file={args.dest} '{mask_password(settings.postgres_url)}'"
        )
    from scanlet.storage.sqlite.backup import backup_database

    with progress("backup", unit="B", quiet=args.quiet) as bar:
        result = backup_database(settings.db, Path(args.dest), copied=_Bytes(bar))
    print(
        f"backed up {settings.db} to {result.path} ({result.bytes} bytes, up to event "
        f"{result.last_seq}); integrity_check ok"
    )
    return EXIT_OK


def register(sub: Subcommands) -> None:
    serve = sub.add_parser("serve", help="run the server until SIGINT/SIGTERM")
    serve.add_argument("--host", help="address to listen on (SCANLET_HOST)")
    serve.add_argument("--port", type=int, help="port to listen on (SCANLET_PORT)")
    serve.add_argument("--base-url", help="public origin for short links (SCANLET_BASE_URL)")
    serve.add_argument("--log-format", choices=["console", "json"], help="SCANLET_LOG_FORMAT")
    serve.add_argument(
        "--log-level", choices=["debug", "info", "warning", "error"], help="SCANLET_LOG_LEVEL"
    )
    db_flag(serve)
    serve.set_defaults(func=cmd_serve)

    config = sub.add_parser("config", help="print the effective configuration")
    config.add_argument("--format", choices=["table", "json"], default="table")
    db_flag(config)
    config.set_defaults(func=cmd_config)

    migrate = sub.add_parser("migrate", help="bring the database schema up to date")
    db_flag(migrate)
    migrate.set_defaults(func=cmd_migrate)

    rebuild = sub.add_parser("rebuild", help="rebuild every read model from the event log")
    quiet_flag(rebuild)
    db_flag(rebuild)
    rebuild.set_defaults(func=cmd_rebuild)

    backup = sub.add_parser("backup", help="copy the database online to DEST and verify the copy")
    backup.add_argument(
        "dest", metavar="DEST", help="a new file, or a directory for a time-stamped copy"
    )
    quiet_flag(backup)
    db_flag(backup)
    backup.set_defaults(func=cmd_backup)
