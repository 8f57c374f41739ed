"""``scanlet rebuild`` and ``scanlet export scans``."""

import json
from datetime import UTC, datetime
from pathlib import Path

import anyio
import msgspec
import pytest

from scanlet.cli import main
from scanlet.config import Settings
from scanlet.storage.opening import open_storage
from tests.conftest import nth_position

from .conftest import BOT, append, orphan, scan


def seeded(db_settings: Settings) -> str:
    """The test's database (SQLite path or PostgreSQL URL) with three scans and an orphan."""

    async def seed() -> None:
        async with open_storage(db_settings) as storage:
            await append(
                storage,
                [
                    scan("menu", datetime(2026, 1, 1, 10, tzinfo=UTC)),
                    scan("menu", datetime(2026, 1, 2, 10, tzinfo=UTC), agent=BOT),
                    scan("flyer", datetime(2026, 1, 3, 10, tzinfo=UTC)),
                    orphan("nope", datetime(2026, 1, 4, 10, tzinfo=UTC)),
                ],
            )
            # Past PostgreSQL's fence: a transaction elsewhere on the server, older than
            # these, would otherwise make the rebuild stop short of them.
            await nth_position(storage, 4)

    anyio.run(seed)
    return db_settings.postgres_url or str(db_settings.db)


def test_rebuild_then_export_streams_every_scan_oldest_first(
    db_settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    db = seeded(db_settings)
    assert main(["rebuild", "--db", db]) == 0
    assert capsys.readouterr().out.startswith("rebuilt the analytics read models up to event ")
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


def test_rebuild_names_the_last_event_by_its_seq(
    db_settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    db = seeded(db_settings)
    assert main(["rebuild", "--db", db]) == 0
    assert capsys.readouterr().out == "rebuilt the analytics read models up to event 4\n"


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
    db_settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    at = datetime(2026, 1, 1, 10, tzinfo=UTC)
    routed = msgspec.structs.replace(
        scan("menu", at), target="https://example.com/ios", rule="rules[0]", excluded=True
    )
    fallback = msgspec.structs.replace(
        scan("menu", at), target="https://example.com/over", rule="fallback_url", outcome="fallback"
    )

    async def seed() -> None:
        async with open_storage(db_settings) as storage:
            await append(storage, [routed, fallback, scan("menu", at)])
            # Past PostgreSQL's fence (see ``seeded``).
            await nth_position(storage, 3)

    anyio.run(seed)
    db = db_settings.postgres_url or str(db_settings.db)
    assert main(["rebuild", "--db", db]) == 0
    capsys.readouterr()
    assert main(["export", "scans", "--db", db, "--format", "jsonl"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(x["target"], x["rule"], x["outcome"], x["excluded"]) for x in lines] == [
        ("https://example.com/ios", "rules[0]", "redirect", True),
        ("https://example.com/over", "fallback_url", "fallback", False),
        # Stored before routing: no target, so no rule either.
        (None, None, "redirect", False),
    ]
