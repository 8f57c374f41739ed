"""Event ids are valid, unique UUIDv7 strings in creation order."""

import uuid

from scanlet.ids import new_event_id


def test_ids_are_version_7_rfc_variant() -> None:
    parsed = uuid.UUID(new_event_id())
    assert parsed.version == 7
    assert parsed.variant == uuid.RFC_4122


def test_ids_sort_in_creation_order_and_never_repeat() -> None:
    ids = [new_event_id() for _ in range(20_000)]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
