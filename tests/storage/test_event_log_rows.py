"""How the SQLite log stores an event's payload: a BLOB, read back as the bytes appended."""

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from scanlet.config import load_settings
from scanlet.storage.opening import open_storage
from scanlet.storage.records import NewEvent
from scanlet.storage.sqlite.storage import SqliteStorage


async def test_a_payload_is_stored_as_a_blob_and_read_back_as_bytes(tmp_path: Path) -> None:
    path = tmp_path / "scanlet.db"
    payload = b'{"type":"scan.recorded","slug":"menu","x":"\\u00e9\\u0000"}\x00\xff'
    async with open_storage(load_settings({"SCANLET_DB": str(path)})) as storage:
        assert isinstance(storage, SqliteStorage)
        at = datetime(2026, 12, 4, tzinfo=UTC)
        entry = NewEvent("id-1", "scan.recorded", "menu", "2026-12-04T00:00:00.000000Z", payload)
        await storage.events.append([entry], at)
        [stored] = storage.events._read(0, 10, None)  # from the table, not from memory
    assert type(stored.payload) is bytes
    assert stored.payload == payload
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT typeof(payload), length(payload) FROM events").fetchall() == [
            ("blob", len(payload))
        ]
