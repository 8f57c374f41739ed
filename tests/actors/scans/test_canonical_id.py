"""Scan ids from outside are claimed in one spelling: every form ``uuid.UUID`` reads becomes
``str(uuid)``, the canonical one passes through as it is, and anything else is refused."""

from __future__ import annotations

import uuid

from hypothesis import given
from hypothesis import strategies as st

from scanlet.actors.scans.limits import canonical_id


def _reference(raw: str) -> str | None:
    try:
        return str(uuid.UUID(raw))
    except ValueError:
        return None


@given(st.uuids())
def test_every_spelling_of_a_uuid_becomes_the_canonical_one(value: uuid.UUID) -> None:
    canonical = str(value)
    for spelling in (
        canonical,
        canonical.upper(),
        value.hex,
        f"{{{canonical}}}",
        f"urn:uuid:{canonical}",
    ):
        assert canonical_id(spelling) == canonical


@given(st.one_of(st.text(max_size=40), st.from_regex(r"[0-9a-fA-F-]{30,40}", fullmatch=True)))
def test_any_text_gets_the_uuid_module_s_answer(raw: str) -> None:
    assert canonical_id(raw) == _reference(raw)


def test_near_misses_are_refused() -> None:
    canonical = "0b7c3f2e-4a1d-4c8e-9f00-123456789abc"
    for raw in (canonical[:-1], canonical + "0", canonical.replace("-", "_"), f" {canonical}\n"):
        assert canonical_id(raw) == _reference(raw)
