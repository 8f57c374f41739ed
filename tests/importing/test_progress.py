"""The import's progress bar through the real executable on a terminal: codes done of all
the source holds (so a rate and an ETA; a CSV file's rows are counted first), or for an
archive the bytes of it read of its size; visits and their rate beside it. Underneath, the
sources' own reports: a CSV file's total is what its import goes through, an archive's
position grows to its size."""

from __future__ import annotations

from pathlib import Path

import pytest
from tqdm import tqdm

from scanlet.importing.archive import archive_items
from scanlet.importing.items import SourceCode, SourceFailure, SourceRead, SourceTotal
from scanlet.importing.sources.csv_files import csv_items
from tests.clirun import on_terminal, scanlet
from tests.importing.archives import write_archive
from tests.importing.fakes import FakeShlink, serving


def test_a_shlink_import_shows_codes_of_all_and_visits_with_their_rate(tmp_path: Path) -> None:
    assert scanlet("migrate", cwd=tmp_path).returncode == 0
    fake = FakeShlink()
    for n in range(3):
        fake.add(f"p{n}", f"https://example.com/{n}", visits=4)
    with serving(fake) as url:
        code, out, drawn = on_terminal(
            tmp_path, "import", "shlink", "--url", url, "--api-key", fake.key, stream="stderr"
        )
    assert code == 0, drawn
    assert "codes: 3 created; visits: 12 imported" in out
    assert "import: 100%" in drawn
    assert "3.00/3.00" in drawn  # (tqdm scales units: 3.00 codes)
    assert "12 visits" in drawn
    assert "visits/s" in drawn


def test_a_csv_import_shows_rows_done_of_all_the_file_holds(tmp_path: Path) -> None:
    assert scanlet("migrate", cwd=tmp_path).returncode == 0
    path = tmp_path / "codes.csv"
    path.write_text(
        "slug,target\na,https://example.com/a\n\nb,https://example.com/b\n"
        'c,"https://example.com/c"\n',
        encoding="utf-8",
    )
    code, out, drawn = on_terminal(tmp_path, "import", "csv", str(path), stream="stderr")
    assert code == 0, drawn
    assert "codes: 3 created" in out
    assert "import: 100%" in drawn  # a percentage: the total was known
    assert "3.00/3.00" in drawn


def test_an_archive_import_shows_bytes_read_of_the_file_size(tmp_path: Path) -> None:
    assert scanlet("migrate", cwd=tmp_path).returncode == 0
    path = write_archive(tmp_path / "scanlet.jsonl", "menu", 120)
    size = tqdm.format_sizeof(path.stat().st_size)
    code, out, drawn = on_terminal(tmp_path, "import", "archive", str(path), stream="stderr")
    assert code == 0, drawn
    assert "codes: 1 created; visits: 120 imported" in out
    assert "import: 100%" in drawn
    assert f"{size}/{size}" in drawn
    assert "B/s" in drawn
    assert "1 codes, 120 visits" in drawn


async def test_an_archive_says_how_far_it_has_read_in_steps_up_to_its_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("scanlet.importing.archive.READ_STEP", 4096)
    path = write_archive(tmp_path / "scanlet.jsonl", "menu", 200)
    size = path.stat().st_size
    reads = [item async for item in archive_items(path) if isinstance(item, SourceRead)]
    assert len(reads) >= size // 4096
    assert {read.size for read in reads} == {size}
    done = [read.done for read in reads]
    assert done == sorted(set(done))
    assert done[-1] == size


async def test_a_csv_file_s_total_is_the_codes_and_failures_its_import_goes_through(
    tmp_path: Path,
) -> None:
    path = tmp_path / "codes.csv"
    path.write_text(
        "slug,target,title\n"
        'a,https://example.com/a,"two\nlines"\n'  # one row over two lines
        "\n"  # blank: no code
        "b,https://example.com/b\n"  # a cell short: a failure
        "c,https://example.com/c,\n"
        f"d,https://example.com/d,{'x' * 20_000}\n"  # past the cell limit: reading ends
        "e,https://example.com/e,\n",
        encoding="utf-8",
    )
    items = [item async for item in csv_items(path, "scanlet")]
    totals = [item.codes for item in items if isinstance(item, SourceTotal)]
    rows = [item for item in items if isinstance(item, SourceCode | SourceFailure)]
    assert isinstance(items[0], SourceTotal)
    assert totals == [len(rows)]
    assert len(rows) == 4
