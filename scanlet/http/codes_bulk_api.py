"""Codes in bulk: every code as ``scanlet`` CSV (``GET /api/v1/codes?format=csv``) and up
to 1000 new codes in one request (``POST /api/v1/codes/batch``), idempotent by key.

The CSV is the format ``scanlet import csv`` reads (``scanlet.importing.scanlet_csv``),
streamed a page of 1000 codes at a time. A batch creates each code through the codes
context as ``POST /api/v1/codes`` does, one answer per item (its code, or its problem);
with an ``Idempotency-Key`` header the answer is kept for a day under that key (per API
key), and the same request sent again gets it back (``Idempotent-Replayed: true``) instead
of creating its codes again; the same key with another body is a 422.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Annotated

import msgspec
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from scanlet.actors.access.keys import Scope
from scanlet.actors.access.roles import Principal
from scanlet.actors.codes.errors import CodeError
from scanlet.actors.codes.messages import CreateCode, CreateCodeBody
from scanlet.http.body import check_times, decode_body, validation_problem
from scanlet.http.endpoint import Endpoint, Param, Reply
from scanlet.http.errors import code_problem
from scanlet.http.problems import FieldError, Problem, ProblemBody
from scanlet.http.resources import CodeResource, code_resource, qr_links
from scanlet.http.responses import json_response
from scanlet.http.scoping import CodeLimit, check_new_code
from scanlet.http.services import Services, services
from scanlet.importing.scanlet_csv import COLUMNS, code_row
from scanlet.storage.ports import CodeRepository, ScanRepository

__all__ = ("BATCH_LIMIT", "batch_endpoints", "codes_csv")

BATCH_LIMIT = 1000
#: How long an answer is kept under its idempotency key, and how long a claim may stay
#: unanswered before a retry may take it over (its process died).
KEEP_ANSWERS = timedelta(hours=24)
STALE_CLAIM = timedelta(minutes=5)
#: Idempotency keys: what clients send (UUIDs, mostly), in printable ASCII.
_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")
_CSV_PAGE = 1000


async def _csv_chunks(
    codes: CodeRepository,
    scans: ScanRepository,
    tag: str | None,
    q: str | None,
    within: CodeLimit,
    domain: str | None,
) -> AsyncIterator[str]:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    cursor: str | None = None
    while True:
        page = await codes.page(
            limit=_CSV_PAGE, cursor=cursor, tag=tag, q=q, domain=domain, **within.page()
        )
        counts = await scans.counts_for(row.slug for row in page.items)
        writer.writerows(code_row(row, counts.get(row.slug, 0)) for row in page.items)
        yield out.getvalue()
        out.seek(0)
        out.truncate()
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


def codes_csv(
    svc: Services,
    tag: str | None,
    q: str | None,
    within: CodeLimit,
    domain: str | None = None,
) -> Response:
    """Every live code matching ``tag`` and ``q`` (and ``within`` the caller's limits; of
    ``domain`` when given), newest first, as a CSV download."""
    return StreamingResponse(
        _csv_chunks(svc.storage.codes, svc.storage.scans, tag, q, within, domain),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="codes.csv"'},
    )


class BatchRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Up to 1000 codes to create, each as ``POST /api/v1/codes`` takes it."""

    codes: Annotated[list[CreateCodeBody], msgspec.Meta(min_length=1, max_length=BATCH_LIMIT)]


class _RawBatch(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    # Decoded loosely first, so that each item is validated (and refused) on its own.
    codes: list[msgspec.Raw]


class BatchResult(msgspec.Struct, frozen=True, omit_defaults=True):
    """What happened to one item: ``status`` 201 with its ``code``, or the ``problem``."""

    index: int
    status: int
    code: CodeResource | None = None
    problem: ProblemBody | None = None


class BatchResponse(msgspec.Struct, frozen=True):
    """One result per item, in the order sent."""

    results: list[BatchResult]


_item_decoder = msgspec.json.Decoder(CreateCode)


def _idempotency_key(request: Request) -> str | None:
    raw = request.headers.get("idempotency-key")
    if raw is None:
        return None
    if not _KEY.match(raw):
        message = "must be 1 to 255 printable ASCII characters"
        raise Problem(
            422,
            f"Idempotency-Key {message}.",
            errors=[FieldError(["header", "Idempotency-Key"], message)],
        )
    return raw


async def _create_one(
    svc: Services, principal: Principal, index: int, raw: msgspec.Raw
) -> BatchResult:
    loc: list[str | int] = ["body", "codes", index]
    try:
        try:
            command = _item_decoder.decode(raw)
        except msgspec.ValidationError as exc:
            refused = validation_problem(exc)
            errors = [FieldError([*loc, *e.loc[1:]], e.msg) for e in refused.errors or []]
            raise Problem(422, refused.detail, errors=errors) from None
        check_times(command, loc)
        check_new_code(principal, command, svc.index.domains)
        row = await svc.codes.create(command, principal.author)
    except Problem as problem:
        return BatchResult(index, problem.status, problem=problem.body())
    except CodeError as exc:
        refusal = code_problem(exc, loc)
        return BatchResult(index, refusal.status, problem=refusal.body())
    counts = await svc.storage.scans.counts_for([row.slug])
    resource = code_resource(row, qr_links(svc), counts.get(row.slug, 0))
    return BatchResult(index, 201, code=resource)


async def create_batch(request: Request) -> Response:
    """Create each code of the batch; one result per item."""
    svc = services(request)
    key = _idempotency_key(request)
    body = await decode_body(request, _RawBatch)
    if not 1 <= len(body.codes) <= BATCH_LIMIT:
        raise Problem(
            422,
            f"A batch holds 1 to {BATCH_LIMIT} codes; send the rest in another.",
            errors=[FieldError(["body", "codes"], f"1 to {BATCH_LIMIT} items")],
        )
    claim: str | None = None
    if key is not None:
        principal = request.state.principal
        claim = f"{principal.kind}:{principal.id}:{key}"
        fingerprint = hashlib.sha256(b"\0".join(bytes(raw) for raw in body.codes)).hexdigest()
        store = svc.storage.idempotency
        kept = await store.begin(
            claim, fingerprint, svc.clock.now(), keep=KEEP_ANSWERS, stale=STALE_CLAIM
        )
        if kept is not None:
            if kept.fingerprint != fingerprint:
                raise Problem(
                    422,
                    "This Idempotency-Key was sent before with another body; use a new key.",
                    errors=[FieldError(["header", "Idempotency-Key"], "used for another body")],
                )
            if kept.status is None or kept.body is None:
                raise Problem(
                    409,
                    "A request with this Idempotency-Key is still being handled.",
                    headers={"Retry-After": "1"},
                )
            return Response(
                kept.body,
                status_code=kept.status,
                media_type="application/json",
                headers={"Idempotent-Replayed": "true"},
            )
    try:
        principal = request.state.principal
        results = [await _create_one(svc, principal, i, raw) for i, raw in enumerate(body.codes)]
    except BaseException:
        # Not answered (the store failed, the client left): a retry with the key may run.
        if claim is not None:
            await svc.storage.idempotency.release(claim)
        raise
    response = json_response(BatchResponse(results))
    if claim is not None:
        await svc.storage.idempotency.finish(claim, response.status_code, bytes(response.body))
    return response


def batch_endpoints() -> list[Endpoint]:
    """The batch route."""
    return [
        Endpoint(
            "POST",
            "/api/v1/codes/batch",
            create_batch,
            "Create codes in a batch",
            "codes",
            scope=Scope.WRITE,
            body=BatchRequest,
            params=[
                Param(
                    "Idempotency-Key",
                    "header",
                    {"type": "string", "pattern": "^[\\x21-\\x7e]{1,255}$"},
                    "Sent again with the same body, the request is answered as the first "
                    "time instead of being carried out again (for 24 hours).",
                )
            ],
            extra_problems=[409, 503],
            description="Each item of `codes` is what `POST /api/v1/codes` takes; each is "
            "created or refused on its own (`status` 201 with `code`, or its `problem`).",
            replies=[
                Reply(
                    200,
                    "One result per item.",
                    BatchResponse,
                    headers=("Idempotent-Replayed",),
                )
            ],
        )
    ]
