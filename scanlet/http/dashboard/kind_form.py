"""The code form's kind and content fields, read from the content types themselves.

Each kind's fields are inputs named ``KIND.FIELD`` (``wifi.ssid``), one fieldset per kind
in the new-code form, the code's own kind's alone in its edit form; the chosen kind's are
sent as the ``content`` object the API takes, and the codes actor checks them as it checks
the API's. A refusal names ``content.FIELD``, shown next to the input ``KIND.FIELD``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import msgspec

from scanlet.actors.codes.kinds import CONTENT_TYPES, MULTI_LINE, Content

__all__ = ("KIND_FIELDS", "KindField", "content_from", "content_values", "form_field")


@dataclass(frozen=True, slots=True)
class KindField:
    """One content input: its form name, label, input type and choices (for a select, the
    field's default first: a browser sends the first choice when none is marked)."""

    name: str
    label: str
    input: Literal["text", "textarea", "checkbox", "select", "number"]
    required: bool
    choices: tuple[str, ...] = ()


def _input(info: msgspec.inspect.Type) -> tuple[str, tuple[str, ...]]:
    if isinstance(info, msgspec.inspect.UnionType):  # X | None
        info = next(t for t in info.types if not isinstance(t, msgspec.inspect.NoneType))
    if isinstance(info, msgspec.inspect.Metadata):
        info = info.type
    if isinstance(info, msgspec.inspect.BoolType):
        return "checkbox", ()
    if isinstance(info, msgspec.inspect.FloatType):
        return "number", ()
    if isinstance(info, msgspec.inspect.LiteralType):
        return "select", tuple(str(value) for value in info.values)
    return "text", ()


def _fields(kind: str) -> tuple[KindField, ...]:
    info = msgspec.inspect.type_info(CONTENT_TYPES[kind])
    assert isinstance(info, msgspec.inspect.StructType)
    fields = []
    for field in info.fields:
        widget, choices = _input(field.type)
        if field.default in choices:
            # msgspec lists a Literal's values sorted (WEP before WPA): the default leads.
            choices = (field.default, *(c for c in choices if c != field.default))
        if widget == "text" and field.name in MULTI_LINE:
            widget = "textarea"
        label = field.name.replace("_", " ").capitalize()
        fields.append(
            KindField(f"{kind}.{field.name}", label, widget, field.required, choices)  # type: ignore[arg-type]
        )
    return tuple(fields)


#: Every kind but url, with its content inputs in the order the type declares them.
KIND_FIELDS: dict[str, tuple[KindField, ...]] = {kind: _fields(kind) for kind in CONTENT_TYPES}


def _value(field: KindField, raw: str | None) -> Any:
    if field.input == "checkbox":
        return raw is not None
    if raw is None or not raw.strip():
        return None
    if field.input == "number":
        try:
            return float(raw)
        except ValueError:
            return raw  # refused by the content's type, next to its input
    return raw if field.input == "textarea" else raw.strip()


def content_from(kind: str, form: Mapping[str, str]) -> dict[str, Any]:
    """The ``content`` object of the chosen ``kind``'s inputs (empty ones left out)."""
    content: dict[str, Any] = {}
    for field in KIND_FIELDS[kind]:
        value = _value(field, form.get(field.name))
        if value is not None and value is not False:
            content[field.name.partition(".")[2]] = value
    return content


def content_values(kind: str, content: Content) -> dict[str, str]:
    """The inputs of ``kind``'s fieldset as ``content`` fills them (the edit form's start):
    ``{"geo.lat": "52.5", "geo.lng": "13.4"}``; an empty field and an unticked box are left
    out, as ``content_from`` leaves them out."""
    values: dict[str, str] = {}
    for field in KIND_FIELDS[kind]:
        value = getattr(content, field.name.partition(".")[2])
        if value is None or value is False:
            continue
        values[field.name] = "on" if value is True else str(value)
    return values


def form_field(kind: str, refused: str) -> str:
    """The input a refusal of ``content.FIELD`` names (``content`` itself: the kind)."""
    name = refused.removeprefix("content.")
    return "kind" if name == "content" else f"{kind}.{name}"
