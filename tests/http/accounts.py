"""Users and their keys made straight on a running test app's database."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from functools import partial

from starlette.applications import Starlette
from starlette.testclient import TestClient

from scanlet.actors.access.keys import Scope
from scanlet.actors.access.roles import SYSTEM, Role
from scanlet.storage.records import UserRow

PASSWORD = "correct horse battery"


def make_user(
    app: Starlette,
    client: TestClient,
    email: str,
    role: Role,
    *,
    password: str | None = PASSWORD,
    tags: Sequence[str] = (),
    domains: Sequence[str] = (),
) -> UserRow:
    """Create a user as the system would (the CLI); ``domains`` are registered hosts."""
    users = app.state.services.users
    row: UserRow = client.portal.call(  # type: ignore[union-attr]
        partial(
            users.create,
            email,
            role,
            password,
            by=SYSTEM,
            now=datetime.now(UTC),
            tags=tags,
            domains=domains,
        )
    )
    return row


def user_key(
    app: Starlette,
    client: TestClient,
    user: UserRow,
    scope: Scope,
    tags: Sequence[str] = (),
    domains: Sequence[str] = (),
) -> str:
    """A key of ``user`` with ``scope``; its token."""
    keys = app.state.services.keys
    created = client.portal.call(  # type: ignore[union-attr]
        partial(
            keys.create,
            f"key-{user.email}",
            scope,
            now=datetime.now(UTC),
            user=user,
            tags=tags,
            domains=domains,
        )
    )
    return str(created.token)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
