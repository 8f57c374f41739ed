"""Who a command that changes data acts as.

Without ``--as`` (or ``SCANLET_CLI_USER``) it is the machine's operator: the system, which may
do anything, since whoever can run the command can open the database file anyway. With it,
the command acts as that user, under the rules of the API and the dashboard: the same role
check (``Principal.may``, through ``http.auth.require``), the same tag and domain limits, and the
events and audit entries it causes name the user (``by``). That is no barrier against the
machine's own users (they can leave the flag out), but it lets a team work from the shell
under their own names and roles: a viewer's command changes nothing.
"""

from __future__ import annotations

import argparse
import os

from scanlet.actors.access.errors import AccountNotFound
from scanlet.actors.access.passwords import Passwords
from scanlet.actors.access.principals import user_principal
from scanlet.actors.access.roles import SYSTEM, Principal, Role
from scanlet.actors.access.users import Users
from scanlet.actors.codes.domain_index import DomainIndex
from scanlet.cli.common import CommandFailed, settings_from
from scanlet.http.auth import require
from scanlet.storage.ports import Storage

__all__ = ("CLI_USER_VARIABLE", "acting", "acting_email", "as_flag")

#: The environment variable that names the user when ``--as`` is not given.
CLI_USER_VARIABLE = "SCANLET_CLI_USER"


def as_flag(parser: argparse.ArgumentParser) -> None:
    """``--as EMAIL``: act as that user, with their role and tag limit."""
    parser.add_argument(
        "--as",
        dest="as_user",
        metavar="EMAIL",
        help=f"act as this user, with their role and tags ({CLI_USER_VARIABLE}; without:"
        " the machine's operator, who may do anything)",
    )


def acting_email(args: argparse.Namespace) -> str | None:
    """The email of the user the command acts as (``--as``, else ``SCANLET_CLI_USER``), or
    None for the system."""
    email = getattr(args, "as_user", None) or os.environ.get(CLI_USER_VARIABLE, "")
    return email.strip() or None


async def acting(storage: Storage, args: argparse.Namespace, needed: Role) -> Principal:
    """The principal the command acts as, once it is known to have ``needed``: a problem
    (one line, exit 1) for an unknown or disabled user or a role too small."""
    email = acting_email(args)
    if email is None:
        return SYSTEM
    try:
        user = await Users(storage.users, Passwords()).by_email(email)
    except AccountNotFound:
        raise CommandFailed(f"--as: there is no user {email!r}") from None
    if user.disabled:
        raise CommandFailed(f"--as: {user.email} is disabled")
    default_host = DomainIndex(settings_from(args).public_base_url).default_host
    principal = user_principal(user, default_host)
    require(principal, needed)
    return principal
