"""``scanlet import csv``: the three formats, the header check and per-row errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scanlet.actors.analytics.export import runs_as_formula
from scanlet.cli import main
from scanlet.importing.scanlet_csv import escape_cell, join_tags, split_tags, unescape_cell
from tests.importing.server import ApiReader


def _run(db: str, path: Path, fmt: str, *extra: str) -> int:
    return main(["import", "csv", str(path), "--format", fmt, "--db", db, *extra])


def _import_rows(
    db: str, path: Path, text: str, capsys: pytest.CaptureFixture[str]
) -> tuple[int, str, list[str]]:
    """Import ``text`` as a ``scanlet`` CSV file at ``path``: the exit code, the report and
    the error lines."""
    path.write_text(text, encoding="utf-8")
    code = _run(db, path, "scanlet")
    out, err = capsys.readouterr()
    return code, out, err.splitlines()


def test_scanlet_rows_become_codes_with_every_setting(
    scanlet_db: str, api: ApiReader, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "codes.csv"
    path.write_text(
        "slug,target,title,tags,enabled,valid_from,valid_until,max_scans,redirect_status,"
        "created_at,scans\n"
        "menu,https://example.com/menu,Menu,food|a\\|b,false,2026-01-01T00:00:00Z,"
        "2030-01-01T00:00:00Z,10,301,2025-05-05T05:05:05Z,42\n"
        ",https://example.com/generated,,,,,,,,,\n",
        encoding="utf-8",
    )
    assert _run(scanlet_db, path, "scanlet") == 0
    assert "codes: 2 created" in capsys.readouterr().out
    menu = api.get("/api/v1/codes/menu")
    assert menu["tags"] == ["food", "a|b"]
    assert menu["enabled"] is False
    assert (menu["valid_from"], menu["valid_until"]) == (
        "2026-01-01T00:00:00Z",
        "2030-01-01T00:00:00Z",
    )
    assert (menu["max_scans"], menu["redirect_status"]) == (10, 301)
    assert menu["created_at"] == "2025-05-05T05:05:05Z"
    assert menu["scans"] == 0
    listed = api.get("/api/v1/codes?q=generated")["items"]
    assert len(listed) == 1
    assert len(listed[0]["slug"]) == 8
    # Again: both rows are known by their origin (the generated slug too).
    assert _run(scanlet_db, path, "scanlet") == 0
    assert "codes: 2 kept" in capsys.readouterr().out


def test_shlink_and_bitly_exports_are_read_by_their_column_names(
    scanlet_db: str, api: ApiReader, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shlink = tmp_path / "shlink.csv"
    shlink.write_text(
        "Long URL,Short code,Title,Domain,Tags\nhttps://example.com/a,sh-a,Shlink A,,x|y\n",
        encoding="utf-8-sig",
    )
    bitly = tmp_path / "bitly.csv"
    bitly.write_text(
        "title,long_url,link,created_at,tags\n"
        'Bitly B,https://example.com/b,https://bit.ly/3bItLy,2023-02-03 04:05:06,"p,q"\n',
        encoding="utf-8",
    )
    assert _run(scanlet_db, shlink, "shlink") == 0
    assert _run(scanlet_db, bitly, "bitly") == 0
    capsys.readouterr()
    a = api.get("/api/v1/codes/sh-a")
    assert (a["target"], a["title"], a["tags"]) == ("https://example.com/a", "Shlink A", ["x", "y"])
    b = api.get("/api/v1/codes/3bItLy")
    assert (b["target"], b["title"], b["tags"]) == ("https://example.com/b", "Bitly B", ["p", "q"])
    assert b["created_at"] == "2023-02-03T04:05:06Z"


@pytest.mark.parametrize(
    ("content", "fmt", "message"),
    [
        ("", "scanlet", "is empty (a header row is needed)"),
        ("slug,title\nx,y\n", "scanlet", "needs the column(s) target"),
        ("target,colour\nhttps://e.com,red\n", "scanlet", "unknown column(s) for the scanlet"),
        ("Short code,Title\nx,y\n", "shlink", "needs the column(s) longurl"),
        ("title,link\nx,y\n", "bitly", "needs the column(s) longurl"),
    ],
)
def test_a_file_without_the_columns_its_format_needs_is_refused_whole(
    scanlet_db: str,
    api: ApiReader,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    content: str,
    fmt: str,
    message: str,
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content, encoding="utf-8")
    assert _run(scanlet_db, path, fmt) == 1
    captured = capsys.readouterr()
    assert message in captured.err
    assert "codes: none" in captured.out
    assert api.get("/api/v1/codes")["items"] == []


def test_each_bad_row_is_reported_with_its_line_and_the_others_imported(
    scanlet_db: str, api: ApiReader, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, lines = _import_rows(
        scanlet_db,
        tmp_path / "rows.csv",
        "slug,target,max_scans,enabled,created_at\n"
        "ok,https://example.com/ok,,,\n"
        "short,https://example.com/x\n"
        "js,javascript:alert(1),,,\n"
        "many,https://example.com/m,lots,,\n"
        "neg,https://example.com/n,-5,,\n"
        "on,https://example.com/o,,maybe,\n"
        "old,https://example.com/o,,,0001-01-01T00:30:00+01:00\n"
        "\n"
        "api,https://example.com/reserved,,,\n"
        "ok2,https://example.com/ok2,,,\n",
        capsys,
    )
    assert code == 1
    assert "codes: 2 created, 1 skipped, 6 failed" in out
    assert any(line.startswith("scanlet: failed: rows.csv row 3: 2 cells for 5") for line in lines)
    assert any("rows.csv row 4:" in line and "target" in line for line in lines)
    assert any("rows.csv row 5: max_scans: not a whole number" in line for line in lines)
    assert any("rows.csv row 6:" in line and "max_scans" in line for line in lines)
    assert any("rows.csv row 7: enabled: must be true or false" in line for line in lines)
    assert any("rows.csv row 8: created_at" in line for line in lines)
    assert [c["slug"] for c in api.get("/api/v1/codes")["items"]] == ["ok2", "ok"]


def test_routing_cells_are_read_and_a_protected_code_is_not_made_open(
    scanlet_db: str, api: ApiReader, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rules = '"[{""when"":{""device"":""mobile""},""target"":""https://example.com/m""}]"'
    code, out, lines = _import_rows(
        scanlet_db,
        tmp_path / "routing.csv",
        "slug,target,fallback_url,forward_query,rules,split,has_password\n"
        f"r,https://example.com/r,https://example.com/over,true,{rules},,false\n"
        "pw,https://example.com/pw,,,,,true\n"
        "bad,https://example.com/b,,,[not json,,\n"
        "fq,https://example.com/f,,perhaps,,,\n",
        capsys,
    )
    assert code == 1
    assert "codes: 1 created, 3 failed" in out
    err = "\n".join(lines)
    assert "routing.csv row 3: has_password: a CSV carries no password" in err
    assert "routing.csv row 4: rules: not a JSON list" in err
    assert "routing.csv row 5: forward_query: must be true or false" in err
    r = api.get("/api/v1/codes/r")
    assert (r["fallback_url"], r["forward_query"]) == ("https://example.com/over", True)
    assert r["rules"] == [{"when": {"device": "mobile"}, "target": "https://example.com/m"}]
    assert [c["slug"] for c in api.get("/api/v1/codes")["items"]] == ["r"]


def test_a_missing_file_is_one_line(
    scanlet_db: str, api: ApiReader, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(scanlet_db, tmp_path / "nope.csv", "scanlet") == 1
    assert "cannot read" in capsys.readouterr().err


@pytest.mark.parametrize("tags", [[], ["a"], ["a|b", "c\\d", "e\\|f"], ["|", "\\"]])
def test_tags_survive_the_cell(tags: list[str]) -> None:
    assert split_tags(join_tags(tags)) == [t for t in tags if t.strip()]


@given(st.text())
def test_any_text_survives_the_formula_guard(text: str) -> None:
    assert unescape_cell(escape_cell(text)) == text
    assert not runs_as_formula(escape_cell(text))


@given(st.lists(st.text().filter(lambda t: t.strip() != "")))
def test_any_tags_survive_the_cell(tags: list[str]) -> None:
    assert split_tags(join_tags(tags)) == tags
