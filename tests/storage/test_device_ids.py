"""Device event ids are claimed once: the first place of a new id in a batch is new, any
repeat (in the batch or after it) is not, whatever the order."""

import sqlite3
import uuid
from pathlib import Path

from scanlet.storage.sqlite.migrations import apply_migrations
from scanlet.storage.sqlite.scans import ScanStore


def test_each_id_is_new_only_at_its_first_place(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "scanlet.db", isolation_level=None)
    apply_migrations(conn)
    a, b, c, d = (str(uuid.uuid4()) for _ in range(4))
    claim = ScanStore._claim_device_ids
    assert claim(conn, [a, b]) == [True, True]
    assert claim(conn, [c, a, c, d, b, d, c]) == [True, False, False, True, False, False, False]
    assert claim(conn, []) == []
    # Ids are compared as given, whatever their characters.
    odd = ['quote"d', "back\\slash", "ünï☃", "tab\there"]
    assert claim(conn, [*odd, *odd]) == [True] * 4 + [False] * 4
    stored = {row[0] for row in conn.execute("SELECT id FROM device_event_ids")}
    assert stored == {a, b, c, d, *odd}
    conn.close()
