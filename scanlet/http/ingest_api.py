"""``POST /api/v1/events``: batches of scans from scanner devices, idempotent by event id.

Each event is validated on its own, so one bad event is ``rejected`` with its reason while
the rest of the batch goes on; the accepted ones are committed in one transaction before the
response, and an id seen before (in this batch or ever) is a ``duplicate``, never a second scan.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from scanlet.actors.access.keys import Scope
from scanlet.actors.access.roles import Principal
from scanlet.actors.scans.limits import MAX_CLOCK_SKEW, canonical_id, data_error
from scanlet.actors.scans.messages import DeviceScan, IngestResult
from scanlet.http.body import decode_body
from scanlet.http.endpoint import Endpoint, Reply
from scanlet.http.problems import FieldError, Problem
from scanlet.http.responses import json_response
from scanlet.http.scoping import sees_slug
from scanlet.http.services import Services, services
from scanlet.timerange import time_error

__all__ = ("IngestRequest", "IngestResponse", "ingest_endpoints")

MAX_BATCH = 1000


class IngestRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A batch of at most 1000 device events."""

    events: Annotated[list[DeviceScan], msgspec.Meta(max_length=MAX_BATCH)]


class _RawBatch(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    # Decoded loosely first, so that each event can be validated (and rejected) on its own.
    events: list[msgspec.Raw]


class IngestResponse(msgspec.Struct, frozen=True):
    """One result per posted event, in the order posted."""

    results: list[IngestResult]


class _Peek(msgspec.Struct):
    id: object = None


_scan_decoder = msgspec.json.Decoder(DeviceScan)
_peek_decoder = msgspec.json.Decoder(_Peek)


def _reject(raw: msgspec.Raw, error: str) -> IngestResult:
    try:
        found = _peek_decoder.decode(raw).id
    except msgspec.DecodeError:
        found = None
    return IngestResult(found if isinstance(found, str) else "", "rejected", error)


def _known_slugs(svc: Services, principal: Principal) -> Callable[[str], Awaitable[bool]]:
    """Whether scans of a slug are taken: a code's, or a deleted code's (its slug stays
    taken); for a limited key only its own codes', the others answered as unknown."""
    sees = sees_slug(svc, principal) if principal.limited else None
    answers: dict[str, bool] = {}

    async def known(slug: str) -> bool:
        if not svc.index.is_taken(slug):
            return False
        if sees is None:
            return True
        if slug not in answers:
            answers[slug] = await sees(slug)
        return answers[slug]

    return known


async def ingest(request: Request) -> Response:
    """Validate each event, store the good ones durably, answer per event."""
    svc = services(request)
    body = await decode_body(request, _RawBatch)
    if len(body.events) > MAX_BATCH:
        raise Problem(
            422,
            f"A batch holds at most {MAX_BATCH} events; send the rest in another.",
            errors=[FieldError(["body", "events"], f"at most {MAX_BATCH} items")],
        )
    latest = svc.clock.now() + MAX_CLOCK_SKEW
    known = _known_slugs(svc, request.state.principal)
    results: list[IngestResult | None] = []
    valid: list[DeviceScan] = []
    for raw in body.events:
        try:
            scan = _scan_decoder.decode(raw)
        except msgspec.DecodeError as exc:
            results.append(_reject(raw, str(exc)))
            continue
        canonical = canonical_id(scan.id)
        if canonical is None:
            results.append(IngestResult(scan.id, "rejected", "id must be a UUID"))
            continue
        time_problem = time_error(scan.occurred_at)
        data_problem = data_error(scan.data)
        if time_problem is not None:
            results.append(IngestResult(scan.id, "rejected", f"occurred_at {time_problem}"))
        elif data_problem is not None:
            results.append(IngestResult(scan.id, "rejected", data_problem))
        elif scan.occurred_at > latest:
            results.append(IngestResult(scan.id, "rejected", "occurred_at is in the future"))
        elif not await known(scan.slug):
            results.append(IngestResult(scan.id, "rejected", f"unknown slug {scan.slug!r}"))
        else:
            valid.append(msgspec.structs.replace(scan, id=canonical))
            results.append(None)
    if valid:
        stored = iter(await svc.scans.ingest(valid, request.state.principal.author))
        results = [r if r is not None else next(stored) for r in results]
    return json_response(IngestResponse([r for r in results if r is not None]))


def ingest_endpoints() -> list[Endpoint]:
    """The device ingest route."""
    return [
        Endpoint(
            "POST",
            "/api/v1/events",
            ingest,
            "Ingest scans from devices",
            "events",
            scope=Scope.WRITE,
            body=IngestRequest,
            extra_problems=[503],
            description="Each item of `events` is a scan: "
            '`{"type": "scan", "id": "<uuid>", "slug", "occurred_at", "device_id"?, "data"?}`.',
            replies=[Reply(200, "One result per event.", IngestResponse)],
        )
    ]
