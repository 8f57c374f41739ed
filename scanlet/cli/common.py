"""What every sub-command module shares: exit codes, the parser class, flags and helpers."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Coroutine, Sequence
from datetime import datetime
from typing import Any, NoReturn, TypeAlias, TypeVar

import anyio
import msgspec

from scanlet.config import Settings, load_settings
from scanlet.storage.timefmt import parse_time

__all__ = (
    "EXIT_FAILED",
    "EXIT_OK",
    "EXIT_USAGE",
    "CommandFailed",
    "Parser",
    "Subcommands",
    "db_flag",
    "print_listing",
    "print_table",
    "run",
    "settings_from",
    "time_arg",
)

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
T = TypeVar("T")
R = TypeVar("R")


class CommandFailed(Exception):
    """Raised by a sub-command to stop with a one-line message and exit code 1."""


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # argparse's default prints the whole usage block; one line is easier to read in logs.
        self.exit(EXIT_USAGE, f"{self.prog}: {message} (see --help)\n")


#: What ``add_subparsers`` returns; each command module's ``register`` adds its parsers to it.
Subcommands: TypeAlias = "argparse._SubParsersAction[Parser]"


def db_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db", metavar="PATH|URL", help="SQLite file or postgresql:// URL (SCANLET_DB)"
    )


def settings_from(args: argparse.Namespace, **flags: str | None) -> Settings:
    return load_settings(overrides={"DB": getattr(args, "db", None), **flags})


def run(coro_fn: Callable[[], Coroutine[Any, Any, T]]) -> T:
    return anyio.run(coro_fn)


def time_arg(raw: str) -> datetime:
    """An argparse ``type`` for RFC 3339 times."""
    try:
        return parse_time(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected an RFC 3339 time such as 2026-01-01T00:00:00Z, got {raw!r}"
        ) from None


def print_table(header: tuple[str, ...], rows: list[tuple[object, ...]]) -> None:
    """Left-aligned columns separated by two spaces, the header first."""
    lines = [header, *rows]
    widths = [max(len(str(row[i])) for row in lines) for i in range(len(header))]
    for row in lines:
        cells = (str(cell).ljust(width) for cell, width in zip(row, widths, strict=True))
        print("  ".join(cells).rstrip())


def print_listing(
    fmt: str,
    rows: Sequence[R],
    header: tuple[str, ...],
    cells: Callable[[R], tuple[object, ...]],
) -> None:
    """``rows`` as a JSON array (``fmt`` "json") or as a table of ``cells`` under
    ``header``."""
    if fmt == "json":
        print(msgspec.json.encode(rows).decode())
    else:
        print_table(header, [cells(row) for row in rows])
