"""``/api/v1/webhooks``: register, list and remove endpoints, and read their delivery attempts.

Every route needs the admin scope: an endpoint's URL may itself carry a credential (many
receivers put a token in the path) and creating one sends the server's events elsewhere.
An admin limited to tags sees and removes only its own endpoints, and those it makes
receive only the events of codes with one of its tags (``scoping.webhook_limit``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from urllib.parse import urlsplit

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from scanlet.actors.access.audit import audit_entry
from scanlet.actors.access.keys import Scope
from scanlet.actors.access.roles import DEFAULT_DOMAIN
from scanlet.actors.events import By
from scanlet.actors.webhooks.registry import MAX_EVENT_TYPES, InvalidWebhook, WebhooksClient
from scanlet.actors.webhooks.signing import EVENT_TYPES
from scanlet.actors.webhooks.ssrf import MAX_URL_LENGTH, URL_PATTERN
from scanlet.http.body import decode_body
from scanlet.http.endpoint import Endpoint, Link, Param, Reply
from scanlet.http.paging import page_in_memory
from scanlet.http.params import MAX_CURSOR_LENGTH, page_params, query_int, query_str
from scanlet.http.problems import FieldError, Problem
from scanlet.http.responses import json_response
from scanlet.http.scoping import owns_webhook, webhook_limit
from scanlet.http.services import installed, services
from scanlet.storage.records import AttemptRow, AuditEntry, EndpointRow

__all__ = (
    "CreateWebhook",
    "CreatedWebhook",
    "WebhookResource",
    "created_webhook",
    "webhook_created_entry",
    "webhook_deleted_entry",
    "webhook_endpoints",
    "webhook_resource",
    "webhooks_client",
)


EventName = Annotated[
    str,
    msgspec.Meta(
        extra_json_schema={"enum": ["*", *EVENT_TYPES]},
        description="An event type, or * for every type.",
    ),
]


class CreateWebhook(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The body of ``POST /api/v1/webhooks``.

    The URL's syntax and the event names are only described here and checked by the
    webhooks context (``check_url``, ``check_event_types``), whose refusals say why.
    """

    url: Annotated[
        str,
        msgspec.Meta(
            min_length=1,
            max_length=MAX_URL_LENGTH,
            extra_json_schema={"pattern": URL_PATTERN},
            description="An absolute http(s) URL without user info, whitespace or control "
            "characters; host names in other scripts and bracketed IPv6 addresses are accepted "
            "too. Unless SCANLET_WEBHOOK_ALLOW_PRIVATE is on, it must reach only public "
            "addresses (422).",
        ),
    ]
    events: Annotated[list[EventName], msgspec.Meta(min_length=1, max_length=MAX_EVENT_TYPES)]


class WebhookResource(msgspec.Struct, frozen=True, kw_only=True):
    """An endpoint as the API shows it (never with its secret)."""

    id: str
    url: str
    events: list[str]
    enabled: bool
    created_at: datetime
    disabled_at: datetime | None
    disabled_reason: str | None
    tags: Annotated[
        list[str] | None,
        msgspec.Meta(
            description="Made by a key or user limited to these tags: only the events of codes "
            "with one of them are sent, and only its maker's account sees it. null: every event."
        ),
    ] = None
    domains: Annotated[
        list[str] | None,
        msgspec.Meta(
            description="Made by a key or user limited to these domains (hosts): only the events "
            "of codes on one of them are sent, and only its maker's account sees it. null: "
            "codes of every domain."
        ),
    ] = None


class CreatedWebhook(WebhookResource, frozen=True, kw_only=True):
    """A new endpoint with its signing secret, shown this once."""

    secret: str


class WebhookList(msgspec.Struct, frozen=True):
    """A page of endpoints."""

    items: list[WebhookResource]
    next_cursor: str | None


class AttemptResource(msgspec.Struct, frozen=True, kw_only=True):
    """One delivery attempt: when, what came back (status or error) and how long it took."""

    id: int
    event_id: str
    event_type: str
    attempt: int
    attempted_at: datetime
    status_code: int | None
    error: str | None
    duration_ms: float
    outcome: str


class AttemptList(msgspec.Struct, frozen=True):
    """A page of attempts, newest first."""

    items: list[AttemptResource]
    next_cursor: str | None


def _default_host(request: Request) -> str:
    return services(request).index.domains.default_host


def webhooks_client(request: Request) -> WebhooksClient:
    """The webhooks context's client, installed by the integrations feature."""
    return installed(services(request).webhooks, "integrations")


def webhook_resource(row: EndpointRow, default_host: str) -> WebhookResource:
    """The API view of an endpoint: never its secret (``default_host``: how its domain limit
    names the default domain)."""
    return WebhookResource(
        id=row.id,
        url=row.url,
        events=list(row.event_types),
        enabled=row.enabled,
        created_at=row.created_at,
        disabled_at=row.disabled_at,
        disabled_reason=row.disabled_reason,
        tags=None if row.tags is None else list(row.tags),
        domains=None
        if row.domains is None
        else sorted(default_host if d == DEFAULT_DOMAIN else d for d in row.domains),
    )


def created_webhook(row: EndpointRow, default_host: str) -> CreatedWebhook:
    """A new endpoint with its secret: what creating one answers, once."""
    shown = webhook_resource(row, default_host)
    return CreatedWebhook(**msgspec.structs.asdict(shown), secret=row.secret)


def webhook_created_entry(by: By, now: datetime, row: EndpointRow) -> AuditEntry:
    """The audit trail's line for a new endpoint (the API's and the command line's)."""
    # The host only: a URL's path or query may hold a credential.
    detail: dict[str, object] = {
        "host": urlsplit(row.url).hostname,
        "events": list(row.event_types),
    }
    if row.tags is not None:
        detail["tags"] = list(row.tags)
    if row.domains is not None:
        detail["domains"] = list(row.domains)
    return audit_entry(by, now, "webhook.created", row.id, **detail)


def webhook_deleted_entry(by: By, now: datetime, endpoint_id: str) -> AuditEntry:
    """The audit trail's line for a removed endpoint."""
    return audit_entry(by, now, "webhook.deleted", endpoint_id)


def _attempt(row: AttemptRow) -> AttemptResource:
    return AttemptResource(
        id=row.id,
        event_id=row.event_id,
        event_type=row.event_type,
        attempt=row.attempt,
        attempted_at=row.attempted_at,
        status_code=row.status_code,
        error=row.error,
        duration_ms=row.duration_ms,
        outcome=row.outcome,
    )


async def _load(request: Request, endpoint_id: str) -> EndpointRow:
    """The endpoint ``endpoint_id``, or 404: also for another's endpoint, to a principal
    limited to tags (as absent as one that never was)."""
    row = await webhooks_client(request).store.endpoint(endpoint_id)
    if row is None or not owns_webhook(request.state.principal, row):
        raise Problem(404, f"There is no webhook endpoint with id {endpoint_id!r}.")
    return row


async def create_webhook(request: Request) -> Response:
    """Register an endpoint; the answer carries its secret, shown only this once."""
    client = webhooks_client(request)
    body = await decode_body(request, CreateWebhook)
    limit = webhook_limit(request.state.principal)
    try:
        row = await client.create(
            body.url, body.events, owner=limit.owner, tags=limit.tags, domains=limit.domains
        )
    except InvalidWebhook as exc:
        raise Problem(
            422,
            f"{exc.field}: {exc.msg}",
            errors=[FieldError(["body", exc.field], exc.msg)],
        ) from None
    svc = services(request)
    await svc.storage.audit.record(
        webhook_created_entry(request.state.principal.author, svc.clock.now(), row)
    )
    created = created_webhook(row, _default_host(request))
    return json_response(created, 201, {"Location": f"/api/v1/webhooks/{row.id}"})


async def list_webhooks(request: Request) -> Response:
    """Every endpoint, oldest first."""
    client = webhooks_client(request)
    principal = request.state.principal
    rows = [row for row in await client.store.endpoints() if owns_webhook(principal, row)]
    page, next_cursor = page_in_memory(request, rows, lambda row: row.id)
    host = _default_host(request)
    return json_response(WebhookList([webhook_resource(row, host) for row in page], next_cursor))


async def get_webhook(request: Request) -> Response:
    """One endpoint."""
    row = await _load(request, request.path_params["id"])
    return json_response(webhook_resource(row, _default_host(request)))


async def delete_webhook(request: Request) -> Response:
    """Remove an endpoint with its pending deliveries and its attempt log."""
    endpoint_id = request.path_params["id"]
    if request.state.principal.limited:
        # Another's endpoint is as absent as one that never was; without a limit the
        # command goes straight to the webhooks context, which knows (or is unavailable).
        await _load(request, endpoint_id)
    if not await webhooks_client(request).delete(endpoint_id):
        raise Problem(404, f"There is no webhook endpoint with id {endpoint_id!r}.")
    svc = services(request)
    await svc.storage.audit.record(
        webhook_deleted_entry(request.state.principal.author, svc.clock.now(), endpoint_id)
    )
    return Response(status_code=204)


async def list_deliveries(request: Request) -> Response:
    """An endpoint's delivery attempts, newest first."""
    client = webhooks_client(request)
    row = await _load(request, request.path_params["id"])
    limit = query_int(request, "limit", default=50, low=1, high=1000)
    cursor = query_str(request, "cursor", max_length=MAX_CURSOR_LENGTH)
    page = await client.attempts(row.id, limit=limit, cursor=cursor)
    return json_response(AttemptList([_attempt(a) for a in page.items], page.next_cursor))


_ID_OF_ENDPOINT = {"id": "$response.body#/id"}
#: Where a new endpoint's id leads.
WEBHOOK_LINKS = (
    Link("GetWebhook", "GET", "/api/v1/webhooks/{id}", _ID_OF_ENDPOINT, "The endpoint."),
    Link("DeleteWebhook", "DELETE", "/api/v1/webhooks/{id}", _ID_OF_ENDPOINT, "Remove it."),
    Link(
        "Deliveries",
        "GET",
        "/api/v1/webhooks/{id}/deliveries",
        _ID_OF_ENDPOINT,
        "Its delivery attempts.",
    ),
)


def webhook_endpoints() -> list[Endpoint]:
    """The webhook routes."""
    one = [Param("id", "path", {"type": "string"}, "The endpoint's id.")]
    paging = page_params()
    return [
        Endpoint(
            "POST",
            "/api/v1/webhooks",
            create_webhook,
            "Register a webhook endpoint",
            "webhooks",
            scope=Scope.ADMIN,
            body=CreateWebhook,
            extra_problems=[503],
            description=(
                "`events` lists event types or `*`. The URL must be http(s) and, unless "
                "SCANLET_WEBHOOK_ALLOW_PRIVATE is on, reach only public addresses (422). "
                "The answer's `secret` signs every delivery (Standard Webhooks) and is "
                "shown only here. Made by a key or user limited to tags, the endpoint "
                "carries that limit (`tags`): it receives only the events of codes with one "
                "of those tags, and only its maker's account sees it."
            ),
            replies=[
                Reply(
                    201,
                    "The endpoint, with its secret.",
                    CreatedWebhook,
                    headers=("Location",),
                    links=WEBHOOK_LINKS,
                )
            ],
        ),
        Endpoint(
            "GET",
            "/api/v1/webhooks",
            list_webhooks,
            "List webhook endpoints",
            "webhooks",
            scope=Scope.ADMIN,
            params=paging,
            replies=[Reply(200, "A page of endpoints.", WebhookList)],
        ),
        Endpoint(
            "GET",
            "/api/v1/webhooks/{id}",
            get_webhook,
            "Get a webhook endpoint",
            "webhooks",
            scope=Scope.ADMIN,
            params=one,
            extra_problems=[404],
            replies=[Reply(200, "The endpoint.", WebhookResource)],
        ),
        Endpoint(
            "DELETE",
            "/api/v1/webhooks/{id}",
            delete_webhook,
            "Remove a webhook endpoint",
            "webhooks",
            scope=Scope.ADMIN,
            params=one,
            extra_problems=[404, 503],
            replies=[Reply(204, "Removed.", media_type="")],
        ),
        Endpoint(
            "GET",
            "/api/v1/webhooks/{id}/deliveries",
            list_deliveries,
            "List delivery attempts",
            "webhooks",
            scope=Scope.ADMIN,
            params=[*one, *paging],
            extra_problems=[404],
            replies=[Reply(200, "Attempts, newest first.", AttemptList)],
        ),
    ]
