"""The code form: from posted fields to the codes actor's commands, errors per field.

The commands are the same ones the API decodes (``CreateCode``, ``CodeChanges``), and the
codes actor applies the same rules to them; a refusal names its field, which the form shows
next to that field.
"""

from __future__ import annotations

from collections.abc import Mapping

from scanlet.actors.codes.errors import CodeError, InvalidField, SlugTaken
from scanlet.actors.codes.kinds import KINDS
from scanlet.actors.codes.messages import CodeChanges, CreateCode
from scanlet.http.dashboard.kind_form import KIND_FIELDS, content_from, form_field

__all__ = ("FIELDS", "changes_from", "create_from", "field_errors", "split_tags")

FIELDS = ("target", "title", "tags", "slug", "domain")
#: Fields a refusal may name that the edit form shows next to their input.
SHOWN = (*FIELDS, "fallback_url", "password", "kind")
_CONTENT_INPUTS = tuple(field.name for fields in KIND_FIELDS.values() for field in fields)


def split_tags(text: str) -> list[str]:
    """``"menu, print ,"`` -> ``["menu", "print"]``."""
    return [tag.strip() for tag in text.split(",") if tag.strip()]


def values_from(form: Mapping[str, str]) -> dict[str, str]:
    """The form's code fields, trimmed (absent ones empty), its kind (url when absent or
    unknown), the content inputs it sent, as sent, and whether a card is to be tracked."""
    values = {name: form.get(name, "").strip() for name in FIELDS}
    kind = form.get("kind", "url")
    values["kind"] = kind if kind in KINDS else "url"
    values.update({name: form[name] for name in _CONTENT_INPUTS if name in form})
    if "tracked" in form:
        values["tracked"] = "on"
    return values


def _target(values: Mapping[str, str]) -> str:
    if not values["target"]:
        raise InvalidField("target", "enter the URL the code should open")
    return values["target"]


def create_from(values: Mapping[str, str]) -> CreateCode:
    """The create command for the new-code form (InvalidField when the target of a url
    code is missing); another kind takes its content inputs instead of a target."""
    kind = values.get("kind", "url")
    if kind != "url":
        return CreateCode(
            kind=kind,  # type: ignore[arg-type]  # one of KINDS (values_from)
            content=content_from(kind, values),
            # Only a card may be tracked; the box of another kind's fieldset is not read.
            tracked=True if kind == "vcard" and "tracked" in values else None,
            slug=values["slug"] or None,
            title=values["title"] or None,
            tags=split_tags(values["tags"]),
        )
    return CreateCode(
        target=_target(values),
        slug=values["slug"] or None,
        title=values["title"] or None,
        tags=split_tags(values["tags"]),
        domain=values["domain"] or None,
    )


def changes_from(values: Mapping[str, str]) -> CodeChanges:
    """The change command for the edit form: title (empty clears it) and tags, with the
    target of a url code or the content inputs of another ``kind`` (the code's own)."""
    kind = values.get("kind", "url")
    if kind != "url":
        return CodeChanges(
            content=content_from(kind, values),
            title=values["title"] or None,
            tags=split_tags(values["tags"]),
        )
    return CodeChanges(
        target=_target(values),
        title=values["title"] or None,
        tags=split_tags(values["tags"]),
    )


def field_errors(refusal: CodeError, kind: str = "url") -> dict[str, str]:
    """Messages by form field for a refusal (``_form`` for one that names no field); a
    refusal of ``content.FIELD`` is shown next to the ``kind``'s input for it."""
    if isinstance(refusal, SlugTaken):
        return {"slug": "is taken (slugs of deleted codes stay taken); choose another"}
    if isinstance(refusal, InvalidField) and refusal.field.startswith("content"):
        name = form_field(kind, refusal.field)
        return {name if name in (*_CONTENT_INPUTS, "kind") else "kind": refusal.msg}
    if isinstance(refusal, InvalidField):
        field = refusal.field if refusal.field in SHOWN else "_form"
        message = refusal.msg if field != "_form" else f"{refusal.field}: {refusal.msg}"
        return {field: message}
    return {"_form": str(refusal)}
