"""Request bodies: read within the size limit, decode and validate with msgspec."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypeVar

import msgspec
from starlette.requests import Request

from scanlet.http.problems import FieldError, Problem
from scanlet.timerange import time_error

__all__ = ("check_times", "decode_body", "decode_json", "field_location", "validation_problem")

T = TypeVar("T")

_AT_RE = re.compile(r"^(?P<msg>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.DOTALL)
_PATH_PART_RE = re.compile(r"\.([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]|\[\.\.\.\]")


def _location(path: str, under: Sequence[str | int] = ("body",)) -> list[str | int]:
    loc: list[str | int] = list(under)
    for match in _PATH_PART_RE.finditer(path):
        name, index = match.group(1), match.group(2)
        if name is not None:
            loc.append(name)
        elif index is not None:
            loc.append(int(index))
    return loc


def field_location(field: str, under: Sequence[str | int] = ("body",)) -> list[str | int]:
    """A body field's path as a problem's ``loc``: ``"rules[2].target"`` ->
    ``["body", "rules", 2, "target"]`` (under ``["body", "codes", 3]``: a batch item's)."""
    return _location("." + field, under)


def validation_problem(error: msgspec.ValidationError) -> Problem:
    """Turn msgspec's ``Expected `int`, got `str` - at `$.max_scans``` into a 422 problem."""
    text = str(error)
    match = _AT_RE.match(text)
    msg = match.group("msg") if match else text
    path = (match.group("path") if match else None) or ""
    return Problem(
        422,
        f"The request body is invalid: {msg}",
        errors=[FieldError(loc=_location(path), msg=msg)],
    )


def check_times(value: Any, loc: list[str | int]) -> None:
    """A 422 naming the first time inside ``value`` that is out of the accepted range.

    Walks structs, lists and dicts: one check for every time in every request body, so no
    route can forget it (see ``scanlet.timerange``).
    """
    if isinstance(value, datetime):
        error = time_error(value)
        if error is not None:
            field = ".".join(str(part) for part in loc[1:]) or "body"
            raise Problem(422, f"{field}: {error}", errors=[FieldError(loc, error)])
    elif isinstance(value, msgspec.Struct):
        for name in value.__struct_fields__:
            check_times(getattr(value, name), [*loc, name])
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            check_times(item, [*loc, index])
    elif isinstance(value, dict):
        for key, item in value.items():
            check_times(item, [*loc, str(key)])


async def decode_body(request: Request, type_: type[T]) -> T:
    """Decode a JSON body into ``type_``: 415 if not JSON, 400 if malformed or nested too
    deeply, 422 if invalid (times out of range included).

    The body size limit is enforced by the middleware while the body streams in.
    """
    content_type = request.headers.get("content-type", "application/json")
    media = content_type.split(";", 1)[0].strip().lower()
    if media != "application/json" and not media.endswith("+json"):
        raise Problem(415, f"Expected an application/json body, got {media or 'none'}.")
    return decode_json(await request.body(), type_)


def decode_json(raw: bytes, type_: type[T]) -> T:
    """Decode and validate a JSON document into ``type_``, as every request body is: 400 if
    empty, malformed or nested too deeply, 422 if invalid (times out of range included).

    The command line builds its documents from flags and decodes them here too, so a code
    made from the shell passes exactly the API's checks.
    """
    if not raw.strip():
        raise Problem(400, "The request body is empty; a JSON object was expected.")
    try:
        decoded = msgspec.json.decode(raw, type=type_)
    except msgspec.ValidationError as exc:
        raise validation_problem(exc) from None
    except msgspec.DecodeError as exc:
        raise Problem(400, f"The request body is not valid JSON: {exc}") from None
    except RecursionError:
        raise Problem(400, "The request body is nested too deeply.") from None
    check_times(decoded, ["body"])
    return decoded
