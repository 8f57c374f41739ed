"""Commands about domains the codes actor accepts: the only way to change them."""

from __future__ import annotations

from typing import Annotated

import msgspec

from scanlet.actors.codes.domains import HOST_NAME_PATTERN, MAX_HOST_LENGTH
from scanlet.actors.codes.routing import Url
from scanlet.actors.events import SYSTEM_BY, By
from scanlet.runtime import Asks
from scanlet.storage.records import DomainRow

__all__ = (
    "CreateDomain",
    "DeleteDomain",
    "DomainChanges",
    "DomainHost",
    "NewDomain",
    "UpdateDomain",
)

DomainHost = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=MAX_HOST_LENGTH,
        extra_json_schema={"pattern": HOST_NAME_PATTERN},
        description="A DNS name pointing at this server, without scheme, port or path "
        "(stored in lower case, IDNA form); not an IP address.",
        examples=["links.example.com"],
    ),
]
BaseUrl = Annotated[
    Url,
    msgspec.Meta(
        description="The origin short links and QR payloads of the domain's codes are "
        "written with, on the domain's own host (default: https://HOST).",
        examples=["https://links.example.com"],
    ),
]
NotFoundUrl = Annotated[
    Url,
    msgspec.Meta(
        description="Where a scan of an unknown or deleted slug on this domain goes (302, "
        "still recorded as an orphan scan); {slug} is replaced by the slug. Default: "
        "SCANLET_NOT_FOUND_URL.",
        examples=["https://example.com/missing?code={slug}"],
    ),
]
RootUrl = Annotated[
    Url,
    msgspec.Meta(
        description="Where GET / on this domain goes (302). Default: SCANLET_ROOT_URL.",
        examples=["https://example.com/"],
    ),
]


class CreateDomain(
    msgspec.Struct, Asks[DomainRow], frozen=True, kw_only=True, forbid_unknown_fields=True
):
    """Register a domain."""

    host: DomainHost
    base_url: BaseUrl | None = None
    not_found_url: NotFoundUrl | None = None
    root_url: RootUrl | None = None


class DomainChanges(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A partial update: fields left out stay as they are; ``null`` clears optional ones."""

    base_url: BaseUrl | msgspec.UnsetType = msgspec.UNSET
    not_found_url: NotFoundUrl | msgspec.UnsetType | None = msgspec.UNSET
    root_url: RootUrl | msgspec.UnsetType | None = msgspec.UNSET


class NewDomain(msgspec.Struct, Asks[DomainRow], frozen=True):
    """Register a domain as ``command`` says, on behalf of ``by``."""

    command: CreateDomain
    by: By = SYSTEM_BY


class UpdateDomain(msgspec.Struct, Asks[DomainRow], frozen=True):
    """Apply ``changes`` to the domain ``host``, on behalf of ``by``."""

    host: str
    changes: DomainChanges
    by: By = SYSTEM_BY


class DeleteDomain(msgspec.Struct, Asks[None], frozen=True):
    """Remove the domain ``host`` (refused while it has live codes), on behalf of ``by``."""

    host: str
    by: By = SYSTEM_BY
