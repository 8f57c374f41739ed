"""The code form: from posted fields to the codes actor's commands, errors per field.

The commands are the same ones the API decodes (``CreateCode``, ``CodeChanges``), and the
codes actor applies the same rules to them; a refusal names its field, which the form shows
next to that field.
"""

from __future__ import annotations

from collections.abc import Mapping

from scanlet.actors.codes.errors import CodeError, InvalidField, SlugTaken
from scanlet.actors.codes.messages import CodeChanges, CreateCode

__all__ = ("FIELDS", "changes_from", "create_from", "field_errors", "split_tags")

FIELDS = ("target", "title", "tags", "slug", "domain")
#: Fields a refusal may name that the edit form shows next to their input.
SHOWN = (*FIELDS, "fallback_url", "password")


def split_tags(text: str) -> list[str]:
    """``"menu, print ,"`` -> ``["menu", "print"]``."""
    return [tag.strip() for tag in text.split(",") if tag.strip()]


def values_from(form: Mapping[str, str]) -> dict[str, str]:
    """The form's code fields, trimmed (absent ones empty)."""
    return {name: form.get(name, "").strip() for name in FIELDS}


def _target(values: Mapping[str, str]) -> str:
    if not values["target"]:
        raise InvalidField("target", "enter the URL the code should open")
    return values["target"]


def create_from(values: Mapping[str, str]) -> CreateCode:
    """The create command for the new-code form (InvalidField when the target is missing)."""
    return CreateCode(
        target=_target(values),
        slug=values["slug"] or None,
        title=values["title"] or None,
        tags=split_tags(values["tags"]),
        domain=values["domain"] or None,
    )


def changes_from(values: Mapping[str, str]) -> CodeChanges:
    """The change command for the edit form: target, title (empty clears it) and tags."""
    return CodeChanges(
        target=_target(values),
        title=values["title"] or None,
        tags=split_tags(values["tags"]),
    )


def field_errors(refusal: CodeError) -> dict[str, str]:
    """Messages by form field for a refusal (``_form`` for one that names no field)."""
    if isinstance(refusal, SlugTaken):
        return {"slug": "is taken (slugs of deleted codes stay taken); choose another"}
    if isinstance(refusal, InvalidField):
        field = refusal.field if refusal.field in SHOWN else "_form"
        message = refusal.msg if field != "_form" else f"{refusal.field}: {refusal.msg}"
        return {field: message}
    return {"_form": str(refusal)}
