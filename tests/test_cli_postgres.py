"""``scanlet keys`` on PostgreSQL: the same commands, output and exit codes as on SQLite, a
key revoked from the command line refused at once by a running server, and one line for a
database that is missing or unreachable."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest
from prometheus_client import CollectorRegistry
from starlette.testclient import TestClient

from scanlet.actors.access.keys import ApiKeys
from scanlet.assembly import create_app
from scanlet.cli import main
from scanlet.config import load_settings
from scanlet.storage.opening import open_storage
from tests.pg import ADMIN_URL, PgDatabases, run_async, url_of

NO_DATABASE = "scanlet: no database at {db} (run scanlet migrate to create one)"


def created_token(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(["keys", "create", *args]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert out[-1].startswith("slk_")
    assert " " not in out[-1]
    return out[-1]


def test_keys_create_list_and_revoke_on_postgresql(
    pg_databases: PgDatabases, capsys: pytest.CaptureFixture[str]
) -> None:
    url = pg_databases.create()
    token = created_token(capsys, "--name", "ci", "--scope", "write", "--db", url)
    assert main(["keys", "list", "--format", "json", "--db", url]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(k["name"], k["scope"], k["revoked"]) for k in listed] == [("ci", "write", False)]
    assert set(listed[0]) == {
        "id",
        "name",
        "scope",
        "created_at",
        "expires_at",
        "revoked",
        "user_id",
        "tags",
        "domains",
    }
    assert token not in json.dumps(listed)

    async def authenticated() -> bool:
        settings = load_settings({"SCANLET_DB": url}, isatty=False)
        async with open_storage(settings) as storage:
            return (
                await ApiKeys(storage.keys).authenticate(token, now=datetime.now(UTC)) is not None
            )

    assert run_async(authenticated())
    key_id = listed[0]["id"]
    assert main(["keys", "revoke", key_id, "--db", url]) == 0
    assert capsys.readouterr().out.strip() == f"revoked key {key_id}"
    assert not run_async(authenticated())
    assert main(["keys", "revoke", "nope", "--db", url]) == 1
    assert capsys.readouterr().err == "scanlet: no key with id 'nope'\n"


def test_keys_create_brings_an_empty_database_up_to_date(
    pg_databases: PgDatabases, capsys: pytest.CaptureFixture[str]
) -> None:
    url = pg_databases.create_empty()
    created_token(capsys, "--name", "first", "--expires-days", "3", "--db", url)
    assert main(["keys", "list", "--db", url]) == 0
    table = capsys.readouterr().out
    assert "first" in table
    assert "no" in table.splitlines()[-1]  # not revoked


def test_a_key_revoked_from_the_command_line_is_refused_at_once_by_a_running_server(
    pg_databases: PgDatabases, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = pg_databases.create()
    token = created_token(capsys, "--name", "dash", "--scope", "read", "--db", url)
    key_id = token.split("_")[1]
    settings = load_settings(
        {"SCANLET_DB": url, "SCANLET_SECRET_FILE": str(tmp_path / "scanlet.key")}, isatty=False
    )
    app = create_app(settings, registry=CollectorRegistry(), features=[])
    headers = {"Authorization": f"Bearer {token}"}
    with TestClient(app) as client:
        assert client.get("/api/v1/codes", headers=headers).status_code == 200
        assert main(["keys", "revoke", key_id, "--db", url]) == 0
        refused = client.get("/api/v1/codes", headers=headers)
        assert refused.status_code == 401
        assert refused.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    "command", [["keys", "list"], ["keys", "revoke", "someid"], ["export", "scans"]]
)
def test_commands_that_read_refuse_a_database_without_scanlet_and_create_nothing(
    pg_databases: PgDatabases, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    url = pg_databases.create_empty()
    assert main([*command, "--db", url]) == 1
    captured = capsys.readouterr()
    assert captured.err == NO_DATABASE.format(db=url) + "\n"
    assert captured.out == ""

    async def tables() -> int:
        conn = await asyncpg.connect(url)
        try:
            return int(
                await conn.fetchval("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
            )
        finally:
            await conn.close()

    assert run_async(tables()) == 0


@pytest.mark.parametrize(
    "url",
    [
        url_of("scanlet_no_such_database"),  # the server answers, the database is not there
        ADMIN_URL.replace(":5432", ":1"),  # nothing listens
    ],
)
def test_an_unreachable_database_fails_with_one_line(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["keys", "list", "--db", url]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert err.startswith("scanlet: ")
    assert "Traceback" not in err
