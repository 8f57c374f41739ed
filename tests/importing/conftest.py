"""Every import test runs on a migrated database of its backend, with the CLI pointed at
the same key file and base URL as the app that reads the result."""

from __future__ import annotations

from pathlib import Path

import pytest

from scanlet.cli import main
from tests.importing.server import ApiReader, settings_for


@pytest.fixture
def api(scanlet_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ApiReader:
    monkeypatch.setenv("SCANLET_SECRET_FILE", str(tmp_path / "scanlet.key"))
    monkeypatch.setenv("SCANLET_BASE_URL", "http://qr.test")
    assert main(["migrate", "--db", scanlet_db]) == 0
    return ApiReader(settings_for(scanlet_db, tmp_path))
