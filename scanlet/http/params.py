"""Query parameters: parsed strictly, refused with 422 problems that name the parameter."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from starlette.requests import Request

from scanlet.http.endpoint import Param
from scanlet.http.problems import FieldError, Problem
from scanlet.timerange import TIME_SCHEMA, time_error, time_zones

__all__ = (
    "CURSOR_SCHEMA",
    "FROM_SCHEMA",
    "MAX_CURSOR_LENGTH",
    "TO_SCHEMA",
    "QuerySource",
    "page_params",
    "query_bool",
    "query_choice",
    "query_int",
    "query_str",
    "query_time",
    "query_zone",
    "time_zones",
)

#: Cursors are opaque: only their length is documented (whether one is ours is decided by
#: ``scanlet.storage.cursors``, 422 if not).
MAX_CURSOR_LENGTH = 512
CURSOR_SCHEMA = {"type": "string", "minLength": 1, "maxLength": MAX_CURSOR_LENGTH}


def _time_param(example: str) -> dict[str, object]:
    return {**{k: v for k, v in TIME_SCHEMA.items() if k != "description"}, "examples": [example]}


#: ``from`` and ``to`` (``query_time``) as the schema shows them; their examples make a range
#: (and give generated requests one that is in order).
FROM_SCHEMA = _time_param("2026-01-01T00:00:00Z")
TO_SCHEMA = _time_param("2026-02-01T00:00:00Z")


#: Where query parameters come from: a request, or a plain mapping (the command line reads
#: its flags into one, so its values pass the very checks the API's do).
QuerySource = Request | Mapping[str, str]


def _params(source: QuerySource) -> Mapping[str, str]:
    return source.query_params if isinstance(source, Request) else source


def invalid(name: str, msg: str) -> Problem:
    """A 422 problem about query parameter ``name``."""
    return Problem(
        422, f"Query parameter {name}: {msg}.", errors=[FieldError(["query", name], msg)]
    )


def query_str(request: QuerySource, name: str, *, max_length: int = 256) -> str | None:
    """A text parameter, or None when absent."""
    value = _params(request).get(name)
    if value is not None and len(value) > max_length:
        raise invalid(name, f"at most {max_length} characters")
    return value


def query_int(request: QuerySource, name: str, *, default: int, low: int, high: int) -> int:
    """An integer parameter within [low, high]."""
    raw = _params(request).get(name)
    if raw is None:
        return default
    if not raw.isascii() or not raw.isdigit():
        raise invalid(name, f"expected an integer from {low} to {high}")
    value = int(raw)
    if not low <= value <= high:
        raise invalid(name, f"expected an integer from {low} to {high}")
    return value


def query_choice(request: QuerySource, name: str, choices: tuple[str, ...], default: str) -> str:
    """One of ``choices``."""
    raw = _params(request).get(name)
    if raw is None:
        return default
    if raw not in choices:
        raise invalid(name, f"expected one of {', '.join(choices)}")
    return raw


def query_bool(request: QuerySource, name: str, *, default: bool) -> bool:
    """``true``/``false`` (also 1/0)."""
    raw = _params(request).get(name)
    if raw is None:
        return default
    lowered = raw.lower()
    if lowered in ("true", "1"):
        return True
    if lowered in ("false", "0"):
        return False
    raise invalid(name, "expected true or false")


def query_time(request: QuerySource, name: str) -> datetime | None:
    """An RFC 3339 time with an offset within the accepted range, or None when absent."""
    raw = _params(request).get(name)
    if raw is None:
        return None
    try:
        value = datetime.fromisoformat(raw.replace("z", "Z"))
    except ValueError:
        raise invalid(name, "expected an RFC 3339 time such as 2026-01-01T00:00:00Z") from None
    error = time_error(value)
    if error is not None:
        raise invalid(name, error)
    return value


def query_zone(request: QuerySource) -> str:
    """The ``tz`` parameter: one of ``time_zones()``, UTC when absent."""
    name = _params(request).get("tz")
    if name is None:
        return "UTC"
    if name not in time_zones():
        raise invalid("tz", "expected an IANA time zone such as Europe/Berlin")
    return name


def page_params() -> list[Param]:
    """``limit`` and ``cursor``, as every paginated list takes them."""
    return [
        Param(
            "limit",
            "query",
            {"type": "integer", "minimum": 1, "maximum": 1000, "default": 50},
            "Page size.",
        ),
        Param("cursor", "query", CURSOR_SCHEMA, "The previous page's next_cursor."),
    ]
