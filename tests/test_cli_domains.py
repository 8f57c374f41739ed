"""The command line and domains: keys and users limited to domains (``--domain HOST``),
codes addressed on another domain (``codes create|show|set|delete --domain``), and the
codes CSV's round trip of a code on a second domain. Commands run as the real executable;
the API (in this process) registers domains and reads what they did."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.clirun import scanlet
from tests.importing.server import ApiReader, settings_for

A, B, HOME = "a.test", "b.test", "qr.test"
LOGO = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10">'
    '<circle cx="5" cy="5" r="4"/></svg>'
)


class Cli:
    """``scanlet`` in a folder whose server key and base URL the API's are too."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.env = {
            "SCANLET_BASE_URL": "http://qr.test",
            "SCANLET_SECRET_FILE": str(folder / "scanlet.key"),
        }

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return scanlet(*args, cwd=self.folder, env=self.env)

    def ok(self, *args: str) -> str:
        result = self.run(*args)
        assert result.returncode == 0, result.stderr
        return result.stdout

    def json(self, *args: str) -> Any:
        return json.loads(self.ok(*args))

    def refused(self, *args: str) -> str:
        """The one line a refused command prints (exit 1, no traceback)."""
        result = self.run(*args)
        assert result.returncode == 1, result.stdout
        assert result.stderr.count("\n") == 1, result.stderr
        return result.stderr.strip()


def _migrated(cli: Cli, db: str, *hosts: str) -> ApiReader:
    """The database ``db`` migrated, with ``hosts`` registered as domains."""
    cli.ok("migrate", "--db", db)
    reader = ApiReader(settings_for(db, cli.folder))
    for host in hosts:
        reader.post("/api/v1/domains", {"host": host})
    return reader


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    return Cli(tmp_path)


@pytest.fixture
def api(scanlet_db: str, cli: Cli) -> ApiReader:
    """The database migrated, with the domains A and B registered; the command line's
    default domain is ``qr.test`` as the API's is."""
    return _migrated(cli, scanlet_db, A, B)


def test_keys_and_users_take_a_domain_limit_of_registered_hosts(
    api: ApiReader, scanlet_db: str, cli: Cli
) -> None:
    db = ["--db", scanlet_db]
    assert cli.refused("keys", "create", "--name", "k", "--domain", "nowhere.test", *db) == (
        "scanlet: domains: no domain 'nowhere.test' is registered"
    )
    assert cli.refused("keys", "create", "--name", "k", "--domain", "http://a.test", *db)
    made = cli.ok("keys", "create", "--name", "k", "--domain", "A.test", "--domain", HOME, *db)
    assert f"domains {A}, {HOME}" in made.splitlines()[0]
    cli.ok("users", "create", "--email", "ana@example.com", "--role", "editor",
        "--domain", A, *db)  # fmt: skip
    beyond = cli.refused("keys", "create", "--name", "ana-b", "--user", "ana@example.com",
                      "--scope", "write", "--domain", B, *db)  # fmt: skip
    assert beyond == f"scanlet: domains: ana@example.com is limited to the domains {A}"
    cli.ok("keys", "create", "--name", "ana", "--user", "ana@example.com", "--scope", "write",
        *db)  # fmt: skip
    keys = cli.json("keys", "list", "--format", "json", *db)
    # Without --domain, a user's key has the user's own limit (the API reader's keys: none).
    limits = [(k["name"], k["domains"]) for k in keys if k["name"] != "t"]
    assert limits == [("k", [A, HOME]), ("ana", [A])]
    users = cli.json("users", "list", "--format", "json", *db)
    assert [(u["email"], u["domains"]) for u in users] == [("ana@example.com", [A])]
    assert "domains" in cli.ok("keys", "list", *db).splitlines()[0]


def test_codes_on_another_domain_are_addressed_with_domain(
    api: ApiReader, scanlet_db: str, cli: Cli
) -> None:
    db = ["--db", scanlet_db]
    home = cli.json("codes", "create", "https://example.com/home", "--slug", "menu",
                 "--format", "json", *db)  # fmt: skip
    there = cli.json("codes", "create", "https://example.com/a", "--slug", "menu",
                  "--domain", A, "--format", "json", *db)  # fmt: skip
    assert (home["domain"], there["domain"]) == (HOME, A)
    assert there["short_url"] == "https://a.test/menu"
    shown = cli.json("codes", "show", "menu", "--domain", A, "--format", "json", *db)
    assert shown["target"] == "https://example.com/a"
    cli.ok("codes", "set", "menu", "--domain", A, "--title", "On A", *db)
    assert api.get("/api/v1/codes/menu?domain=a.test")["title"] == "On A"
    assert api.get("/api/v1/codes/menu")["title"] is None
    (cli.folder / "logo.svg").write_text(LOGO)
    cli.ok("codes", "logo", "menu", "logo.svg", "--domain", A, *db)
    assert api.get("/api/v1/codes/menu?domain=a.test")["has_logo"] is True
    assert api.get("/api/v1/codes/menu")["has_logo"] is False
    cli.ok("codes", "delete", "menu", "--domain", A, "--yes", *db)
    assert cli.refused("codes", "show", "menu", "--domain", A, *db) == (
        "scanlet: no code with slug 'menu'"
    )
    assert api.get("/api/v1/codes/menu")["target"] == "https://example.com/home"
    for command in (["show", "menu"], ["delete", "menu", "--yes"], ["set", "menu", "--title", "x"]):
        line = cli.refused("codes", *command, "--domain", "nowhere.test", *db)
        assert line == "scanlet: domain: no domain 'nowhere.test' is registered"


def test_a_user_limited_to_a_domain_keeps_to_it_on_the_command_line(
    api: ApiReader, scanlet_db: str, cli: Cli
) -> None:
    db = ["--db", scanlet_db]
    cli.ok("codes", "create", "https://example.com/b", "--slug", "menu", "--domain", B, *db)
    cli.ok("users", "create", "--email", "ana@example.com", "--role", "editor",
        "--domain", A, *db)  # fmt: skip
    ana = ["--as", "ana@example.com", *db]
    refused = cli.refused("codes", "create", "https://example.com/", *ana)
    assert refused == f"scanlet: domain: must be one of the domains this key may use ({A})"
    for command in (["set", "menu", "--title", "mine"], ["delete", "menu", "--yes"]):
        line = cli.refused("codes", *command, "--domain", B, *ana)
        assert line == "scanlet: There is no code with slug 'b.test/menu'."
    made = cli.json("codes", "create", "https://example.com/", "--domain", A,
                 "--format", "json", *ana)  # fmt: skip
    assert made["domain"] == A
    assert api.get("/api/v1/codes/menu?domain=b.test")["title"] is None
    # Keys, users and imports span every code: refused to an admin limited to domains.
    cli.ok("users", "create", "--email", "boss@example.com", "--role", "admin",
        "--domain", A, *db)  # fmt: skip
    boss = ["--as", "boss@example.com", *db]
    for command in (["keys", "create", "--name", "x"], ["users", "disable", "ana@example.com"]):
        assert "limited to domains cannot use" in cli.refused(*command, *boss)


def test_the_codes_csv_brings_a_code_of_another_domain_back_to_it(
    api: ApiReader, scanlet_db: str, tmp_path: Path, cli: Cli
) -> None:
    source_db = str(tmp_path / "source.db")
    source = _migrated(cli, source_db, A)
    src = ["--db", source_db]
    cli.ok("codes", "create", "https://example.com/home", "--slug", "menu", *src)
    cli.ok("codes", "create", "https://example.com/a", "--slug", "menu", "--domain", A,
        "--tag", "food", "--title", "On A", *src)  # fmt: skip
    with source.session() as (client, headers):
        exported = client.get("/api/v1/codes?format=csv", headers=headers)
    assert exported.status_code == 200
    assert {row.split(",")[0] for row in exported.text.splitlines()[1:]} == {"menu", f"{A}/menu"}
    path = tmp_path / "codes.csv"
    path.write_text(exported.text, encoding="utf-8")
    imported = cli.ok("import", "csv", str(path), "--format", "scanlet", "--db", scanlet_db)
    assert "codes: 2 created" in imported
    there = api.get("/api/v1/codes/menu?domain=a.test")
    assert (there["target"], there["tags"], there["title"]) == (
        "https://example.com/a",
        ["food"],
        "On A",
    )
    assert api.get("/api/v1/codes/menu")["target"] == "https://example.com/home"
    # A CSV naming a domain this server never registered: that row fails, alone.
    path.write_text("slug,target\nc.test/menu,https://example.com/c\n", encoding="utf-8")
    failed = cli.run("import", "csv", str(path), "--format", "scanlet", "--db", scanlet_db)
    assert failed.returncode == 1, failed.stdout
    assert "1 failed" in failed.stdout
    assert "c.test" in failed.stderr
    assert "Traceback" not in failed.stderr
