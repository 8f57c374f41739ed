"""``--as EMAIL`` (or ``SCANLET_CLI_USER``): a command that changes data acts as that user,
with the API's rules: a viewer changes nothing, a tag limit holds, and the events and audit
entries name the user. Without it the command line is the machine's operator (the system)."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import structlog

from scanlet.cli import main
from scanlet.config import Settings
from tests.clirun import SCANLET
from tests.dbquery import query

PRIVATE = {"SCANLET_WEBHOOK_ALLOW_PRIVATE": "true"}
VIEWER, EDITOR, ADMIN, AGENCY = (
    "viewer@example.com",
    "editor@example.com",
    "admin@example.com",
    "agency@example.com",
)


@pytest.fixture(autouse=True)
def _logs_on_the_current_stderr(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The commands run in this process quiet their logs as ``quiet_logs`` does, but
    without caching loggers bound to pytest's captured stderr: it is closed after the test,
    and later tests log through the same module-level loggers."""
    saved = structlog.get_config()
    monkeypatch.setattr(
        "scanlet.cli.contexts.quiet_logs",
        lambda settings: structlog.configure(
            wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING),
            logger_factory=lambda *args: structlog.PrintLogger(sys.stderr),
            cache_logger_on_first_use=False,
        ),
    )
    yield
    structlog.configure(**saved)


def run(
    capsys: pytest.CaptureFixture[str], db: str, *args: str, stdin: str | None = None
) -> tuple[int, str, str]:
    """``scanlet ARGS --db DB`` in this process: (exit code, stdout, stderr)."""
    capsys.readouterr()
    code = main([*args, "--db", db])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def listing(capsys: pytest.CaptureFixture[str], db: str, *args: str) -> Any:
    code, out, err = run(capsys, db, *args, "--format", "json")
    assert code == 0, err
    return json.loads(out)


@pytest.fixture
def team(
    scanlet_db: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> str:
    """A database with an owner, a viewer, an editor, an admin, an admin limited to
    ``agency-x``; a code ``menu`` (no tags), a key and a webhook made by the system."""
    monkeypatch.setenv("SCANLET_WEBHOOK_ALLOW_PRIVATE", "true")
    monkeypatch.delenv("SCANLET_CLI_USER", raising=False)
    db = scanlet_db
    for email, role, tags in [
        ("owner@example.com", "owner", []),
        (VIEWER, "viewer", []),
        (EDITOR, "editor", ["agency-x"]),
        (ADMIN, "admin", []),
        (AGENCY, "admin", ["agency-x"]),
    ]:
        flags = [flag for tag in tags for flag in ("--tag", tag)]
        code, _, err = run(capsys, db, "users", "create", "--email", email, "--role", role, *flags)
        assert code == 0, err
    for args in (
        ["codes", "create", "https://example.com/menu", "--slug", "menu"],
        ["keys", "create", "--name", "ops", "--scope", "admin", "--user", "owner@example.com"],
        ["webhooks", "add", "http://127.0.0.1:9/hook"],
    ):
        code, _, err = run(capsys, db, *args)
        assert code == 0, err
    return db


def _state(capsys: pytest.CaptureFixture[str], db: str) -> Any:
    """Everything a refused command must leave as it was."""
    return (
        listing(capsys, db, "codes", "list"),
        listing(capsys, db, "keys", "list"),
        listing(capsys, db, "webhooks", "list"),
        listing(capsys, db, "users", "list"),
        listing(capsys, db, "audit"),
    )


def test_a_viewer_changes_nothing_through_the_real_executable(
    team: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    before = _state(capsys, team)
    env = {"SCANLET_DB": team, **PRIVATE}
    attempts = [
        (["codes", "create", "https://example.com/", "--as", VIEWER], {}, "editor role"),
        (["keys", "create", "--name", "mine", "--as", VIEWER], {}, "admin role"),
        (["webhooks", "add", "http://127.0.0.1:9/mine", "--as", VIEWER], {}, "admin role"),
        # The variable names the user when --as is not given.
        (["users", "set-role", VIEWER, "owner"], {"SCANLET_CLI_USER": VIEWER}, "admin role"),
    ]
    # Started together: each is a whole interpreter, and the machine may be busy.
    running = [
        (
            subprocess.Popen(
                [SCANLET, *args],
                cwd=tmp_path,
                env={"PATH": "/usr/bin:/bin", **env, **extra},
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            ),
            needed,
        )
        for args, extra, needed in attempts
    ]
    for process, needed in running:
        out, err = process.communicate(timeout=60)
        assert process.returncode == 1, (process.args, out, err)
        assert err.count("\n") == 1, err
        assert needed in err, err
        assert "acts as viewer" in err
        assert out == ""
    assert _state(capsys, team) == before


@pytest.mark.parametrize(
    "args",
    [
        ["codes", "set", "menu", "--target", "https://example.com/evil"],
        ["codes", "delete", "menu", "--yes"],
        ["keys", "revoke", "KEY"],
        ["webhooks", "remove", "HOOK"],
        ["users", "create", "--email", "new@example.com", "--role", "viewer"],
        ["users", "disable", ADMIN],
        ["import", "csv", "codes.csv"],
    ],
)
def test_no_other_change_is_a_viewers_either(
    team: str,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
) -> None:
    (tmp_path / "codes.csv").write_text("target,slug\nhttps://example.com/,imported\n")
    monkeypatch.chdir(tmp_path)
    before = _state(capsys, team)
    key = before[1][0]["id"]
    hook = before[2][0]["id"]
    args = [{"KEY": key, "HOOK": hook}.get(arg, arg) for arg in args]
    code, out, err = run(capsys, team, *args, "--as", VIEWER)
    assert code == 1, (out, err)
    assert "role" in err, err
    assert "acts as viewer" in err
    assert _state(capsys, team) == before


def test_an_editor_limited_to_a_tag_keeps_to_it_and_is_named_in_the_events(
    team: str, capsys: pytest.CaptureFixture[str], db_settings: Settings
) -> None:
    refused = run(capsys, team, "codes", "create", "https://example.com/", "--tag", "agency-y",
                  "--as", EDITOR)  # fmt: skip
    assert refused[0] == 1
    assert "must include one of the tags" in refused[2]
    code, out, err = run(capsys, team, "codes", "create", "https://example.com/", "--slug", "ag",
                         "--tag", "agency-x", "--as", EDITOR, "--format", "json")  # fmt: skip
    assert code == 0, err
    assert json.loads(out)["tags"] == ["agency-x"]
    # Another code is as absent as one that never was.
    for args in (["codes", "set", "menu", "--title", "mine"], ["codes", "delete", "menu", "--yes"]):
        code, _, err = run(capsys, team, *args, "--as", EDITOR)
        assert (code, err) == (1, "scanlet: There is no code with slug 'menu'.\n")
    code, _, err = run(capsys, team, "codes", "set", "ag", "--title", "ours", "--as", EDITOR)
    assert code == 0, err
    users = {u["email"]: u["id"] for u in listing(capsys, team, "users", "list")}
    rows = query(db_settings, "SELECT type, payload FROM events WHERE slug IN ('menu', 'ag')")
    by = [(row[0], json.loads(bytes(row[1]))["by"]) for row in rows]
    assert by == [
        ("code.created", {"kind": "system", "id": "system"}),
        ("code.created", {"kind": "user", "id": users[EDITOR]}),
        ("code.updated", {"kind": "user", "id": users[EDITOR]}),
    ]
    # An editor manages no webhooks.
    code, _, err = run(capsys, team, "webhooks", "add", "http://127.0.0.1:9/x", "--as", EDITOR)
    assert code == 1
    assert "admin role" in err


def test_a_limited_admin_adds_limited_webhooks_and_removes_only_its_own(
    team: str, capsys: pytest.CaptureFixture[str]
) -> None:
    system_hook = listing(capsys, team, "webhooks", "list")[0]["id"]
    code, out, err = run(capsys, team, "webhooks", "add", "http://127.0.0.1:9/agency",
                         "--as", AGENCY, "--format", "json")  # fmt: skip
    assert code == 0, err
    added = json.loads(out)
    assert added["tags"] == ["agency-x"]
    code, out, _ = run(capsys, team, "webhooks", "list")
    rows = {line.split()[0]: line.split()[3] for line in out.splitlines()[1:]}
    assert rows == {system_hook: "-", added["id"]: "agency-x"}
    code, _, err = run(capsys, team, "webhooks", "remove", system_hook, "--as", AGENCY)
    assert (code, err) == (1, f"scanlet: no webhook endpoint with id {system_hook!r}\n")
    code, _, err = run(capsys, team, "webhooks", "remove", added["id"], "--as", AGENCY)
    assert code == 0, err
    for args in (
        ["users", "create", "--email", "x@example.com", "--role", "viewer"],
        ["keys", "create", "--name", "x"],
        ["import", "csv", "nothing.csv"],
    ):
        code, _, err = run(capsys, team, *args, "--as", AGENCY)
        assert code == 1
        assert "limited to tags cannot use" in err, err
    users = {u["email"]: u["id"] for u in listing(capsys, team, "users", "list")}
    trail = [(e["action"], e["by_kind"], e["by_id"]) for e in listing(capsys, team, "audit")]
    assert ("webhook.created", "user", users[AGENCY]) in trail
    assert ("webhook.deleted", "user", users[AGENCY]) in trail


def test_an_admin_manages_no_owner_and_is_named_in_the_audit(
    team: str, capsys: pytest.CaptureFixture[str]
) -> None:
    owners_key = listing(capsys, team, "keys", "list")[0]["id"]
    for args, message in [
        (
            ["keys", "create", "--name", "x", "--user", "owner@example.com"],
            "cannot manage the keys",
        ),
        (["keys", "revoke", owners_key], "cannot manage the keys"),
        (["users", "set-role", VIEWER, "owner"], "owner"),
        (["users", "disable", "owner@example.com"], "owner"),
    ]:
        code, _, err = run(capsys, team, *args, "--as", ADMIN)
        assert code == 1, args
        assert message in err, err
    code, _, err = run(capsys, team, "keys", "create", "--name", "viewer's", "--user", VIEWER,
                         "--as", ADMIN)  # fmt: skip
    assert code == 0, err
    code, _, err = run(capsys, team, "users", "set-role", VIEWER, "editor", "--as", ADMIN)
    assert code == 0, err
    users = {u["email"]: u["id"] for u in listing(capsys, team, "users", "list")}
    trail = [(e["action"], e["by_kind"], e["by_id"]) for e in listing(capsys, team, "audit")]
    assert ("key.created", "user", users[ADMIN]) in trail
    assert ("user.changed", "user", users[ADMIN]) in trail
    assert ("key.created", "system", "system") in trail


def test_an_unknown_or_disabled_user_acts_as_nobody(
    team: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, team, "codes", "create", "https://example.com/", "--as",
                       "nobody@example.com")  # fmt: skip
    assert (code, err) == (1, "scanlet: --as: there is no user 'nobody@example.com'\n")
    assert run(capsys, team, "users", "disable", EDITOR)[0] == 0
    code, _, err = run(capsys, team, "codes", "create", "https://example.com/", "--as", EDITOR)
    assert (code, err) == (1, f"scanlet: --as: {EDITOR} is disabled\n")
