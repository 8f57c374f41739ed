"""Progress bars: drawn on a terminal's stderr, silent in pipes and under --quiet."""

import io

import pytest

from scanlet.cli.progress import progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_sees_items_and_rate(monkeypatch: pytest.MonkeyPatch) -> None:
    stderr = Terminal()
    monkeypatch.setattr("sys.stderr", stderr)
    with progress("rebuild", unit="event", total=2000) as bar:
        assert bar.shown
        bar.advance(2000)
        bar.note("2 codes")
    drawn = stderr.getvalue()
    assert "rebuild" in drawn
    assert "2.00k/2.00k" in drawn
    assert "event/s" in drawn


@pytest.mark.parametrize("quiet", [False, True])
def test_pipes_and_quiet_see_nothing(monkeypatch: pytest.MonkeyPatch, quiet: bool) -> None:
    stderr = Terminal() if quiet else io.StringIO()
    monkeypatch.setattr("sys.stderr", stderr)
    with progress("export", quiet=quiet) as bar:
        assert not bar.shown
        bar.total(10)
        bar.advance(10)
    assert stderr.getvalue() == ""
