"""Operations commands: each has --help, and every failure is one line with its exit code."""

from pathlib import Path

import pytest

from scanlet.cli import main
from scanlet.storage.migration_files import migrations_in
from tests.pg import PgDatabases


@pytest.mark.parametrize(
    "command", [["config"], ["migrate"], ["rebuild"], ["export", "scans"], ["backup"]]
)
def test_every_operations_command_has_help(
    command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main([*command, "--help"])
    assert exited.value.code == 0
    assert capsys.readouterr().out.startswith("usage: scanlet")


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["config", "--bogus"], 2, "unrecognized arguments"),
        (["export", "scans", "--from", "yesterday"], 2, "expected an RFC 3339 time"),
        (["backup"], 2, "required: DEST"),
        (["migrate", "--db", "{missing}/x.db"], 1, "cannot open"),
        (["rebuild", "--db", "{missing}/x.db"], 1, "no database at"),
        (["export", "scans", "--db", "{missing}/x.db"], 1, "no database at"),
        (["backup", "{tmp}/copy.db", "--db", "{tmp}/none.db"], 1, "no database at"),
    ],
)
def test_failures_are_one_line_with_their_exit_code(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    code: int,
    message: str,
) -> None:
    # A path under a regular file can never be created, whoever runs the tests.
    blocker = tmp_path / "file"
    blocker.write_text("")
    filled = [a.format(missing=blocker, tmp=tmp_path) for a in args]
    try:
        result = main(filled)
    except SystemExit as exited:
        result = int(exited.code or 0)
    assert result == code
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert message in err


def test_operations_on_postgresql_name_the_database_and_backup_points_to_pg_dump(
    pg_databases: PgDatabases, capsys: pytest.CaptureFixture[str]
) -> None:
    url = pg_databases.create()
    assert main(["migrate", "--db", url]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    newest = migrations_in("scanlet.storage.postgres.migrations")[-1].version
    assert last == f"schema version {newest} at {url}"
    assert main(["rebuild", "--db", url]) == 0
    assert main(["backup", "/tmp/copy.dump", "--db", url]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "pg_dump --format=custom --file=/tmp/copy.dump" in err[0]
    assert not Path("/tmp/copy.dump").exists()
