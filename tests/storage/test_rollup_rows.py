"""``RollupRows``: the rows a part of a batch would touch, counted as it grows."""

from scanlet.storage.records import Profile
from scanlet.storage.rollups import RollupRows

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
