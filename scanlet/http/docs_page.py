"""``/docs``: the OpenAPI document rendered as one self-contained HTML page (no CDN, no JS)."""

from __future__ import annotations

import base64
import hashlib
import json
from html import escape
from typing import Any

__all__ = ("DOCS_CSP", "render_docs")

_STYLE = """
body{font:15px/1.5 system-ui,sans-serif;margin:0 auto;max-width:60rem;padding:1rem 2rem;
color:#1b1f24}
h1{margin-bottom:0}h2{border-bottom:1px solid #ddd;margin-top:2.5rem}
.op{border:1px solid #ddd;border-radius:6px;margin:1rem 0;padding:.5rem 1rem}
.m{display:inline-block;min-width:4.5rem;font-weight:700;font-family:monospace}
.GET{color:#0a6}.POST{color:#06c}.PATCH{color:#b60}.DELETE{color:#c22}
code,pre{font-family:ui-monospace,monospace;font-size:13px}
pre{background:#f6f8fa;padding:.5rem;overflow:auto;border-radius:4px}
table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:2px 8px;text-align:left}
"""
_STYLE_HASH = base64.b64encode(hashlib.sha256(_STYLE.encode()).digest()).decode()
#: The page's Content-Security-Policy: nothing loads but its one inline style block, allowed
#: by its hash (the page is static, so no nonce is needed and 'unsafe-inline' never is). No
#: script may run at all, so text from the OpenAPI document can never become one.
DOCS_CSP = (
    f"default-src 'none'; style-src 'sha256-{_STYLE_HASH}'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)


def _schema_name(schema: dict[str, Any]) -> str:
    ref = schema.get("$ref")
    if isinstance(ref, str):
        name = ref.rsplit("/", 1)[-1]
        return f'<a href="#schema-{escape(name)}">{escape(name)}</a>'
    return f"<code>{escape(json.dumps(schema))}</code>"


def _operation(method: str, path: str, op: dict[str, Any]) -> str:
    parts = [
        f'<div class="op" id="{escape(op.get("operationId", ""))}">',
        f'<p><span class="m {method.upper()}">{method.upper()}</span> <code>{escape(path)}</code>'
        f" — {escape(op.get('summary', ''))}</p>",
    ]
    if op.get("description"):
        parts.append(f"<p>{escape(op['description'])}</p>")
    params = op.get("parameters", [])
    if params:
        parts.append("<table><tr><th>parameter</th><th>in</th><th>type</th><th>meaning</th></tr>")
        parts.extend(
            f"<tr><td><code>{escape(p['name'])}</code></td><td>{escape(p['in'])}</td>"
            f"<td>{_schema_name(p.get('schema', {}))}</td>"
            f"<td>{escape(p.get('description', ''))}</td></tr>"
            for p in params
        )
        parts.append("</table>")
    body = op.get("requestBody", {}).get("content", {}).get("application/json")
    if body:
        parts.append(f"<p>Body: {_schema_name(body['schema'])}</p>")
    parts.append("<p>Responses: ")
    answers = []
    for status, response in op.get("responses", {}).items():
        content = response.get("content", {})
        schemas = [_schema_name(c["schema"]) for c in content.values() if "schema" in c]
        answers.append(
            f"<code>{escape(status)}</code> {escape(response.get('description', ''))}"
            + (f" ({', '.join(schemas)})" if schemas else "")
        )
    parts.append("; ".join(answers) + "</p></div>")
    return "".join(parts)


def render_docs(document: dict[str, Any]) -> str:
    """The HTML page for an OpenAPI document, grouped by tag, with every schema listed."""
    info = document.get("info", {})
    by_tag: dict[str, list[str]] = {}
    for path, operations in document.get("paths", {}).items():
        for method, op in operations.items():
            tag = (op.get("tags") or ["other"])[0]
            by_tag.setdefault(tag, []).append(_operation(method, path, op))
    sections = [f"<h2>{escape(tag)}</h2>" + "".join(ops) for tag, ops in sorted(by_tag.items())]
    schemas = document.get("components", {}).get("schemas", {})
    schema_html = "".join(
        f'<h3 id="schema-{escape(name)}">{escape(name)}</h3>'
        f"<pre>{escape(json.dumps(schema, indent=2))}</pre>"
        for name, schema in sorted(schemas.items())
    )
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width,initial-scale=1">'
        f"<title>{escape(info.get('title', 'API'))}</title><style>{_STYLE}</style></head><body>"
        f"<h1>{escape(info.get('title', 'API'))} <small>{escape(info.get('version', ''))}"
        f"</small></h1><p>{escape(info.get('description', ''))}</p>"
        '<p>Machine-readable: <a href="/openapi.json">/openapi.json</a>. API routes need '
        "<code>Authorization: Bearer &lt;key&gt;</code>.</p>"
        + "".join(sections)
        + "<h2>Schemas</h2>"
        + schema_html
        + "</body></html>"
    )
