"""The command line: keys, config and migrate, with one-line errors and documented exit codes."""

import json
import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from scanlet.cli import main


def run(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m scanlet`` as a user would, in ``cwd``."""
    return subprocess.run(
        [sys.executable, "-m", "scanlet", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", **(env or {})},
        timeout=60,
        check=False,
    )


def test_keys_create_prints_the_secret_alone_on_the_last_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "k.db")
    assert main(["keys", "create", "--name", "ci", "--scope", "write", "--db", db]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert out[-1].startswith("slk_")
    assert " " not in out[-1]
    assert main(["keys", "list", "--format", "json", "--db", db]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert len(listed) == 1
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
    assert listed[0]["scope"] == "write"
    assert out[-1] not in json.dumps(listed)


def test_keys_revoke_marks_the_key_and_unknown_ids_fail(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "k.db")
    main(["keys", "create", "--name", "x", "--db", db])
    token = capsys.readouterr().out.strip().splitlines()[-1]
    key_id = token.split("_")[1]
    assert main(["keys", "revoke", key_id, "--db", db]) == 0
    main(["keys", "list", "--db", db])
    table = capsys.readouterr().out
    assert key_id in table
    assert "yes" in table
    assert main(["keys", "revoke", "nope", "--db", db]) == 1
    assert capsys.readouterr().err.strip() == "scanlet: no key with id 'nope'"


def test_a_bad_configuration_value_exits_2_with_one_line(tmp_path: Path) -> None:
    result = run("config", cwd=tmp_path, env={"SCANLET_PORT": "eighty"})
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "SCANLET_PORT" in result.stderr
    assert "Traceback" not in result.stderr


def test_config_prints_effective_values_as_json(tmp_path: Path) -> None:
    result = run("config", "--format", "json", cwd=tmp_path, env={"SCANLET_PORT": "9001"})
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["port"] == 9001
    assert shown["public_base_url"] == "http://127.0.0.1:9001"


def test_config_names_the_key_file_and_no_command_but_serve_creates_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "s.db")
    assert main(["config", "--format", "json", "--db", db]) == 0
    assert json.loads(capsys.readouterr().out)["secret_file"] == f"{db}.key"
    main(["keys", "create", "--name", "x", "--db", db])
    for args in (
        ["keys", "list"],
        ["migrate"],
        ["rebuild"],
        ["export", "scans"],
        ["backup", str(tmp_path / "copy.db")],
    ):
        assert main([*args, "--db", db]) == 0, args
    assert not (tmp_path / "s.db.key").exists()
    assert not (tmp_path / "copy.db.key").exists()


def test_serve_with_a_broken_key_file_fails_with_one_line(tmp_path: Path) -> None:
    (tmp_path / "scanlet.db.key").write_bytes(b"half a key")
    result = run("serve", "--port", "1", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "scanlet: the server key file scanlet.db.key holds 10 bytes, not 32; restore it from"
        " its backup, or remove it to start with a new key"
    ]


def test_migrate_creates_the_schema(tmp_path: Path) -> None:
    result = run("migrate", "--db", "x.db", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "schema version" in result.stdout
    assert (tmp_path / "x.db").exists()


@pytest.mark.usefixtures("loose_umask")
def test_commands_create_files_for_their_user_only_and_restore_the_umask(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["migrate", "--db", str(tmp_path / "new" / "x.db")]) == 0
    # The directory is made by mkdir, which knows nothing of 0600: the umask decides.
    assert stat.S_IMODE((tmp_path / "new").stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "new" / "x.db").stat().st_mode) == 0o600
    previous = os.umask(0o022)
    assert previous == 0o022


def test_usage_errors_exit_2_with_one_line(tmp_path: Path) -> None:
    result = run("keys", "create", cwd=tmp_path)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "--name" in result.stderr


def test_an_unopenable_database_fails_with_one_line(tmp_path: Path) -> None:
    (tmp_path / "dir.db").mkdir()
    result = run("keys", "list", "--db", "dir.db", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith("scanlet: cannot open dir.db")
    assert "Traceback" not in result.stderr


def test_every_subcommand_has_help(tmp_path: Path) -> None:
    for args in (
        ["--help"],
        ["serve", "--help"],
        ["config", "--help"],
        ["migrate", "--help"],
        ["keys", "create", "--help"],
        ["keys", "list", "--help"],
        ["keys", "revoke", "--help"],
    ):
        result = run(*args, cwd=tmp_path)
        assert result.returncode == 0, args
        assert "usage:" in result.stdout


def test_version(tmp_path: Path) -> None:
    result = run("--version", cwd=tmp_path)
    assert result.returncode == 0
    assert result.stdout.startswith("scanlet ")


def test_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    run("migrate", "--db", "scanlet.db", cwd=tmp_path)
    with sqlite3.connect(tmp_path / "scanlet.db") as conn:
        # Far more output than a pipe buffers, so the writer meets the closed pipe.
        conn.executemany(
            "INSERT INTO api_keys (id, name, scope, secret_hash, created_at)"
            " VALUES (?, ?, 'read', x'00', '2026-01-01T00:00:00.000000Z')",
            [(f"id{i:06d}", f"key number {i}") for i in range(5000)],
        )
    listing = subprocess.run(
        f"{sys.executable} -m scanlet keys list --format table | head -n 1",
        shell=True,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert listing.stdout.startswith("id")
    assert "Traceback" not in listing.stderr


NO_DATABASE = "scanlet: no database at {db} (run scanlet migrate to create one)"


@pytest.mark.parametrize(
    "command",
    [
        ["keys", "list"],
        ["keys", "revoke", "abc123"],
        ["export", "scans"],
        ["rebuild"],
        ["backup", "{tmp}/copy.db"],
    ],
)
def test_a_command_that_reads_refuses_a_missing_database_and_creates_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    db = tmp_path / "typo" / "scanlet.db"
    args = [part.format(tmp=tmp_path) for part in command]
    assert main([*args, "--db", str(db)]) == 1
    captured = capsys.readouterr()
    assert captured.err == NO_DATABASE.format(db=db) + "\n"
    assert captured.out == ""
    assert list(tmp_path.iterdir()) == []  # neither the file nor its directory


def test_keys_list_on_a_typo_fails_as_a_user_sees_it(tmp_path: Path) -> None:
    run("migrate", "--db", "scanlet.db", cwd=tmp_path)
    result = run("keys", "list", "--db", "scanlte.db", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr == NO_DATABASE.format(db="scanlte.db") + "\n"
    assert result.stdout == ""
    assert not (tmp_path / "scanlte.db").exists()


def test_commands_that_may_create_still_create(tmp_path: Path) -> None:
    result = run("keys", "create", "--name", "first", "--db", "new/k.db", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "new" / "k.db").is_file()
    listing = run("keys", "list", "--db", "new/k.db", cwd=tmp_path)
    assert listing.returncode == 0, listing.stderr
    assert "first" in listing.stdout
