"""The import's progress bar through the real executable on a terminal: codes done of all
the source holds (so a rate and an ETA), visits and their rate beside it."""

from __future__ import annotations

from pathlib import Path

from tests.clirun import on_terminal, scanlet
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
