"""The analytics batch is SQLite's one derived write: under ``synchronous=full`` it commits
on the loop with no fsync of its own (the mechanism is tested in test_database.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from scanlet.config import load_settings
from scanlet.storage.opening import open_storage
from scanlet.storage.sqlite.storage import SqliteStorage


@pytest.mark.parametrize("synchronous", ["normal", "full"])
async def test_the_analytics_batch_is_a_derived_write(
    tmp_path: Path, synchronous: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = load_settings(
        {"SCANLET_DB": str(tmp_path / "scanlet.db"), "SCANLET_SYNCHRONOUS": synchronous},
        isatty=False,
    )
    async with open_storage(settings) as storage:
        assert isinstance(storage, SqliteStorage)
        kinds: list[bool] = []
        write = storage.db.write

        async def spy(transaction: Any, *, derived: bool = False) -> Any:
            kinds.append(derived)
            return await write(transaction, derived=derived)

        monkeypatch.setattr(storage.db, "write", spy)
        await storage.analytics.apply("analytics", 0, 7, [], None)
        assert await storage.positions.load("analytics") == 7
    assert kinds == [True]
