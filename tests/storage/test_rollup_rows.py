"""``RollupRows``: the rows a part of a batch would touch, counted as it grows."""

from scanlet.storage.records import Profile
from scanlet.storage.rollups import RollupRows, ends_by_rows

PHONE = Profile(bot=False, dimensions=(("source", "qr"), ("device", "mobile")))
DESKTOP = Profile(bot=False, dimensions=(("source", "qr"), ("device", "desktop")))


def test_each_hour_and_dimension_value_counts_once_per_code_all_codes_hour_and_day() -> None:
    rows = RollupRows()
    # One hour of one code: its counters row and two breakdown rows, four times over.
    assert rows.add([("menu", 10, "v1", PHONE)]) == 4 * 3
    # The same (code, hour, profile) again touches nothing new, nor do other visitors.
    assert rows.add([("menu", 10, "v2", PHONE), ("menu", 10, None, PHONE)]) == 4 * 3
    # Another profile in that hour shares the source row, adds its device's.
    assert rows.add([("menu", 10, "v3", DESKTOP)]) == 4 * 4
    # Another hour, another code: rows of their own.
    assert rows.add([("menu", 11, "v1", PHONE), ("flyer", 10, "v1", PHONE)]) == 4 * 10


def test_a_batch_under_the_limit_is_one_part() -> None:
    facts = [("menu", 10, f"v{i}", (PHONE, DESKTOP)[i % 2]) for i in range(300)]
    # 4 x (the hour, source, two devices) = 16 rows.
    assert ends_by_rows(facts, 17) == [300]


def test_each_part_ends_at_the_first_fact_that_brings_it_to_the_limit() -> None:
    # Each hour of its own: 4 x 3 new rows a fact.
    facts = [("menu", hour, "v", PHONE) for hour in range(10)]
    assert ends_by_rows(facts, 24) == [2, 4, 6, 8, 10]
    assert ends_by_rows(facts, 25) == [3, 6, 9, 10]
    # The last part ends with the batch even when it reaches the limit on its last fact.
    assert ends_by_rows(facts[:4], 24) == [2, 4]
    # Facts that touch no new row never end a part of their own.
    assert ends_by_rows([facts[0], facts[0], facts[1], facts[1], facts[2]], 24) == [3, 5]
