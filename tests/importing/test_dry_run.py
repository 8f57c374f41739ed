"""``--dry-run`` of the file importers says what a real run then does, total for total:
before any import and after one (the codes kept, the visits already imported)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from scanlet.cli import main
from tests.importing.archives import write_archive
from tests.importing.server import ApiReader


def _summary(capsys: pytest.CaptureFixture[str]) -> str:
    return capsys.readouterr().out.splitlines()[-1]


def _as_real(dry: str) -> str:
    """A dry run's summary as the real run's would read (which adds its rate)."""
    assert dry.startswith("dry run: "), dry
    return dry.removeprefix("dry run: ").replace("would import", "imported")


def _without_rate(real: str) -> str:
    return re.sub(r"; \d+ visits/s", "", real)


def _dry_then_real(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[str, str]:
    dry_code = main([*args, "--dry-run"])
    dry = _summary(capsys)
    real_code = main(args)
    real = _summary(capsys)
    assert dry_code == real_code
    assert _as_real(dry) == _without_rate(real)
    return dry, real


@pytest.mark.usefixtures("api")
def test_a_csv_dry_run_totals_what_the_import_does(
    scanlet_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "codes.csv"
    path.write_text(
        "slug,target\n"
        "menu,https://example.com/menu\n"
        "menu,https://example.com/menu\n"  # the same row again: kept
        "menu,https://example.com/other\n"  # another code's slug: skipped
        "bad,not a link\n"
        ",https://example.com/generated\n",
        encoding="utf-8",
    )
    args = ["import", "csv", str(path), "--db", scanlet_db]
    dry, _ = _dry_then_real(args, capsys)
    assert dry == "dry run: codes: 2 created, 1 kept, 1 skipped, 1 failed; visits: 0 would import"
    again, _ = _dry_then_real(args, capsys)
    assert again == "dry run: codes: 3 kept, 1 skipped, 1 failed; visits: 0 would import"


def test_an_archive_dry_run_totals_what_the_import_does(
    scanlet_db: str, api: ApiReader, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_archive(tmp_path / "scanlet.jsonl", "menu", 30)
    lines = path.read_text().splitlines(keepends=True)
    bad = {**json.loads(lines[-1]), "id": "not-a-uuid"}
    path.write_text("".join([*lines, lines[-1], json.dumps(bad) + "\n"]))
    args = ["import", "archive", str(path), "--db", scanlet_db]
    dry, real = _dry_then_real(args, capsys)
    assert dry == (
        "dry run: codes: 1 created; visits: 30 would import; 1 already imported; 1 failed"
    )
    assert api.get("/api/v1/codes/menu")["scans"] == 30
    again, _ = _dry_then_real(args, capsys)
    assert again == (
        "dry run: codes: 1 kept; visits: 0 would import; 31 already imported; 1 failed"
    )
    assert "visits/s" in real
