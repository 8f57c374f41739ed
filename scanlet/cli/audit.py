"""``scanlet audit``: administrative actions (users, keys, webhooks), oldest first.

Changes to codes are in each code's history (``GET /api/v1/codes/{slug}/history``).
``--user`` keeps what a user did, themselves or through one of their keys.
"""

from __future__ import annotations

import argparse
from datetime import datetime

import msgspec

from scanlet.actors.access.passwords import Passwords
from scanlet.actors.access.users import Users
from scanlet.cli.common import (
    EXIT_OK,
    Subcommands,
    db_flag,
    print_listing,
    settings_from,
    time_arg,
)
from scanlet.cli.users import with_storage
from scanlet.storage.ports import Storage
from scanlet.storage.records import AuditEntry
from scanlet.storage.timefmt import format_time

__all__ = ("register",)


def _entries(
    args: argparse.Namespace, since: datetime | None
) -> tuple[list[AuditEntry], dict[str, str]]:
    """The entries asked for, and a name for each user and key id (emails, key names)."""

    async def read(storage: Storage) -> tuple[list[AuditEntry], dict[str, str]]:
        entries = await storage.audit.entries(since=format_time(since) if since else None)
        keys = await storage.keys.list()
        names = {key.id: key.name for key in keys}
        names.update({user.id: user.email for user in await storage.users.list()})
        if args.user is not None:
            user = await Users(storage.users, Passwords()).by_email(args.user)
            own_keys = {key.id for key in keys if key.user_id == user.id}
            entries = [
                e
                for e in entries
                if (e.by_kind == "user" and e.by_id == user.id)
                or (e.by_kind == "key" and e.by_id in own_keys)
            ]
        return entries, names

    return with_storage(settings_from(args), read)


def cmd_audit(args: argparse.Namespace) -> int:
    """List administrative actions."""
    entries, names = _entries(args, args.since)
    print_listing(
        args.format,
        entries,
        ("at", "by", "action", "subject", "detail"),
        lambda e: (
            e.at,
            f"{e.by_kind} {names.get(e.by_id, e.by_id)}",
            e.action,
            names.get(e.subject, e.subject),
            msgspec.json.encode(e.detail).decode(),
        ),
    )
    return EXIT_OK


def register(sub: Subcommands) -> None:
    audit = sub.add_parser("audit", help="list administrative actions (users, keys, webhooks)")
    audit.add_argument("--since", type=time_arg, metavar="TIME", help="RFC 3339, inclusive")
    audit.add_argument("--user", metavar="EMAIL", help="only what this user (or their keys) did")
    audit.add_argument("--format", choices=["table", "json"], default="table")
    db_flag(audit)
    audit.set_defaults(func=cmd_audit)
