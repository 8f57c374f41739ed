"""``scanlet webhooks``: list, add and remove webhook endpoints.

Through the same registry context as ``/api/v1/webhooks`` (``contexts.webhooks_context``):
the URL is vetted as the API vets it (http(s), public addresses unless
``SCANLET_WEBHOOK_ALLOW_PRIVATE``), event types are checked by the same code, and the body
the flags make is decoded as the API decodes ``POST /api/v1/webhooks``. Adding and removing
are recorded in the audit trail, as the system's or, with ``--as EMAIL``, as that admin's
(who, limited to tags, adds endpoints that carry the limit and removes only their own).
"""

from __future__ import annotations

import argparse

import msgspec

from scanlet.actors.access.roles import Role
from scanlet.actors.codes.domain_index import DomainIndex
from scanlet.actors.webhooks.signing import EVENT_TYPES
from scanlet.cli.acting import acting, as_flag
from scanlet.cli.common import (
    EXIT_OK,
    CommandFailed,
    Parser,
    Subcommands,
    db_flag,
    print_json,
    print_table,
    run,
    settings_from,
)
from scanlet.cli.contexts import webhooks_context
from scanlet.clock import SystemClock
from scanlet.http.body import decode_json
from scanlet.http.scoping import owns_webhook, webhook_limit
from scanlet.http.webhooks_api import (
    CreatedWebhook,
    CreateWebhook,
    WebhookResource,
    created_webhook,
    webhook_created_entry,
    webhook_deleted_entry,
    webhook_resource,
)

__all__ = ("register",)


def _default_host(args: argparse.Namespace) -> str:
    """How an endpoint's domain limit names the default domain (the base URL's host)."""
    return DomainIndex(settings_from(args).public_base_url).default_host


def cmd_webhooks_list(args: argparse.Namespace) -> int:
    """List endpoints, oldest first, never their secrets."""

    async def listing() -> list[WebhookResource]:
        async with webhooks_context(settings_from(args)) as (_, client):
            host = _default_host(args)
            return [webhook_resource(row, host) for row in await client.store.endpoints()]

    endpoints = run(listing)
    if args.format == "json":
        print_json(endpoints)
        return EXIT_OK
    print_table(
        ("id", "enabled", "events", "tags", "url"),
        [
            (e.id, "yes" if e.enabled else "no", ",".join(e.events), _limit(e.tags), e.url)
            for e in endpoints
        ],
    )
    return EXIT_OK


def _limit(tags: list[str] | None) -> str:
    """An endpoint's tag limit as the table shows it: ``-`` for none (every code)."""
    if tags is None:
        return "-"
    return ",".join(tags) or "(no code)"


def cmd_webhooks_add(args: argparse.Namespace) -> int:
    """Register an endpoint; its signing secret is printed once, alone on the last line."""
    body = decode_json(
        msgspec.json.encode({"url": args.url, "events": args.event or ["*"]}), CreateWebhook
    )

    async def add() -> CreatedWebhook:
        async with webhooks_context(settings_from(args)) as (storage, client):
            principal = await acting(storage, args, Role.ADMIN)
            limit = webhook_limit(principal)
            row = await client.create(
                body.url, body.events, owner=limit.owner, tags=limit.tags, domains=limit.domains
            )
            now = SystemClock().now()
            await storage.audit.record(webhook_created_entry(principal.author, now, row))
            return created_webhook(row, _default_host(args))

    created = run(add)
    if args.format == "json":
        print_json(created)
        return EXIT_OK
    print(
        f"added webhook {created.id} ({', '.join(created.events)} to {created.url}); "
        "the signing secret below is shown only once:"
    )
    print(created.secret)
    return EXIT_OK


def cmd_webhooks_remove(args: argparse.Namespace) -> int:
    """Remove an endpoint with its pending deliveries and attempts."""

    async def remove() -> bool:
        async with webhooks_context(settings_from(args)) as (storage, client):
            principal = await acting(storage, args, Role.ADMIN)
            row = await client.store.endpoint(args.id)
            if row is None or not owns_webhook(principal, row):
                return False
            if not await client.delete(row.id):
                return False
            now = SystemClock().now()
            await storage.audit.record(webhook_deleted_entry(principal.author, now, row.id))
            return True

    if not run(remove):
        raise CommandFailed(f"no webhook endpoint with id {args.id!r}")
    print(f"removed webhook {args.id}")
    return EXIT_OK


def register(sub: Subcommands) -> None:
    webhooks = sub.add_parser("webhooks", help="list, add and remove webhook endpoints")
    webhooks_sub = webhooks.add_subparsers(
        dest="webhooks_command", required=True, parser_class=Parser
    )
    listing = webhooks_sub.add_parser("list", help="list endpoints (never their secrets)")
    listing.add_argument("--format", choices=["table", "json"], default="table")
    db_flag(listing)
    listing.set_defaults(func=cmd_webhooks_list)

    add = webhooks_sub.add_parser("add", help="register an endpoint; prints its secret once")
    add.add_argument("url", metavar="URL", help="where deliveries are POSTed (http or https)")
    add.add_argument(
        "--event",
        action="append",
        metavar="TYPE",
        help=f"an event type to send, repeatable: * (the default) or {', '.join(EVENT_TYPES)}",
    )
    add.add_argument("--format", choices=["table", "json"], default="table")
    as_flag(add)
    db_flag(add)
    add.set_defaults(func=cmd_webhooks_add)

    remove = webhooks_sub.add_parser("remove", help="remove an endpoint by id")
    remove.add_argument("id", metavar="ID", help="the endpoint's id, as `webhooks list` shows it")
    as_flag(remove)
    db_flag(remove)
    remove.set_defaults(func=cmd_webhooks_remove)
