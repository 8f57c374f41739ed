"""What every sub-command module shares: exit codes, the parser class, flags and helpers."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Coroutine, Sequence
from datetime import datetime
from typing import Any, NoReturn, TypeAlias, TypeVar

import anyio
import msgspec

from scanlet.config import Settings, load_settings
from scanlet.http.problems import Problem
from scanlet.storage.timefmt import parse_time

__all__ = (
    "EXIT_FAILED",
    "EXIT_OK",
    "EXIT_USAGE",
    "CommandFailed",
    "Parser",
    "Subcommands",
    "db_flag",
    "print_fields",
    "print_json",
    "print_listing",
    "print_table",
    "printable",
    "problem_line",
    "quiet_flag",
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


def quiet_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--quiet", "-q", action="store_true", help="no progress bar (none is drawn in pipes)"
    )


def settings_from(args: argparse.Namespace, **flags: str | None) -> Settings:
    return load_settings(overrides={"DB": getattr(args, "db", None), **flags})


def run(coro_fn: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a command's coroutine; a failure that left an actor system's task group comes
    out as itself, not wrapped in a group, so ``main`` can answer it with one line."""
    try:
        return anyio.run(coro_fn)
    except BaseExceptionGroup as group:
        raise _sole(group) from None


def _sole(group: BaseExceptionGroup[BaseException]) -> BaseException:
    """The one exception inside nested single-member groups, or the group itself."""
    inner: BaseException = group
    while isinstance(inner, BaseExceptionGroup) and len(inner.exceptions) == 1:
        inner = inner.exceptions[0]
    return inner


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


def problem_line(problem: Problem) -> str:
    """A problem the API would answer with, as one line: the field and what is wrong with
    it (``max_scans: Expected `int` >= 1``), or the detail when no field is to blame."""
    if problem.errors:
        first = problem.errors[0]
        field = ".".join(str(part) for part in first.loc[1:]) or str(first.loc[0])
        return f"{field}: {first.msg}"
    return problem.detail


def printable(text: str) -> str:
    """``text`` safe to print on a terminal: what visitors control (a user agent, a referrer,
    an unknown slug) could otherwise carry escape sequences that rewrite the screen. Control
    and other unprintable characters become ``?``, runs of white space one space."""
    folded = " ".join(text.split())
    return "".join(c if c.isprintable() else "?" for c in folded)


def print_json(value: object) -> None:
    """``value`` as the API would encode it, on one line."""
    print(msgspec.json.encode(value).decode())


def print_fields(fields: dict[str, object]) -> None:
    """One ``name  value`` line per field, names aligned (``-`` for nothing)."""
    width = max(map(len, fields))
    for name, value in fields.items():
        shown = "-" if value is None or value == [] else value
        if isinstance(shown, list):
            shown = ", ".join(map(str, shown))
        print(f"{name.ljust(width)}  {shown}")


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
