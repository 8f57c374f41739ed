"""How exceptions become HTTP answers: one handler per kind, problem+json for every error.

Domain refusals map to 4xx (a taken slug 409, an invalid field 422), the runtime's and the
storage's "not now" errors to 503 with ``Retry-After``, a client that hung up to 499, and
anything else to a logged 500 that shows no traceback.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

import structlog
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from scanlet.actors.access.errors import (
    AccountError,
    AccountNotFound,
    EmailTaken,
    InvalidAccountField,
    LastOwnerLeft,
    NotAllowed,
)
from scanlet.actors.codes.errors import (
    CodeError,
    CodeNotFound,
    DomainInUse,
    DomainNotFound,
    DomainTaken,
    InvalidField,
    SlugTaken,
)
from scanlet.actors.scans.messages import ScanRejected
from scanlet.http.body import field_location
from scanlet.http.problems import FieldError, Problem, problem_response
from scanlet.runtime import ActorCrashed, ActorStopped, AskTimeout, MailboxFull
from scanlet.storage.cursors import InvalidCursor
from scanlet.storage.errors import StorageUnavailable

__all__ = ("CLIENT_CLOSED_REQUEST", "code_problem", "exception_handlers")

log = structlog.get_logger("scanlet.http")

#: nginx's "client closed request": not a server error, and nobody reads the answer.
CLIENT_CLOSED_REQUEST = 499

Handler = Callable[[Request, Exception], Awaitable[Response]]


async def _problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Problem)
    return problem_response(exc)


async def _http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    detail = {
        404: f"Nothing is served at {request.url.path}.",
        405: f"{request.method} is not allowed on {request.url.path}.",
    }.get(exc.status_code, str(exc.detail))
    return problem_response(Problem(exc.status_code, detail, headers=exc.headers))


def code_problem(exc: CodeError, loc: Sequence[str | int] = ("body",)) -> Problem:
    """The problem a refusal of the codes context answers, fields located under ``loc``
    (a batch item's ``["body", "codes", 3]``)."""
    if isinstance(exc, InvalidField):
        # A nested field is named by its path ("rules[2].when.schedule.tz"): the same list
        # of names and indexes a decoding error gives.
        return Problem(
            422,
            f"{exc.field}: {exc.msg}",
            errors=[FieldError(field_location(exc.field, loc), exc.msg)],
        )
    if isinstance(exc, SlugTaken):
        return Problem(
            409,
            f"The slug {exc.slug!r} is taken"
            + (" (compared ignoring case: SCANLET_QR_COMPACT)" if exc.ignoring_case else "")
            + "; choose another.",
            errors=[FieldError([*loc, "slug"], "already taken")],
        )
    if isinstance(exc, CodeNotFound):
        return Problem(404, f"There is no code with slug {exc.slug!r}.")
    if isinstance(exc, DomainNotFound):
        return Problem(404, f"There is no domain {exc.host!r}.")
    if isinstance(exc, DomainTaken):
        return Problem(
            409,
            f"The domain {exc.host!r} is already registered (or is the default domain).",
            errors=[FieldError([*loc, "host"], "already registered")],
        )
    if isinstance(exc, DomainInUse):
        return Problem(
            409,
            f"The domain {exc.host!r} still has {exc.codes} live code(s): delete or move "
            "them first.",
        )
    return Problem(422, str(exc))


async def _code_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, CodeError)
    return problem_response(code_problem(exc))


async def _invalid_cursor(request: Request, exc: Exception) -> Response:
    return problem_response(
        Problem(422, str(exc), errors=[FieldError(["query", "cursor"], str(exc))])
    )


async def _scan_rejected(request: Request, exc: Exception) -> Response:
    return problem_response(Problem(422, str(exc)))


async def _overloaded(request: Request, exc: Exception) -> Response:
    retry = getattr(exc, "retry_after", 1.0)
    log.warning("overloaded", error=str(exc), path=request.url.path)
    return problem_response(
        Problem(
            503,
            "The server is busy; try again shortly.",
            headers={"Retry-After": str(max(1, round(retry)))},
        )
    )


async def _unavailable(request: Request, exc: Exception) -> Response:
    log.error("unavailable", error=str(exc), error_type=type(exc).__name__, path=request.url.path)
    return problem_response(
        Problem(503, "The service is temporarily unavailable.", headers={"Retry-After": "1"})
    )


async def _client_gone(request: Request, exc: Exception) -> Response:
    """The client hung up while its body was read: 499 keeps it out of the 5xx figures."""
    log.info("client disconnected before its request body arrived", path=request.url.path)
    return Response(status_code=CLIENT_CLOSED_REQUEST)


async def _account_error(request: Request, exc: Exception) -> Response:
    return problem_response(account_problem(exc))


def account_problem(exc: Exception) -> Problem:
    """The problem for a refusal of the accounts layer (users, keys)."""
    if isinstance(exc, InvalidAccountField):
        return Problem(
            422, f"{exc.field}: {exc.msg}", errors=[FieldError(["body", exc.field], exc.msg)]
        )
    if isinstance(exc, AccountNotFound):
        return Problem(404, f"There is no user {exc.who!r}.")
    if isinstance(exc, NotAllowed):
        return Problem(403, f"{exc}.")
    if isinstance(exc, EmailTaken | LastOwnerLeft):
        return Problem(409, f"{str(exc)[:1].upper()}{str(exc)[1:]}.")
    return Problem(422, str(exc))


async def _internal(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error", path=request.url.path)
    return problem_response(Problem(500, "An unexpected error occurred; it has been logged."))


def exception_handlers() -> dict[type[Exception], Handler]:
    """Every handler, for ``Starlette(exception_handlers=...)``."""
    return {
        Problem: _problem,
        InvalidField: _code_error,
        AccountError: _account_error,
        InvalidCursor: _invalid_cursor,
        SlugTaken: _code_error,
        CodeNotFound: _code_error,
        DomainNotFound: _code_error,
        DomainTaken: _code_error,
        DomainInUse: _code_error,
        ScanRejected: _scan_rejected,
        HTTPException: _http_exception,
        ClientDisconnect: _client_gone,
        MailboxFull: _overloaded,
        ActorStopped: _unavailable,
        ActorCrashed: _unavailable,
        AskTimeout: _unavailable,
        StorageUnavailable: _unavailable,
        Exception: _internal,
    }
