"""The ``scanlet`` command line.

Each command group lives in a module of its own with a ``register(sub)`` function; this module
builds the parser from them and turns failures into exit codes: 0 success, 1 the command
failed (a one-line message on stderr), 2 bad usage or a bad configuration value.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence

from scanlet import __version__
from scanlet.actors.codes.errors import CodeError
from scanlet.cli import (
    audit,
    codes,
    completion,
    export,
    importing,
    keys,
    ops,
    qr,
    scans,
    stats,
    users,
    webhooks,
)
from scanlet.cli.common import EXIT_FAILED, EXIT_USAGE, CommandFailed, Parser, problem_line
from scanlet.config import ConfigError
from scanlet.http.problems import Problem
from scanlet.storage.errors import DatabaseMissing, StorageError

__all__ = ("build_parser", "main")

#: No permission for group or others on anything the process creates.
PRIVATE_UMASK = 0o077

#: The command modules, in the order ``--help`` lists their commands.
COMMANDS = (
    ops,
    keys,
    users,
    audit,
    codes,
    qr,
    stats,
    scans,
    webhooks,
    importing,
    export,
    completion,
)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every sub-command."""
    parser = Parser(prog="scanlet", description="Self-hosted dynamic QR codes.")
    parser.add_argument("--version", action="version", version=f"scanlet {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    for module in COMMANDS:
        module.register(sub)
    # The completion scripts are made from the whole parser.
    parser.set_defaults(root=parser)
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
    except Problem as exc:  # what the API would answer 4xx with: the same reason, one line
        print(f"scanlet: {problem_line(exc)}", file=sys.stderr)
        return EXIT_FAILED
    except (CommandFailed, CodeError, StorageError, ValueError) as exc:
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
