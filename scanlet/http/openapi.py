"""The OpenAPI 3.1 document, generated from the endpoint declarations and msgspec types."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import msgspec

from scanlet import __version__
from scanlet.http.endpoint import Endpoint
from scanlet.http.problems import MEDIA_TYPE as PROBLEM_MEDIA_TYPE
from scanlet.http.problems import ProblemBody

__all__ = ("build_openapi",)

_REF = "#/components/schemas/{name}"
_PATH_PARAM_RE = re.compile(r"{([^}:]+)(?::[^}]+)?}")

_HEADER_DOCS = {
    "Retry-After": {
        "description": "Seconds to wait before trying again.",
        "schema": {"type": "integer"},
    },
    "ETag": {"description": "Entity tag of the representation.", "schema": {"type": "string"}},
    "Location": {"description": "Where the client is sent.", "schema": {"type": "string"}},
    "Cache-Control": {"description": "Caching rules.", "schema": {"type": "string"}},
    "Content-Disposition": {
        "description": "inline or attachment, with a file name (SLUG.FORMAT).",
        "schema": {"type": "string"},
    },
}


def _openapi_path(path: str) -> str:
    """``/api/v1/codes/{slug:str}`` -> ``/api/v1/codes/{slug}``."""
    return _PATH_PARAM_RE.sub(lambda m: "{" + m.group(1) + "}", path)


def build_openapi(endpoints: Sequence[Endpoint], *, server_url: str) -> dict[str, Any]:
    """The whole document for ``endpoints``; types are collected into ``components``."""
    types: list[Any] = [ProblemBody]
    for endpoint in endpoints:
        if endpoint.body is not None:
            types.append(endpoint.body)
        types.extend(r.type for r in endpoint.replies if r.type is not None)
    unique = list(dict.fromkeys(types))
    schemas, components = msgspec.json.schema_components(unique, ref_template=_REF)
    schema_of = dict(zip(unique, schemas, strict=True))

    shown = [endpoint for endpoint in endpoints if endpoint.include_in_schema]
    operation_ids = {(e.method, e.path): e.operation_id or _operation_id(e) for e in shown}
    paths: dict[str, dict[str, Any]] = {}
    for endpoint in shown:
        operations = paths.setdefault(_openapi_path(endpoint.path), {})
        operations[endpoint.method.lower()] = _operation(endpoint, schema_of, operation_ids)
        for param in endpoint.params:
            if param.component:
                known = components.setdefault(param.component, param.schema)
                if known != param.schema:
                    raise ValueError(f"two schemas are named {param.component}")

    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Scanlet API",
            "version": __version__,
            "description": "Dynamic QR codes with durable scan recording, analytics, "
            "webhooks and a live event stream.",
        },
        "servers": [{"url": server_url}],
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An API key from `scanlet keys create`.",
                }
            },
        },
    }


def _operation(
    endpoint: Endpoint, schema_of: dict[Any, Any], operation_ids: dict[tuple[str, str], str]
) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "summary": endpoint.summary,
        "operationId": operation_ids[(endpoint.method, endpoint.path)],
        "tags": [endpoint.tag],
    }
    if endpoint.description:
        operation["description"] = endpoint.description
    if endpoint.scope is not None:
        operation["security"] = [{"bearer": []}]
        operation["description"] = (
            operation.get("description", "")
            + f"\n\nNeeds a key with scope `{endpoint.scope.label}`."
        ).strip()
    parameters = [
        {
            "name": p.name,
            "in": p.where,
            "required": p.required or p.where == "path",
            "description": p.description,
            "schema": {"$ref": _REF.format(name=p.component)} if p.component else p.schema,
        }
        for p in endpoint.params
    ]
    if parameters:
        operation["parameters"] = parameters
    if endpoint.body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": schema_of[endpoint.body]}},
        }
    elif endpoint.raw_body:
        raw: dict[str, Any] = {
            media_type: {"schema": {"type": "string", "contentMediaType": media_type}}
            for media_type in endpoint.raw_body
        }
        if endpoint.raw_body_example is not None:
            media_type, example = endpoint.raw_body_example
            raw[media_type]["example"] = example
        operation["requestBody"] = {"required": True, "content": raw}
    responses: dict[str, Any] = {}
    for reply in endpoint.replies:
        entry: dict[str, Any] = {"description": reply.description}
        content: dict[str, Any] = {}
        if reply.type is not None:
            content[reply.media_type] = {"schema": schema_of[reply.type]}
        elif reply.media_type and reply.status not in (204, 304) and reply.status < 300:
            untyped = {"type": "object"} if reply.media_type == "application/json" else {}
            content[reply.media_type] = {"schema": untyped or {"type": "string"}}
        for media_type in reply.alternatives:
            content[media_type] = {"schema": {"type": "string"}}
        if content:
            entry["content"] = content
        if reply.headers:
            entry["headers"] = {
                h: _HEADER_DOCS.get(h, {"schema": {"type": "string"}}) for h in reply.headers
            }
        links = {
            link.name: {
                "operationId": operation_ids[(link.method, link.path)],
                "parameters": dict(link.parameters),
                **({"description": link.description} if link.description else {}),
            }
            for link in reply.links
            if (link.method, link.path) in operation_ids
        }
        if links:
            entry["links"] = links
        responses[str(reply.status)] = entry
    for status in endpoint.problem_statuses():
        if str(status) in responses:
            continue
        entry = {
            "description": f"Problem details ({status}).",
            "content": {PROBLEM_MEDIA_TYPE: {"schema": schema_of[ProblemBody]}},
        }
        if status in (429, 503):
            entry["headers"] = {"Retry-After": _HEADER_DOCS["Retry-After"]}
        responses[str(status)] = entry
    operation["responses"] = responses
    return operation


def _operation_id(endpoint: Endpoint) -> str:
    words = re.findall(r"[A-Za-z0-9]+", endpoint.path.replace("api/v1", ""))
    return endpoint.method.lower() + "_" + "_".join(words or ["root"])
