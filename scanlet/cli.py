"""The ``scanlet`` command line: serve, config, migrate, keys, rebuild, export and backup.

Exit codes: 0 success, 1 the command failed (a one-line message on stderr), 2 bad usage or a
bad configuration value.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import anyio
import msgspec

from scanlet import __version__
from scanlet.actors.access.keys import ApiKeys, Scope
from scanlet.clock import SystemClock
from scanlet.config import ConfigError, Settings, load_settings
from scanlet.storage.errors import DatabaseMissing, StorageError
from scanlet.storage.opening import open_storage
from scanlet.storage.timefmt import parse_time

__all__ = ("main",)

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
#: No permission for group or others on anything the process creates.
PRIVATE_UMASK = 0o077
T = TypeVar("T")


class CommandFailed(Exception):
    """Raised by a sub-command to stop with a one-line message and exit code 1."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # argparse's default prints the whole usage block; one line is easier to read in logs.
        self.exit(EXIT_USAGE, f"{self.prog}: {message} (see --help)\n")


def _db_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", metavar="PATH", help="SQLite database file (SCANLET_DB)")


def _settings(args: argparse.Namespace, **flags: str | None) -> Settings:
    return load_settings(overrides={"DB": getattr(args, "db", None), **flags})


def _run(coro_fn: Callable[[], Coroutine[Any, Any, T]]) -> T:
    return anyio.run(coro_fn)


def _with_keys(
    settings: Settings, use: Callable[[ApiKeys], Awaitable[T]], *, create: bool = False
) -> T:
    """Open the database, run ``use`` on its key store, close it; returns what ``use`` did.

    Only ``keys create`` may create the database: listing or revoking keys in a mistyped
    path must say so, not answer from a new, empty database.
    """

    async def run() -> T:
        async with open_storage(settings, create=create) as storage:
            return await use(ApiKeys(storage.keys))

    return _run(run)


def cmd_serve(args: argparse.Namespace) -> int:
    """Run the HTTP server and the actor system until SIGINT or SIGTERM."""
    from scanlet.serving import serve  # imported late: the server pulls in uvicorn

    settings = _settings(
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
    settings = _settings(args)
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
    settings = _settings(args)

    async def run() -> int:
        async with open_storage(settings) as storage:
            return await storage.schema_version()

    print(f"schema version {_run(run)} at {settings.db}")
    return EXIT_OK


def cmd_keys_create(args: argparse.Namespace) -> int:
    """Create an API key; its secret is printed once, alone on the last line."""
    settings = _settings(args)
    if not args.name.strip():
        raise CommandFailed("--name must not be empty")
    if args.expires_days is not None and args.expires_days <= 0:
        raise CommandFailed("--expires-days must be a positive number of days")
    scope = Scope.parse(args.scope)

    created = _with_keys(
        settings,
        lambda keys: keys.create(
            args.name.strip(), scope, now=SystemClock().now(), expires_days=args.expires_days
        ),
        create=True,
    )
    key = created.key
    expiry = f", expires {key.expires_at}" if key.expires_at else ""
    print(
        f"created key {key.id} ({key.name}, scope {key.scope}{expiry}); "
        "the secret below is shown only once:"
    )
    print(created.token)
    return EXIT_OK


def cmd_keys_list(args: argparse.Namespace) -> int:
    """List keys without their secrets."""
    settings = _settings(args)

    keys = _with_keys(settings, lambda store: store.list())
    if args.format == "json":
        print(msgspec.json.encode(keys).decode())
        return EXIT_OK
    header = ("id", "name", "scope", "created_at", "expires_at", "revoked")
    rows = [header] + [
        (k.id, k.name, k.scope, k.created_at, k.expires_at or "-", "yes" if k.revoked else "no")
        for k in keys
    ]
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(header))]
    for row in rows:
        cells = (str(cell).ljust(width) for cell, width in zip(row, widths, strict=True))
        print("  ".join(cells).rstrip())
    return EXIT_OK


def cmd_keys_revoke(args: argparse.Namespace) -> int:
    """Revoke a key by id; effective at once, also on a running server."""
    settings = _settings(args)

    if not _with_keys(settings, lambda keys: keys.revoke(args.id, now=SystemClock().now())):
        raise CommandFailed(f"no key with id {args.id!r}")
    print(f"revoked key {args.id}")
    return EXIT_OK


def _time_arg(raw: str) -> datetime:
    try:
        return parse_time(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected an RFC 3339 time such as 2026-01-01T00:00:00Z, got {raw!r}"
        ) from None


def cmd_rebuild(args: argparse.Namespace) -> int:
    """Drop every read model and apply the whole event log again."""
    from scanlet.assembly.read_models import rebuild_read_models

    settings = _settings(args)
    position = _run(lambda: rebuild_read_models(settings))
    print(f"rebuilt the analytics read models up to event {position}")
    return EXIT_OK


def cmd_export_scans(args: argparse.Namespace) -> int:
    """Stream raw scans to stdout as CSV or JSON lines, oldest first."""
    from scanlet.assembly.read_models import export_scans

    settings = _settings(args)
    return _run(lambda: export_scans(settings, args.slug, args.start, args.end, args.format))


def cmd_backup(args: argparse.Namespace) -> int:
    """Copy the database online (safe while a server runs) and verify the copy."""
    from scanlet.storage.sqlite.backup import backup_database

    settings = _settings(args)
    result = backup_database(settings.db, Path(args.dest))
    print(
        f"backed up {settings.db} to {result.path} ({result.bytes} bytes, up to event "
        f"{result.last_seq}); integrity_check ok"
    )
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every sub-command."""
    parser = _Parser(prog="scanlet", description="Self-hosted dynamic QR codes.")
    parser.add_argument("--version", action="version", version=f"scanlet {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    serve = sub.add_parser("serve", help="run the server until SIGINT/SIGTERM")
    serve.add_argument("--host", help="address to listen on (SCANLET_HOST)")
    serve.add_argument("--port", type=int, help="port to listen on (SCANLET_PORT)")
    serve.add_argument("--base-url", help="public origin for short links (SCANLET_BASE_URL)")
    serve.add_argument("--log-format", choices=["console", "json"], help="SCANLET_LOG_FORMAT")
    serve.add_argument(
        "--log-level", choices=["debug", "info", "warning", "error"], help="SCANLET_LOG_LEVEL"
    )
    _db_flag(serve)
    serve.set_defaults(func=cmd_serve)

    config = sub.add_parser("config", help="print the effective configuration")
    config.add_argument("--format", choices=["table", "json"], default="table")
    _db_flag(config)
    config.set_defaults(func=cmd_config)

    migrate = sub.add_parser("migrate", help="bring the database schema up to date")
    _db_flag(migrate)
    migrate.set_defaults(func=cmd_migrate)

    keys = sub.add_parser("keys", help="manage API keys")
    keys_sub = keys.add_subparsers(dest="keys_command", required=True, parser_class=_Parser)
    create = keys_sub.add_parser("create", help="create a key and print its secret once")
    create.add_argument("--name", required=True, help="what the key is for")
    create.add_argument("--scope", choices=["read", "write", "admin"], default="read")
    create.add_argument("--expires-days", type=int, metavar="N", help="expire after N days")
    _db_flag(create)
    create.set_defaults(func=cmd_keys_create)
    listing = keys_sub.add_parser("list", help="list keys (never their secrets)")
    listing.add_argument("--format", choices=["table", "json"], default="table")
    _db_flag(listing)
    listing.set_defaults(func=cmd_keys_list)
    revoke = keys_sub.add_parser("revoke", help="revoke a key by id")
    revoke.add_argument("id", help="the key's id, as `keys list` shows it")
    _db_flag(revoke)
    revoke.set_defaults(func=cmd_keys_revoke)

    rebuild = sub.add_parser("rebuild", help="rebuild every read model from the event log")
    _db_flag(rebuild)
    rebuild.set_defaults(func=cmd_rebuild)

    export = sub.add_parser("export", help="export data to stdout")
    export_sub = export.add_subparsers(dest="export_command", required=True, parser_class=_Parser)
    scans = export_sub.add_parser("scans", help="stream raw scans to stdout, oldest first")
    scans.add_argument("--slug", help="only this code's scans (default: every scan and orphan)")
    scans.add_argument(
        "--from", dest="start", type=_time_arg, metavar="TIME", help="RFC 3339, inclusive"
    )
    scans.add_argument(
        "--to", dest="end", type=_time_arg, metavar="TIME", help="RFC 3339, exclusive"
    )
    scans.add_argument("--format", choices=["csv", "jsonl"], default="csv")
    _db_flag(scans)
    scans.set_defaults(func=cmd_export_scans)

    backup = sub.add_parser("backup", help="copy the database online to DEST and verify the copy")
    backup.add_argument(
        "dest", metavar="DEST", help="a new file, or a directory for a time-stamped copy"
    )
    _db_flag(backup)
    backup.set_defaults(func=cmd_backup)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    # Whatever a command creates (the database, its directory, journals, backups, the key
    # file) is for this user alone. The files that matter are also created 0600 explicitly;
    # this covers the rest and any file a library makes on our behalf. Restored on return,
    # so a caller in the same process (a test) keeps its own.
    umask = os.umask(PRIVATE_UMASK)
    try:
        return func(args)
    except ConfigError as exc:
        print(f"scanlet: configuration error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except DatabaseMissing as exc:
        print(f"scanlet: {exc} (run scanlet migrate to create one)", file=sys.stderr)
        return EXIT_FAILED
    except (CommandFailed, StorageError, ValueError) as exc:
        print(f"scanlet: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return EXIT_FAILED
    except BrokenPipeError:
        # The reader went away (`scanlet export scans | head`): no traceback. Point stdout at
        # /dev/null so the interpreter's own flush at exit does not fail a second time.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FAILED
    finally:
        os.umask(umask)
