"""The JSON Schema of which fields go with which kind of code, for the OpenAPI document.

msgspec describes each field on its own; a kind decides which content fits and which
fields a code may not have at all (``kinds.UNUSED_FIELDS``). These schemas say so, one
variant per kind, from the same tables the codes actor checks with.
"""

from __future__ import annotations

from typing import Any

import msgspec

from scanlet.actors.codes.kinds import CONTENT_TYPES, NO_REDIRECT_FIELDS, NO_SCAN_FIELDS

__all__ = ("CONTENT_BODY_SCHEMA", "KIND_VARIANTS")

_schemas, _components = msgspec.json.schema_components(
    list(CONTENT_TYPES.values()), ref_template="#/components/schemas/{name}"
)
#: Each kind's content schema, inline (they refer to nothing else).
_CONTENT = {kind: _components[type_.__name__] for kind, type_ in CONTENT_TYPES.items()}
# A Wi-Fi password goes with its security (``check_content``): none for an open network,
# one for WPA (the default) and WEP.
_CONTENT["wifi"] = {
    **_CONTENT["wifi"],
    "oneOf": [
        {
            "properties": {"security": {"const": "nopass"}, "password": {"type": "null"}},
            "required": ["security"],
        },
        {
            "properties": {"security": {"enum": ["WPA", "WEP"]}, "password": {"type": "string"}},
            "required": ["password"],
        },
    ],
}

#: Whatever the kind: an object with the fields of one of them.
CONTENT_BODY_SCHEMA: dict[str, Any] = {"anyOf": list(_CONTENT.values())}

# How a field a kind has no use for may appear: absent, or at what the field's absence means.
_UNUSED: dict[str, dict[str, Any]] = {
    "target": {"type": "null"},
    "password": {"type": "null"},
    "fallback_url": {"type": "null"},
    "max_scans": {"type": "null"},
    "valid_from": {"type": "null"},
    "valid_until": {"type": "null"},
    "redirect_status": {"const": 302},
    "forward_query": {"const": False},
    "rules": {"maxItems": 0},
    "split": {"maxItems": 0},
}


def _variant(kind: str, *, tracked: bool = False) -> dict[str, Any]:
    unused = NO_REDIRECT_FIELDS if tracked else NO_REDIRECT_FIELDS + NO_SCAN_FIELDS
    properties: dict[str, Any] = {
        "kind": {"const": kind},
        "content": _CONTENT[kind],
        "tracked": {"const": tracked},
    }
    properties.update({name: _UNUSED[name] for name in unused})
    required = ["kind", "content", "tracked"] if tracked else ["kind", "content"]
    return {"properties": properties, "required": required}


_URL = {
    "properties": {
        "target": {"type": "string"},
        "kind": {"const": "url"},
        "content": {"type": "null"},
        "tracked": {"const": True},
    },
    "required": ["target"],
}

#: Exactly one holds for a body the server accepts: the url variant (``kind`` left out
#: too), the static variant of the body's kind, or the tracked vcard's.
KIND_VARIANTS: dict[str, Any] = {
    "oneOf": [
        _URL,
        *(_variant(kind) for kind in CONTENT_TYPES),
        _variant("vcard", tracked=True),
    ]
}
