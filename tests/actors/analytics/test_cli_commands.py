"""``scanlet rebuild`` and ``scanlet export scans``."""

import json
from datetime import UTC, datetime
from pathlib import Path

import anyio
import msgspec
import pytest

from scanlet.cli import main
from scanlet.storage.sqlite.storage import open_sqlite

from .conftest import BOT, append, orphan, scan


def seeded(tmp_path: Path) -> str:
    path = tmp_path / "c.db"

    async def seed() -> None:
        async with open_sqlite(path) as storage:
            await append(
                storage,
                [
                    scan("menu", datetime(2026, 1, 1, 10, tzinfo=UTC)),
                    scan("menu", datetime(2026, 1, 2, 10, tzinfo=UTC), agent=BOT),
                    scan("flyer", datetime(2026, 1, 3, 10, tzinfo=UTC)),
                    orphan("nope", datetime(2026, 1, 4, 10, tzinfo=UTC)),
                ],
            )

    anyio.run(seed)
    return str(path)


def test_rebuild_then_export_streams_every_scan_oldest_first(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = seeded(tmp_path)
    assert main(["rebuild", "--db", db]) == 0
    assert "up to event 4" in capsys.readouterr().out
    assert main(["export", "scans", "--db", db, "--format", "jsonl"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(x["slug"], x["orphan"], x["bot"]) for x in lines] == [
        ("menu", False, False),
        ("menu", False, True),
        ("flyer", False, False),
        ("nope", True, True),  # no user agent at all: a bot
    ]
    args = ["--slug", "menu", "--from", "2026-01-02T00:00:00+01:00", "--to", "2026-01-03T00:00:00Z"]
    assert main(["export", "scans", "--db", db, *args]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("seq,id,slug,")
    assert len(out) == 2
    assert ",curl/8.4.0," in out[1]


def test_export_refuses_a_bad_time_with_exit_code_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["export", "scans", "--from", "last tuesday", "--db", str(tmp_path / "x.db")])
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert "RFC 3339" in err


def test_export_shows_where_each_scan_was_sent_and_whether_it_was_excluded(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "r.db"
    at = datetime(2026, 1, 1, 10, tzinfo=UTC)
    routed = msgspec.structs.replace(
        scan("menu", at), target="https://example.com/ios", rule="rules[0]", excluded=True
    )
    fallback = msgspec.structs.replace(
        scan("menu", at), target="https://example.com/over", rule="fallback_url", outcome="fallback"
    )

    async def seed() -> None:
        async with open_sqlite(path) as storage:
            await append(storage, [routed, fallback, scan("menu", at)])

    anyio.run(seed)
    assert main(["rebuild", "--db", str(path)]) == 0
    capsys.readouterr()
    assert main(["export", "scans", "--db", str(path), "--format", "jsonl"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(x["target"], x["rule"], x["outcome"], x["excluded"]) for x in lines] == [
        ("https://example.com/ios", "rules[0]", "redirect", True),
        ("https://example.com/over", "fallback_url", "fallback", False),
        # Stored before routing: no target, so no rule either.
        (None, None, "redirect", False),
    ]
