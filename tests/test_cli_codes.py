"""``scanlet codes`` through the real executable: the API's rules, refusals and events, on
either backend, and a running server serving what the command line changed."""

import json
import os
import pty
import re
import shutil
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.clirun import SCANLET, database_content, scanlet
from tests.processes import served


def ok(*args: str, cwd: Path) -> str:
    result = scanlet(*args, cwd=cwd)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_create_list_show_set_delete_on_either_backend(scanlet_db: str, tmp_path: Path) -> None:
    db = ["--db", scanlet_db]
    ok("migrate", *db, cwd=tmp_path)
    made = json.loads(
        ok(
            "codes", "create", "https://example.com/menu", "--slug", "menu", "--title", "Menu",
            "--tag", "food", "--tag", "print", "--max-scans", "100", "--format", "json", *db,
            cwd=tmp_path,
        )
    )  # fmt: skip
    assert made["slug"] == "menu"
    assert made["tags"] == ["food", "print"]
    assert made["max_scans"] == 100
    assert made["short_url"] == "http://127.0.0.1:8000/menu"
    assert made["qr_payload"] == "http://127.0.0.1:8000/q/menu"
    generated = json.loads(
        ok("codes", "create", "https://example.com/x", "--format", "json", *db, cwd=tmp_path)
    )
    assert len(generated["slug"]) == 8

    table = ok("codes", "create", "https://example.com/t", "--slug", "tbl", *db, cwd=tmp_path)
    # One field a line, values in one column after the longest name.
    assert re.search(r"^short_url +http://127\.0\.0\.1:8000/tbl$", table, re.M)
    assert re.search(r"^qr_payload +http://127\.0\.0\.1:8000/q/tbl$", table, re.M)
    assert len({line.index(line.split()[1]) for line in table.splitlines()}) == 1

    listed = json.loads(ok("codes", "list", "--format", "json", "--tag", "food", *db, cwd=tmp_path))
    assert [c["slug"] for c in listed] == ["menu"]
    searched = ok("codes", "list", "--q", "example.com/t", *db, cwd=tmp_path).splitlines()
    assert searched[0].split() == ["slug", "enabled", "scans", "target", "title"]
    assert [line.split()[0] for line in searched[1:]] == ["tbl"]

    changed = json.loads(
        ok(
            "codes", "set", "menu", "--target", "https://example.com/new", "--disable",
            "--clear", "tags", "--clear", "max_scans", "--format", "json", *db, cwd=tmp_path,
        )
    )  # fmt: skip
    assert changed["target"] == "https://example.com/new"
    assert changed["enabled"] is False
    assert changed["tags"] == []
    assert changed["max_scans"] is None
    shown = json.loads(ok("codes", "show", "menu", "--format", "json", *db, cwd=tmp_path))
    assert shown == changed

    assert ok("codes", "delete", "menu", "--yes", *db, cwd=tmp_path) == "deleted code menu\n"
    gone = scanlet("codes", "show", "menu", *db, cwd=tmp_path)
    assert (gone.returncode, gone.stderr) == (1, "scanlet: no code with slug 'menu'\n")
    # The slug of a deleted code is never reused: the API's rule, from the same actor.
    again = scanlet("codes", "create", "https://example.com", "--slug", "menu", *db, cwd=tmp_path)
    assert (again.returncode, again.stderr) == (1, "scanlet: slug 'menu' is already taken\n")


@pytest.fixture(scope="module")
def with_menu(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database holding the code ``menu``, made once by the command line; each
    test works on a copy (its last connection closed, so the file holds all of it)."""
    folder = tmp_path_factory.mktemp("menu")
    ok("migrate", "--db", "db", cwd=folder)
    ok("codes", "create", "https://example.com/menu", "--slug", "menu", "--db", "db", cwd=folder)
    assert not (folder / "db-wal").exists()
    return folder / "db"


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["create", "javascript:alert(1)"], 1, "target: must be an absolute http"),
        (["create", "https://bank.example@evil.example/"], 1, "target:"),
        (["create", "http://127.0.0.1:8000/loop"], 1, "must not point at this server"),
        (["create", "https://e.com", "--slug", "api"], 1, "slug: 'api' is reserved"),
        (["create", "https://e.com", "--slug", "a/b"], 1, "slug:"),
        (["create", "https://e.com", "--max-scans", "0"], 1, "max_scans: Expected `int` >= 1"),
        (["create", "https://e.com", "--max-scans", "many"], 2, "invalid int value"),
        (["create", "https://e.com", "--valid-until", "soon"], 1, "valid_until:"),
        (["create", "https://e.com", "--valid-until", "9999-01-01T00:00:00Z"], 1, "valid_until"),
        (["create", "https://e.com", "--title", "a\x07b"], 1, "title:"),
        (["create", "https://e.com", "--tag", "x" * 65], 1, "tags.0:"),
        (["create", "https://e.com", "--redirect-status", "303"], 2, "invalid choice"),
        (["set", "nope", "--title", "x"], 1, "no code with slug 'nope'"),
        (["set", "menu"], 2, "nothing to change"),
        (["set", "menu", "--enable", "--disable"], 2, "not allowed with"),
        (["set", "menu", "--title", "x", "--clear", "title"], 2, "--clear title and a new"),
        (["delete", "menu"], 1, "stdin is not a terminal (pass --yes)"),
        (["delete", "nope", "--yes"], 1, "no code with slug 'nope'"),
        (["show", "menu", "--db", "{tmp}/typo.db"], 1, "no database at"),
        (["bogus"], 2, "invalid choice"),
        (["list", "--q", "x" * 300], 1, "q: at most 256 characters"),
        (["list", "--tag", "x" * 65], 1, "tag: at most 64 characters"),
        (["set", "menu", "--rules", "[not json"], 2, "--rules: not JSON"),
        (
            ["set", "menu", "--rules", '[{"when": {"os": "beos"}, "target": "https://e.com"}]'],
            1,
            "rules.0.when.os: Invalid enum value",
        ),
        (["set", "menu", "--fallback-url", "javascript:alert(1)"], 1, "fallback_url:"),
        (["set", "menu", "--password-stdin"], 1, "no password on standard input"),
    ],
)
def test_bad_input_is_one_line_and_changes_nothing(
    with_menu: Path, tmp_path: Path, args: list[str], code: int, message: str
) -> None:
    shutil.copy(with_menu, tmp_path / "db")
    before = database_content(tmp_path / "db")
    filled = [a.replace("{tmp}", str(tmp_path)) for a in args]
    db = [] if "--db" in filled else ["--db", "db"]
    result = scanlet("codes", *filled, *db, cwd=tmp_path)
    assert result.returncode == code, result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert database_content(tmp_path / "db") == before


def test_routing_from_the_command_line(tmp_path: Path) -> None:
    db = ["--db", "db"]
    ok("migrate", *db, cwd=tmp_path)
    rules = '[{"when": {"os": "ios"}, "target": "https://example.com/ios"}]'
    split = json.dumps(
        [
            {"target": "https://example.com/a", "weight": 40},
            {"target": "https://example.com/b", "weight": 60},
        ]
    )
    made = json.loads(
        ok(
            "codes", "create", "https://example.com/", "--slug", "r", "--rules", rules,
            "--split", split, "--fallback-url", "https://example.com/over", "--forward-query",
            "--format", "json", *db, cwd=tmp_path,
        )
    )  # fmt: skip
    assert made["rules"] == json.loads(rules)
    assert [arm["weight"] for arm in made["split"]] == [40, 60]
    assert (made["fallback_url"], made["forward_query"]) == ("https://example.com/over", True)
    table = ok("codes", "show", "r", *db, cwd=tmp_path)
    rules = '[{"when":{"os":"ios"},"target":"https://example.com/ios"}]'
    assert re.search(rf"^rules +{re.escape(rules)}$", table, re.M)
    locked = scanlet(
        "codes", "set", "r", "--password-stdin", "--no-forward-query", "--clear", "split",
        "--format", "json", *db, cwd=tmp_path, stdin="open sesame\n",
    )  # fmt: skip
    assert locked.returncode == 0, locked.stderr
    changed = json.loads(locked.stdout)
    assert (changed["has_password"], changed["forward_query"], changed["split"]) == (
        True,
        False,
        [],
    )
    assert "open sesame" not in locked.stdout
    opened = json.loads(
        ok("codes", "set", "r", "--clear", "password", "--clear", "rules", "--format", "json",
           *db, cwd=tmp_path)
    )  # fmt: skip
    assert (opened["has_password"], opened["rules"]) == (False, [])


def test_codes_commands_refuse_a_missing_database(tmp_path: Path) -> None:
    result = scanlet("codes", "create", "https://example.com", "--db", "typo.db", cwd=tmp_path)
    assert result.returncode == 1
    assert "no database at" in result.stderr
    assert not (tmp_path / "typo.db").exists()


def test_a_running_server_serves_what_the_command_line_changed(tmp_path: Path) -> None:
    with served(tmp_path) as server:
        env = {"SCANLET_PORT": str(server.port)}
        made = scanlet(
            "codes", "create", "https://example.com/one", "--slug", "live", cwd=tmp_path, env=env
        )
        assert made.returncode == 0, made.stderr
        assert _location_soon(server.base, "https://example.com/one")
        changed = scanlet(
            "codes", "set", "live", "--target", "https://example.com/two", cwd=tmp_path, env=env
        )
        assert changed.returncode == 0, changed.stderr
        assert _location_soon(server.base, "https://example.com/two")
        gone = scanlet("codes", "delete", "live", "--yes", cwd=tmp_path, env=env)
        assert gone.returncode == 0, gone.stderr
        assert _status_soon(server.base, 410)


def _location_soon(base: str, target: str, limit: float = 10.0) -> bool:
    """Poll the redirect until it leads to ``target`` (the resync runs twice a second); the
    limit is generous, for a loaded machine, not a measurement."""
    end = time.monotonic() + limit
    while time.monotonic() < end:
        answer = httpx.head(f"{base}/live")
        if answer.status_code == 302 and answer.headers["location"] == target:
            return True
        time.sleep(0.1)
    return False


def _status_soon(base: str, status: int, limit: float = 10.0) -> bool:
    end = time.monotonic() + limit
    while time.monotonic() < end:
        if httpx.head(f"{base}/live").status_code == status:
            return True
        time.sleep(0.1)
    return False


@pytest.mark.parametrize(("answer", "code", "kept"), [("y\n", 0, False), ("n\n", 1, True)])
def test_delete_asks_on_a_terminal(tmp_path: Path, answer: str, code: int, kept: bool) -> None:
    ok("migrate", cwd=tmp_path)
    ok("codes", "create", "https://example.com", "--slug", "menu", cwd=tmp_path)
    main, side = pty.openpty()
    try:
        os.write(main, answer.encode())  # typed ahead: the terminal holds it for the prompt
        result = subprocess.run(
            [SCANLET, "codes", "delete", "menu"],
            cwd=tmp_path,
            stdin=side,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        os.close(side)
        os.close(main)
    assert result.returncode == code
    assert "Delete code 'menu'? Its slug is never reused; its scans stay. [y/N]" in result.stderr
    shown = scanlet("codes", "show", "menu", cwd=tmp_path)
    assert (shown.returncode == 0) is kept
