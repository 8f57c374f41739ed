"""JSON responses encoded by msgspec (one module-level encoder, as msgspec advises)."""

from __future__ import annotations

from collections.abc import Mapping

import msgspec
from starlette.responses import Response

__all__ = ("json_response",)

_encoder = msgspec.json.Encoder()


def json_response(
    value: object, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    """``value`` (a Struct, dict, list, ...) as an ``application/json`` response."""
    return Response(
        _encoder.encode(value), status_code=status, headers=headers, media_type="application/json"
    )
