"""RFC 9457 problem details: the one error shape every route answers with."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import msgspec
from starlette.responses import Response

__all__ = ("FieldError", "Problem", "ProblemBody", "problem_response")

PROBLEM_TYPE_BASE = "https://scanlet.dev/problems/"
MEDIA_TYPE = "application/problem+json"


class FieldError(msgspec.Struct, frozen=True):
    """One validation failure: where (``loc``, a path into the input) and what (``msg``)."""

    loc: list[str | int]
    msg: str


class ProblemBody(msgspec.Struct, frozen=True, omit_defaults=True):
    """The JSON body of an error response."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[FieldError] | None = None


_TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    410: "Gone",
    413: "Content too large",
    415: "Unsupported media type",
    422: "Unprocessable content",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
}

_TYPES = {
    400: "malformed-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    406: "not-acceptable",
    409: "conflict",
    410: "gone",
    413: "content-too-large",
    415: "unsupported-media-type",
    422: "validation-failed",
    429: "rate-limited",
    500: "internal-error",
    503: "unavailable",
}

_encoder = msgspec.json.Encoder()


class Problem(Exception):
    """Raised anywhere in a request to answer with a problem+json response."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        errors: Sequence[FieldError] | None = None,
        headers: Mapping[str, str] | None = None,
        type_name: str | None = None,
        title: str | None = None,
    ) -> None:
        self.status = status
        self.detail = detail
        self.errors = list(errors) if errors is not None else None
        self.headers = dict(headers or {})
        self.type_name = type_name or _TYPES.get(status, "error")
        self.title = title or _TITLES.get(status, "Error")
        super().__init__(f"{status} {detail}")

    def body(self) -> ProblemBody:
        """The response body for this problem."""
        return ProblemBody(
            type=PROBLEM_TYPE_BASE + self.type_name,
            title=self.title,
            status=self.status,
            detail=self.detail,
            errors=self.errors,
        )


def problem_response(problem: Problem) -> Response:
    """Render a problem as an ``application/problem+json`` response."""
    return Response(
        _encoder.encode(problem.body()),
        status_code=problem.status,
        headers=problem.headers,
        media_type=MEDIA_TYPE,
    )
