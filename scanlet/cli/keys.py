"""``scanlet keys``: create, list and revoke API keys.

With ``--as EMAIL`` creating and revoking are that user's: they need the admin role and no
tag limit (as users do on the API), keys of a user above them are not theirs to make or
revoke, and the audit trail names them.
"""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable
from typing import TypeVar

from scanlet.actors.access.keys import ApiKeys, Scope
from scanlet.actors.access.passwords import Passwords
from scanlet.actors.access.roles import Principal, Role
from scanlet.actors.access.users import Users
from scanlet.cli.acting import acting, as_flag
from scanlet.cli.common import (
    EXIT_OK,
    CommandFailed,
    Parser,
    Subcommands,
    db_flag,
    print_listing,
    settings_from,
)
from scanlet.cli.users import domains_flag, limit_domains, tag_flag, with_storage
from scanlet.clock import SystemClock
from scanlet.config import Settings
from scanlet.http.scoping import refuse_if_limited
from scanlet.storage.ports import Storage
from scanlet.storage.records import CreatedKey, UserRow

__all__ = ("register",)

T = TypeVar("T")


def _with_keys(
    settings: Settings, use: Callable[[ApiKeys], Awaitable[T]], *, create: bool = False
) -> T:
    """``use`` on the database's key store (see ``users.with_storage``)."""
    return with_storage(settings, lambda storage: use(ApiKeys(storage.keys)), create=create)


async def _key_manager(storage: Storage, args: argparse.Namespace) -> Principal:
    """Who makes or revokes a key: the system, or an admin without a tag limit."""
    principal = await acting(storage, args, Role.ADMIN)
    refuse_if_limited(principal, "keys")
    return principal


def _may_act_for(principal: Principal, user: UserRow) -> None:
    """Keys of a user with a role above the acting one's are not theirs to touch (an admin
    would otherwise hand themselves an owner's key)."""
    if not principal.may(Role.parse(user.role)):
        raise CommandFailed(
            f"a {principal.role.label} cannot manage the keys of {user.email} ({user.role})"
        )


def cmd_keys_create(args: argparse.Namespace) -> int:
    """Create an API key; its secret is printed once, alone on the last line."""
    settings = settings_from(args)
    if not args.name.strip():
        raise CommandFailed("--name must not be empty")
    if args.expires_days is not None and args.expires_days <= 0:
        raise CommandFailed("--expires-days must be a positive number of days")
    scope = Scope.parse(args.scope)

    async def create(storage: Storage) -> CreatedKey:
        principal = await _key_manager(storage, args)
        user = None
        if args.user is not None:
            user = await Users(storage.users, Passwords()).by_email(args.user)
            _may_act_for(principal, user)
        return await ApiKeys(storage.keys).create(
            args.name.strip(),
            scope,
            now=SystemClock().now(),
            expires_days=args.expires_days,
            user=user,
            tags=args.tag or (),
            domains=await limit_domains(storage, args),
            by=principal.author,
        )

    created = with_storage(settings, create, create=True)
    key = created.key
    expiry = f", expires {key.expires_at}" if key.expires_at else ""
    owner = f", user {args.user.strip().lower()}" if args.user else ""
    limit = f", tags {', '.join(key.tags)}" if key.tags else ""
    if key.domains:
        limit += f", domains {', '.join(key.domains)}"
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
        ("id", "name", "scope", "created_at", "expires_at", "revoked", "user", "tags", "domains"),
        lambda k: (
            k.id,
            k.name,
            k.scope,
            k.created_at,
            k.expires_at or "-",
            "yes" if k.revoked else "no",
            k.user_id or "-",
            ",".join(k.tags) or "-",
            ",".join(k.domains) or "-",
        ),
    )
    return EXIT_OK


def cmd_keys_revoke(args: argparse.Namespace) -> int:
    """Revoke a key by id; effective at once, also on a running server."""
    settings = settings_from(args)

    async def revoke(storage: Storage) -> bool:
        principal = await _key_manager(storage, args)
        found = await storage.keys.find(args.id)
        if found is None:
            return False
        owner_id = found[0].user_id
        owner = None if owner_id is None else await storage.users.get(owner_id)
        if owner is not None:
            _may_act_for(principal, owner)
        keys = ApiKeys(storage.keys)
        return await keys.revoke(args.id, now=SystemClock().now(), by=principal.author)

    if not with_storage(settings, revoke):
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
    domains_flag(
        create, "only codes on this registered host (several allowed); within the user's own"
    )
    as_flag(create)
    db_flag(create)
    create.set_defaults(func=cmd_keys_create)
    listing = keys_sub.add_parser("list", help="list keys (never their secrets)")
    listing.add_argument("--format", choices=["table", "json"], default="table")
    db_flag(listing)
    listing.set_defaults(func=cmd_keys_list)
    revoke = keys_sub.add_parser("revoke", help="revoke a key by id")
    revoke.add_argument("id", help="the key's id, as `keys list` shows it")
    as_flag(revoke)
    db_flag(revoke)
    revoke.set_defaults(func=cmd_keys_revoke)
