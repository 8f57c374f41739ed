"""``scanlet keys``: create, list and revoke API keys."""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable
from typing import TypeVar

from scanlet.actors.access.keys import ApiKeys, Scope
from scanlet.actors.access.passwords import Passwords
from scanlet.actors.access.users import Users
from scanlet.cli.common import (
    EXIT_OK,
    CommandFailed,
    Parser,
    Subcommands,
    db_flag,
    print_listing,
    settings_from,
)
from scanlet.cli.users import tag_flag, with_storage
from scanlet.clock import SystemClock
from scanlet.config import Settings
from scanlet.storage.ports import Storage
from scanlet.storage.records import CreatedKey

__all__ = ("register",)

T = TypeVar("T")


def _with_keys(
    settings: Settings, use: Callable[[ApiKeys], Awaitable[T]], *, create: bool = False
) -> T:
    """``use`` on the database's key store (see ``users.with_storage``)."""
    return with_storage(settings, lambda storage: use(ApiKeys(storage.keys)), create=create)


def cmd_keys_create(args: argparse.Namespace) -> int:
    """Create an API key; its secret is printed once, alone on the last line."""
    settings = settings_from(args)
    if not args.name.strip():
        raise CommandFailed("--name must not be empty")
    if args.expires_days is not None and args.expires_days <= 0:
        raise CommandFailed("--expires-days must be a positive number of days")
    scope = Scope.parse(args.scope)

    async def create(storage: Storage) -> CreatedKey:
        user = None
        if args.user is not None:
            user = await Users(storage.users, Passwords()).by_email(args.user)
        return await ApiKeys(storage.keys).create(
            args.name.strip(),
            scope,
            now=SystemClock().now(),
            expires_days=args.expires_days,
            user=user,
            tags=args.tag or (),
        )

    created = with_storage(settings, create, create=True)
    key = created.key
    expiry = f", expires {key.expires_at}" if key.expires_at else ""
    owner = f", user {args.user.strip().lower()}" if args.user else ""
    limit = f", tags {', '.join(key.tags)}" if key.tags else ""
    print(
        f"created key {key.id} ({key.name}, scope {key.scope}{owner}{limit}{expiry}); "
        "the secret below is shown only once:"
    )
    print(created.token)
    return EXIT_OK


def cmd_keys_list(args: argparse.Namespace) -> int:
    """List keys without their secrets."""
    keys = _with_keys(settings_from(args), lambda store: store.list())
    print_listing(
        args.format,
        keys,
        ("id", "name", "scope", "created_at", "expires_at", "revoked", "user", "tags"),
        lambda k: (
            k.id,
            k.name,
            k.scope,
            k.created_at,
            k.expires_at or "-",
            "yes" if k.revoked else "no",
            k.user_id or "-",
            ",".join(k.tags) or "-",
        ),
    )
    return EXIT_OK


def cmd_keys_revoke(args: argparse.Namespace) -> int:
    """Revoke a key by id; effective at once, also on a running server."""
    settings = settings_from(args)
    if not _with_keys(settings, lambda keys: keys.revoke(args.id, now=SystemClock().now())):
        raise CommandFailed(f"no key with id {args.id!r}")
    print(f"revoked key {args.id}")
    return EXIT_OK


def register(sub: Subcommands) -> None:
    keys = sub.add_parser("keys", help="manage API keys")
    keys_sub = keys.add_subparsers(dest="keys_command", required=True, parser_class=Parser)
    create = keys_sub.add_parser("create", help="create a key and print its secret once")
    create.add_argument("--name", required=True, help="what the key is for")
    create.add_argument("--scope", choices=["read", "write", "admin"], default="read")
    create.add_argument("--expires-days", type=int, metavar="N", help="expire after N days")
    create.add_argument(
        "--user",
        metavar="EMAIL",
        help="the user the key belongs to: its scope may not exceed their role, and it stops"
        " when they are disabled (without: a key of nobody's, acting by its scope alone)",
    )
    tag_flag(create, "only codes with this tag (several allowed); within the user's own tags")
    db_flag(create)
    create.set_defaults(func=cmd_keys_create)
    listing = keys_sub.add_parser("list", help="list keys (never their secrets)")
    listing.add_argument("--format", choices=["table", "json"], default="table")
    db_flag(listing)
    listing.set_defaults(func=cmd_keys_list)
    revoke = keys_sub.add_parser("revoke", help="revoke a key by id")
    revoke.add_argument("id", help="the key's id, as `keys list` shows it")
    db_flag(revoke)
    revoke.set_defaults(func=cmd_keys_revoke)
