"""``scanlet users``: create, list, disable and enable accounts, set passwords and roles.

The command line acts as the system: whoever can run it can open the database, so it may
manage owners too; the rules that protect the data (the last owner stays, passwords of at
least 10 characters, one account per email) are those of the API, checked in ``Users``.
With ``--as EMAIL`` it acts as that user instead, under the API's rules for who manages
whom (admins manage users, only owners manage owners, nobody limited to tags).
Passwords are read from standard input (``--password-stdin``), never from an argument,
which other users of the machine could read in the process list.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Awaitable, Callable
from typing import TypeVar

from scanlet.actors.access.domain_limits import normal_domains
from scanlet.actors.access.errors import AccountError
from scanlet.actors.access.passwords import Passwords
from scanlet.actors.access.roles import Principal, Role
from scanlet.actors.access.users import Users
from scanlet.actors.codes.domain_index import DomainIndex
from scanlet.cli.acting import acting, as_flag
from scanlet.cli.common import (
    EXIT_OK,
    CommandFailed,
    Parser,
    Subcommands,
    db_flag,
    print_listing,
    run,
    settings_from,
)
from scanlet.clock import SystemClock
from scanlet.config import Settings
from scanlet.http.scoping import refuse_if_limited
from scanlet.storage.opening import open_storage
from scanlet.storage.ports import Storage
from scanlet.storage.records import UserRow

__all__ = (
    "ROLES",
    "domains_flag",
    "limit_domains",
    "read_password",
    "register",
    "tag_flag",
    "with_storage",
    "with_users",
)

T = TypeVar("T")
ROLES = [role.label for role in Role]


def read_password() -> str:
    """One line of standard input, without its line break."""
    line = sys.stdin.readline()
    password = line.removesuffix("\n").removesuffix("\r")
    if not password:
        raise CommandFailed("no password on standard input (--password-stdin)")
    return password


def with_storage(
    settings: Settings, use: Callable[[Storage], Awaitable[T]], *, create: bool = False
) -> T:
    """Open the database, run ``use`` on it, close it; returns what ``use`` did. A refusal
    of the accounts layer (``AccountError``) becomes the command's one-line failure.

    Only the commands that make things (``users create``, ``keys create``) may create the
    database: the others, given a mistyped path, must say so, not answer from a new one."""

    async def use_storage() -> T:
        async with open_storage(settings, create=create) as storage:
            return await use(storage)

    try:
        return run(use_storage)
    except AccountError as exc:
        raise CommandFailed(str(exc)) from None


def with_users(
    settings: Settings, use: Callable[[Users], Awaitable[T]], *, create: bool = False
) -> T:
    """``use`` on the database's users (see ``with_storage``)."""
    return with_storage(
        settings, lambda storage: use(Users(storage.users, Passwords())), create=create
    )


def managing_users(
    args: argparse.Namespace,
    use: Callable[[Users, Principal, Storage], Awaitable[T]],
    *,
    create: bool = False,
) -> T:
    """``use`` on the database's users (and the database), by whom the command acts as
    (``acting``): the system, or an admin without a tag or domain limit (as on the API)."""

    async def manage(storage: Storage) -> T:
        principal = await acting(storage, args, Role.ADMIN)
        refuse_if_limited(principal, "users")
        return await use(Users(storage.users, Passwords()), principal, storage)

    return with_storage(settings_from(args), manage, create=create)


def tag_flag(parser: argparse.ArgumentParser, help_text: str) -> None:
    """``--tag TAG``, several allowed: a tag limit."""
    parser.add_argument("--tag", action="append", metavar="TAG", help=help_text)


def domains_flag(parser: argparse.ArgumentParser, help_text: str) -> None:
    """``--domain HOST``, several allowed: a domain limit."""
    parser.add_argument("--domain", action="append", metavar="HOST", help=help_text)


async def limit_domains(storage: Storage, args: argparse.Namespace) -> tuple[str, ...]:
    """The ``--domain`` limit, each a registered host or the default one (one line naming
    ``domains`` for any other), as the API's ``domains`` field reads it."""
    if not args.domain:
        return ()
    hosts = DomainIndex.of_rows(settings_from(args).public_base_url, await storage.domains.all())
    return normal_domains(args.domain, hosts)


def cmd_users_create(args: argparse.Namespace) -> int:
    """Create a user (without --password-stdin they cannot sign in until one is set)."""
    password = read_password() if args.password_stdin else None

    async def create(users: Users, by: Principal, storage: Storage) -> UserRow:
        return await users.create(
            args.email,
            Role.parse(args.role),
            password,
            by=by,
            now=SystemClock().now(),
            tags=args.tag or (),
            domains=await limit_domains(storage, args),
        )

    row = managing_users(args, create, create=True)
    limit = f", limited to tags {', '.join(row.tags)}" if row.tags else ""
    if row.domains:
        limit += f", limited to domains {', '.join(row.domains)}"
    print(f"created user {row.id} ({row.email}, role {row.role}{limit})")
    if password is None:
        print("no password yet: set one with `scanlet users set-password EMAIL --password-stdin`")
    return EXIT_OK


def cmd_users_list(args: argparse.Namespace) -> int:
    """List users (never their passwords)."""
    rows = with_users(settings_from(args), lambda users: users.list())
    print_listing(
        args.format,
        rows,
        ("id", "email", "role", "created_at", "disabled", "tags", "domains"),
        lambda u: (
            u.id,
            u.email,
            u.role,
            u.created_at,
            "yes" if u.disabled else "no",
            ",".join(u.tags) or "-",
            ",".join(u.domains) or "-",
        ),
    )
    return EXIT_OK


def _change(args: argparse.Namespace, done: str, **change: object) -> int:
    async def apply(users: Users, by: Principal, _storage: Storage) -> str:
        row = await users.by_email(args.email)
        changed = await users.change(row.id, by=by, now=SystemClock().now(), **change)  # type: ignore[arg-type]
        return changed.email

    print(f"{done} {managing_users(args, apply)}")
    return EXIT_OK


def cmd_users_disable(args: argparse.Namespace) -> int:
    """Disable a user: their sessions end and their keys stop at once."""
    return _change(args, "disabled", disabled=True)


def cmd_users_enable(args: argparse.Namespace) -> int:
    """Enable a disabled user again."""
    return _change(args, "enabled", disabled=False)


def cmd_users_set_password(args: argparse.Namespace) -> int:
    """Set a user's password from standard input; their sessions end."""
    return _change(args, "new password set for", password=read_password())


def cmd_users_set_role(args: argparse.Namespace) -> int:
    """Change a user's role."""
    return _change(args, f"role {args.role} set for", role=Role.parse(args.role))


def register(sub: Subcommands) -> None:
    users = sub.add_parser("users", help="manage accounts (dashboard sign-in, roles)")
    users_sub = users.add_subparsers(dest="users_command", required=True, parser_class=Parser)
    create = users_sub.add_parser("create", help="create a user")
    create.add_argument("--email", required=True)
    create.add_argument("--role", choices=ROLES, required=True)
    create.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    tag_flag(create, "only codes with this tag (several allowed; none: every code)")
    domains_flag(create, "only codes on this registered host (several allowed; none: every one)")
    as_flag(create)
    db_flag(create)
    create.set_defaults(func=cmd_users_create)
    listing = users_sub.add_parser("list", help="list users (never their passwords)")
    listing.add_argument("--format", choices=["table", "json"], default="table")
    db_flag(listing)
    listing.set_defaults(func=cmd_users_list)
    for name, func, what in [
        ("disable", cmd_users_disable, "disable a user: sessions end, keys stop"),
        ("enable", cmd_users_enable, "enable a disabled user"),
    ]:
        command = users_sub.add_parser(name, help=what)
        command.add_argument("email")
        as_flag(command)
        db_flag(command)
        command.set_defaults(func=func)
    password = users_sub.add_parser(
        "set-password", help="set a password from standard input; the user's sessions end"
    )
    password.add_argument("email")
    password.add_argument("--password-stdin", action="store_true", required=True)
    as_flag(password)
    db_flag(password)
    password.set_defaults(func=cmd_users_set_password)
    role = users_sub.add_parser("set-role", help="change a user's role")
    role.add_argument("email")
    role.add_argument("role", choices=ROLES)
    as_flag(role)
    db_flag(role)
    role.set_defaults(func=cmd_users_set_role)
