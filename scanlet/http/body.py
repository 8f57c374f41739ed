"""Request bodies: read within the size limit, decode and validate with msgspec."""

from __future__ import annotations

import re
from typing import TypeVar

import msgspec
from starlette.requests import Request

from scanlet.http.problems import FieldError, Problem

__all__ = ("decode_body", "validation_problem")

T = TypeVar("T")

_AT_RE = re.compile(r"^(?P<msg>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.DOTALL)
_PATH_PART_RE = re.compile(r"\.([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]|\[\.\.\.\]")


def _location(path: str) -> list[str | int]:
    loc: list[str | int] = ["body"]
    for match in _PATH_PART_RE.finditer(path):
        name, index = match.group(1), match.group(2)
        if name is not None:
            loc.append(name)
        elif index is not None:
            loc.append(int(index))
    return loc


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


async def decode_body(request: Request, type_: type[T]) -> T:
    """Decode a JSON body into ``type_``: 415 if not JSON, 400 if malformed, 422 if invalid.

    The body size limit is enforced by the middleware while the body streams in.
    """
    content_type = request.headers.get("content-type", "application/json")
    media = content_type.split(";", 1)[0].strip().lower()
    if media != "application/json" and not media.endswith("+json"):
        raise Problem(415, f"Expected an application/json body, got {media or 'none'}.")
    raw = await request.body()
    if not raw.strip():
        raise Problem(400, "The request body is empty; a JSON object was expected.")
    try:
        return msgspec.json.decode(raw, type=type_)
    except msgspec.ValidationError as exc:
        raise validation_problem(exc) from None
    except msgspec.DecodeError as exc:
        raise Problem(400, f"The request body is not valid JSON: {exc}") from None
