"""Event ids are valid, unique UUIDv7 strings in creation order."""

import time
import uuid

import pytest

from scanlet import ids
from scanlet.ids import new_event_id


def test_ids_are_version_7_rfc_variant() -> None:
    parsed = uuid.UUID(new_event_id())
    assert parsed.version == 7
    assert parsed.variant == uuid.RFC_4122


def test_ids_sort_in_creation_order_and_never_repeat() -> None:
    ids = [new_event_id() for _ in range(20_000)]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)


def _milliseconds(event_id: str) -> int:
    return uuid.UUID(event_id).int >> 80


@pytest.fixture(autouse=True)
def _own_clock_state(monkeypatch: pytest.MonkeyPatch) -> None:
    """The tests below move the ids' clock: the module's state is put back afterwards, so
    later ids in this process carry the real time again."""
    for name in ("_last_ms", "_counter", "_prefix"):
        monkeypatch.setattr(f"scanlet.ids.{name}", getattr(ids, name))


def test_ids_of_one_millisecond_count_up_and_carry_into_the_next(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    frozen = 1_900_000_000_000
    monkeypatch.setattr(time, "time_ns", lambda: frozen * 1_000_000)
    made = [new_event_id() for _ in range(0x1000 + 10)]
    assert made == sorted(made)
    assert len(set(made)) == len(made)
    # The 12-bit counter ran out after 4096 ids of the frozen millisecond: the time moved on.
    stamps = [_milliseconds(event_id) for event_id in made]
    assert stamps[0] == frozen
    assert stamps[-1] == frozen + 1
    assert all(uuid.UUID(event_id).version == 7 for event_id in made)


def test_a_clock_stepping_back_still_gives_ids_in_creation_order(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = [1_900_000_100_000]
    monkeypatch.setattr(time, "time_ns", lambda: now[0] * 1_000_000)
    first = new_event_id()
    now[0] -= 5_000
    second = new_event_id()
    now[0] += 10_000
    third = new_event_id()
    assert first < second < third
    assert _milliseconds(third) == now[0]
