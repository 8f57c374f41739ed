"""``scanlet users`` and ``scanlet keys create --user``: one-line failures, the same rules as
the API, passwords only from standard input."""

from __future__ import annotations

import io
import json

import pytest

from scanlet.cli import main


def users(db: str, capsys: pytest.CaptureFixture[str]) -> list[dict[str, object]]:
    capsys.readouterr()
    assert main(["users", "list", "--format", "json", "--db", db]) == 0
    listed: list[dict[str, object]] = json.loads(capsys.readouterr().out)
    return listed


def stdin(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(text))


def test_users_are_created_listed_and_changed_without_a_password_ever_shown(
    scanlet_db: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    stdin(monkeypatch, "a long secret phrase\n")
    assert (
        main(
            [
                "users", "create", "--email", "Owner@Example.com", "--role", "owner",
                "--password-stdin", "--db", scanlet_db,
            ]
        )
        == 0
    )  # fmt: skip
    out = capsys.readouterr().out
    assert "owner@example.com" in out
    assert "a long secret phrase" not in out
    assert main(["users", "create", "--email", "ed@example.com", "--role", "editor",
                 "--tag", "agency-x", "--db", scanlet_db]) == 0  # fmt: skip
    assert "set-password" in capsys.readouterr().out
    listed = users(scanlet_db, capsys)
    assert [(u["email"], u["role"], u["disabled"], u["tags"]) for u in listed] == [
        ("owner@example.com", "owner", False, []),
        ("ed@example.com", "editor", False, ["agency-x"]),
    ]
    fields = {"id", "email", "role", "created_at", "disabled", "tags", "domains"}
    assert all(set(u) == fields for u in listed)
    assert main(["users", "set-role", "ed@example.com", "viewer", "--db", scanlet_db]) == 0
    assert main(["users", "disable", "ED@example.com", "--db", scanlet_db]) == 0
    stdin(monkeypatch, "another long phrase\r\n")
    assert main(["users", "set-password", "ed@example.com", "--password-stdin",
                 "--db", scanlet_db]) == 0  # fmt: skip
    assert [(u["role"], u["disabled"]) for u in users(scanlet_db, capsys)][1] == ("viewer", True)
    assert main(["users", "enable", "ed@example.com", "--db", scanlet_db]) == 0
    assert not users(scanlet_db, capsys)[1]["disabled"]


@pytest.mark.parametrize(
    ("args", "stdin_text", "message"),
    [
        (["users", "create", "--email", "nope", "--role", "viewer"], "", "email:"),
        (
            ["users", "create", "--email", "a@example.com", "--role", "viewer", "--password-stdin"],
            "short\n",
            "password: must be at least 10 characters",
        ),
        (
            ["users", "create", "--email", "a@example.com", "--role", "viewer", "--password-stdin"],
            "",
            "no password on standard input",
        ),
        (["users", "disable", "ghost@example.com"], "", "no user 'ghost@example.com'"),
        (["users", "set-role", "only@example.com", "admin"], "", "last owner"),
        (["users", "disable", "only@example.com"], "", "last owner"),
        (
            ["users", "create", "--email", "ONLY@example.com", "--role", "viewer"],
            "",
            "already exists",
        ),
    ],
)
def test_user_failures_are_one_line_and_change_nothing(
    scanlet_db: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    stdin_text: str,
    message: str,
) -> None:
    assert main(["users", "create", "--email", "only@example.com", "--role", "owner",
                 "--db", scanlet_db]) == 0  # fmt: skip
    before = users(scanlet_db, capsys)
    stdin(monkeypatch, stdin_text)
    assert main([*args, "--db", scanlet_db]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert message in err[0]
    assert users(scanlet_db, capsys) == before


def test_set_password_needs_stdin_and_roles_are_checked_as_usage(
    scanlet_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as usage:
        main(["users", "set-password", "a@example.com", "--db", scanlet_db])
    assert usage.value.code == 2
    with pytest.raises(SystemExit) as usage:
        main(["users", "create", "--email", "a@example.com", "--role", "god"])
    assert usage.value.code == 2


def test_a_users_key_never_exceeds_their_role_or_tags(
    scanlet_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["users", "create", "--email", "ag@example.com", "--role", "editor",
                 "--tag", "agency-x", "--tag", "agency-y", "--db", scanlet_db]) == 0  # fmt: skip
    capsys.readouterr()
    for extra, message in [
        (["--scope", "admin"], "scope: admin is more than ag@example.com's role (editor)"),
        (
            ["--scope", "read", "--tag", "other"],
            "tag: ag@example.com is limited to the tags agency-x, agency-y",
        ),
    ]:
        assert main(["keys", "create", "--name", "k", "--user", "ag@example.com", *extra,
                     "--db", scanlet_db]) == 1  # fmt: skip
        assert capsys.readouterr().err.strip() == f"scanlet: {message}"
    assert main(["keys", "create", "--name", "k", "--user", "nobody@example.com",
                 "--db", scanlet_db]) == 1  # fmt: skip
    assert "no user 'nobody@example.com'" in capsys.readouterr().err
    assert main(["keys", "create", "--name", "k", "--user", "AG@example.com", "--scope", "write",
                 "--tag", "agency-y", "--db", scanlet_db]) == 0  # fmt: skip
    assert main(["keys", "create", "--name", "all", "--user", "ag@example.com",
                 "--db", scanlet_db]) == 0  # fmt: skip
    capsys.readouterr()
    assert main(["keys", "list", "--format", "json", "--db", scanlet_db]) == 0
    keys = json.loads(capsys.readouterr().out)
    user_id = users(scanlet_db, capsys)[0]["id"]
    assert [(k["name"], k["scope"], k["user_id"], k["tags"]) for k in keys] == [
        ("k", "write", user_id, ["agency-y"]),
        # No --tag: the user's own limit.
        ("all", "read", user_id, ["agency-x", "agency-y"]),
    ]
