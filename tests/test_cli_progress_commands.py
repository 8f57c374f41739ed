"""Progress bars of rebuild, backup and export scans through the real executable: on a
terminal's stderr with counts and rates, nothing in a pipe or under --quiet, and stdout
untouched either way."""

import json
import time
import uuid
from pathlib import Path

import httpx
import pytest

from tests.clirun import on_terminal, scanlet
from tests.processes import served

SCANS = 300


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database with a code and ``SCANS`` ingested scans, applied to the read models."""
    folder = tmp_path_factory.mktemp("progress")
    with served(folder) as server:
        # Through the server: a code the command line made is served after a resync (up to
        # a second), and scans of it before that are refused as of an unknown slug.
        key = server.create_code("menu", "https://example.com")
        events = [
            {"type": "scan", "id": str(uuid.uuid4()), "slug": "menu",
             "occurred_at": "2026-11-30T12:00:00Z"}
            for _ in range(SCANS)
        ]  # fmt: skip
        answer = httpx.post(
            f"{server.base}/api/v1/events",
            json={"events": events},
            headers={"Authorization": f"Bearer {key}"},
            timeout=30,
        )
        assert answer.status_code == 200, answer.text
        assert all(r["status"] == "accepted" for r in answer.json()["results"])
        end = time.monotonic() + 30
        while time.monotonic() < end:
            listed = scanlet("codes", "show", "menu", "--format", "json", cwd=folder)
            if json.loads(listed.stdout)["scans"] == SCANS and _exported(folder) == SCANS:
                break
            time.sleep(0.2)
    return folder


def _exported(folder: Path) -> int:
    result = scanlet("export", "scans", "--format", "jsonl", cwd=folder)
    return len(result.stdout.splitlines())


def _with_terminal_stderr(folder: Path, *args: str) -> tuple[int, str, str]:
    return on_terminal(folder, *args, stream="stderr")


def test_rebuild_shows_events_done_of_all(folder: Path) -> None:
    code, out, drawn = _with_terminal_stderr(folder, "rebuild")
    assert code == 0
    assert out.startswith("rebuilt the analytics read models")
    total = SCANS + 1  # the code's creation is an event too
    assert "rebuild: 100%" in drawn
    assert f"{total}/{total}" in drawn
    assert "event/s" in drawn


def test_backup_shows_bytes_copied(folder: Path) -> None:
    code, out, drawn = _with_terminal_stderr(folder, "backup", "copy.db")
    assert code == 0
    assert out.startswith("backed up")
    size = (folder / "copy.db").stat().st_size
    assert "backup: 100%" in drawn
    assert "B/s" in drawn
    assert size > 0


def test_export_counts_the_scans_it_wrote(folder: Path) -> None:
    code, out, drawn = _with_terminal_stderr(folder, "export", "scans", "--format", "jsonl")
    assert code == 0
    assert len(out.splitlines()) == SCANS
    assert "export: 100%" in drawn
    assert f"{SCANS}/{SCANS}" in drawn
    assert "scan/s" in drawn


@pytest.mark.parametrize(
    "args", [["rebuild", "--quiet"], ["backup", "quiet.db", "-q"], ["export", "scans", "-q"]]
)
def test_quiet_draws_nothing_even_on_a_terminal(folder: Path, args: list[str]) -> None:
    code, _, drawn = _with_terminal_stderr(folder, *args)
    assert code == 0
    assert drawn == ""


@pytest.mark.parametrize("args", [["rebuild"], ["backup", "piped.db"], ["export", "scans"]])
def test_a_pipe_gets_no_bar(folder: Path, args: list[str]) -> None:
    result = scanlet(*args, cwd=folder)
    assert result.returncode == 0
    assert result.stderr == ""
