"""``/api/v1/users``: accounts, managed with an admin key (an owner's for owners).

The rules (who may manage whom, the last owner, the password length) are those of
``actors.access.users``, which the CLI and the dashboard go through too; here the request is
decoded and the refusals become problems.
"""

from __future__ import annotations

from typing import Annotated, Literal, TypeVar

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from scanlet.actors.access.domain_limits import MAX_LIMIT_DOMAINS, normal_domains
from scanlet.actors.access.keys import Scope
from scanlet.actors.access.passwords import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH
from scanlet.actors.access.roles import Principal, Role
from scanlet.actors.access.users import EMAIL_PATTERN, MAX_EMAIL_LENGTH
from scanlet.actors.codes.domains import HOST_NAME_PATTERN, MAX_HOST_LENGTH
from scanlet.actors.codes.messages import Tags
from scanlet.http.body import decode_body
from scanlet.http.endpoint import Endpoint, Param, Reply
from scanlet.http.paging import page_in_memory
from scanlet.http.params import page_params
from scanlet.http.responses import json_response
from scanlet.http.services import services
from scanlet.storage.records import UserRow

__all__ = ("NewUser", "UserChanges", "UserList", "user_endpoints")

T = TypeVar("T")
RoleName = Literal["viewer", "editor", "admin", "owner"]
Email = Annotated[
    str,
    msgspec.Meta(
        min_length=5,
        max_length=MAX_EMAIL_LENGTH,
        extra_json_schema={"pattern": EMAIL_PATTERN},
        description="An email address; stored lower-cased, one account per address.",
    ),
]
LimitHost = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=MAX_HOST_LENGTH + 1,
        extra_json_schema={"pattern": HOST_NAME_PATTERN},
        description="A registered domain's host, or the default domain's.",
    ),
]
DomainLimit = Annotated[
    list[LimitHost],
    msgspec.Meta(
        max_length=MAX_LIMIT_DOMAINS,
        description="Only codes on these hosts: registered domains or the default one"
        " (empty: every domain).",
    ),
]
Password = Annotated[
    str,
    msgspec.Meta(
        min_length=MIN_PASSWORD_LENGTH,
        max_length=MAX_PASSWORD_LENGTH,
        description="Never returned or logged; stored as an argon2id hash.",
    ),
]


class NewUser(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The body of ``POST /api/v1/users``; without a password the user cannot sign in yet."""

    email: Email
    role: RoleName
    password: Password | None = None
    tags: Tags = []
    domains: DomainLimit = []


class UserChanges(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A partial change: fields left out stay as they are. A new password or ``disabled``
    ends every dashboard session of the user; a disabled user's keys stop at once."""

    role: RoleName | msgspec.UnsetType = msgspec.UNSET
    disabled: bool | msgspec.UnsetType = msgspec.UNSET
    password: Password | msgspec.UnsetType = msgspec.UNSET
    tags: Tags | msgspec.UnsetType = msgspec.UNSET
    domains: DomainLimit | msgspec.UnsetType = msgspec.UNSET


class UserList(msgspec.Struct, frozen=True):
    """A page of users, oldest first."""

    items: list[UserRow]
    next_cursor: str | None


def _unset_none(value: T | msgspec.UnsetType) -> T | None:
    return None if isinstance(value, msgspec.UnsetType) else value


async def create_user(request: Request) -> Response:
    """Create a user."""
    svc = services(request)
    body = await decode_body(request, NewUser)
    principal: Principal = request.state.principal
    row = await svc.users.create(
        body.email,
        Role.parse(body.role),
        body.password,
        by=principal,
        now=svc.clock.now(),
        tags=body.tags,
        domains=normal_domains(body.domains, svc.index.domains),
    )
    return json_response(row, 201, {"Location": f"/api/v1/users/{row.id}"})


async def list_users(request: Request) -> Response:
    """Every user, oldest first."""
    rows = await services(request).users.list()
    page, next_cursor = page_in_memory(request, rows, lambda row: row.id)
    return json_response(UserList(page, next_cursor))


async def change_user(request: Request) -> Response:
    """Change a user's role, disabled state, password, tag or domain limit."""
    svc = services(request)
    body = await decode_body(request, UserChanges)
    role = _unset_none(body.role)
    domains = _unset_none(body.domains)
    row = await svc.users.change(
        request.path_params["id"],
        by=request.state.principal,
        now=svc.clock.now(),
        role=None if role is None else Role.parse(role),
        disabled=_unset_none(body.disabled),
        password=_unset_none(body.password),
        tags=_unset_none(body.tags),
        domains=None if domains is None else normal_domains(domains, svc.index.domains),
    )
    return json_response(row)


async def delete_user(request: Request) -> Response:
    """Delete a user: their sessions end, their keys are revoked (and kept, for the record)."""
    svc = services(request)
    await svc.users.delete(
        request.path_params["id"], by=request.state.principal, now=svc.clock.now()
    )
    return Response(status_code=204)


def user_endpoints() -> list[Endpoint]:
    """The users routes (admin scope; owners only by owners)."""
    one = [Param("id", "path", {"type": "string", "maxLength": 64}, "The user's id.")]
    return [
        Endpoint(
            "POST",
            "/api/v1/users",
            create_user,
            "Create a user",
            "users",
            scope=Scope.ADMIN,
            # A tag-limited admin could make an unlimited user: users are for unlimited ones.
            spans_all_codes=True,
            body=NewUser,
            extra_problems=[409, 503],
            replies=[Reply(201, "The new user.", UserRow, headers=("Location",))],
        ),
        Endpoint(
            "GET",
            "/api/v1/users",
            list_users,
            "List users",
            "users",
            scope=Scope.ADMIN,
            spans_all_codes=True,
            params=page_params(),
            replies=[Reply(200, "A page of users.", UserList)],
        ),
        Endpoint(
            "PATCH",
            "/api/v1/users/{id}",
            change_user,
            "Change a user",
            "users",
            scope=Scope.ADMIN,
            spans_all_codes=True,
            params=one,
            body=UserChanges,
            extra_problems=[404, 409, 503],
            replies=[Reply(200, "The user after the change.", UserRow)],
        ),
        Endpoint(
            "DELETE",
            "/api/v1/users/{id}",
            delete_user,
            "Delete a user",
            "users",
            scope=Scope.ADMIN,
            spans_all_codes=True,
            params=one,
            extra_problems=[404, 409, 503],
            replies=[Reply(204, "Deleted.", media_type="")],
        ),
    ]
