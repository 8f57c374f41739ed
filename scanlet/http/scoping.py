"""Tag and domain limits at the edge: a key or user limited to some tags sees and makes only
codes that carry one of them, one limited to some domains only codes on one of those, and
one limited to both only codes within both. The API's routes, the dashboard's pages and the
command line all ask here (``Principal.sees`` decides for one code).

A code outside the limit answers exactly as a code that does not exist (404), so a limited
agency cannot learn which other slugs are in use. What spans every code is narrowed to the
principal's codes instead: the all-codes stats are summed over them (``limited_codes``),
orphan scans (of no code) are an empty list, a stream of every code is filtered event by
event, and webhook endpoints are the principal's own, delivering only its codes' events.
Users and domains are refused to a limited principal (403): an account is not a code, and a
domain's page and counts span every code on it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import TypedDict

from scanlet.actors.access.roles import DEFAULT_DOMAIN, Principal
from scanlet.actors.codes.domain_index import DomainIndex
from scanlet.actors.codes.errors import InvalidField
from scanlet.actors.codes.messages import CreateCode
from scanlet.http.problems import Problem
from scanlet.http.services import Services
from scanlet.storage.ports import CodeRepository
from scanlet.storage.records import EndpointRow

__all__ = (
    "NO_LIMIT",
    "CodeLimit",
    "PageLimit",
    "WebhookLimit",
    "check_code_tags",
    "check_new_code",
    "code_limit",
    "limited_codes",
    "owns_webhook",
    "refuse_if_limited",
    "sees_slug",
    "visible_code",
    "visible_slug",
    "webhook_limit",
)


class PageLimit(TypedDict):
    """The keyword arguments of ``CodeRepository.page`` that carry a limit."""

    within: tuple[str, ...] | None
    domains: tuple[str, ...] | None


@dataclass(frozen=True, slots=True)
class CodeLimit:
    """What a list of codes is limited to: ``tags`` and ``domains`` (``""`` the default
    domain); None: no limit. Sorted, for a stable query."""

    tags: tuple[str, ...] | None = None
    domains: tuple[str, ...] | None = None

    def page(self) -> PageLimit:
        """The limit as ``CodeRepository.page`` takes it (``**limit.page()``)."""
        return {"within": self.tags, "domains": self.domains}


#: No limit: every code.
NO_LIMIT = CodeLimit()


def code_limit(principal: Principal) -> CodeLimit:
    """The limit of every list of codes ``principal`` asks for."""
    return CodeLimit(
        None if principal.tags is None else tuple(sorted(principal.tags)),
        None if principal.domains is None else tuple(sorted(principal.domains)),
    )


async def limited_codes(svc: Services, principal: Principal) -> tuple[str, ...] | None:
    """The code keys a view of every code spans for ``principal`` (deleted codes by the
    tags they had), or None for no limit: every code."""
    if not principal.limited:
        return None
    return tuple(await svc.storage.codes.slugs_within(principal.tags, principal.domains))


def check_code_tags(principal: Principal, tags: Iterable[str]) -> None:
    """Refuse (422 naming ``tags``) a code that would leave the principal's limit: a limited
    principal creates codes, and changes their tags, only within it."""
    if principal.tags is None:
        return
    if principal.tags.isdisjoint(tag.strip() for tag in tags):
        allowed = ", ".join(sorted(principal.tags)) or "none"
        raise InvalidField("tags", f"must include one of the tags this key may use ({allowed})")


def check_new_code(principal: Principal, command: CreateCode, hosts: DomainIndex) -> None:
    """Refuse a new code the principal could not see once made: outside its tags (422
    naming ``tags``) or on a domain outside its domains (422 naming ``domain``; a code
    without ``domain`` goes on the default domain, so a principal without it names one)."""
    check_code_tags(principal, command.tags)
    if principal.domains is None:
        return
    host = hosts.resolve(command.domain, "domain")
    if (host or DEFAULT_DOMAIN) not in principal.domains:
        allowed = ", ".join(
            sorted(hosts.default_host if d == DEFAULT_DOMAIN else d for d in principal.domains)
        )
        raise InvalidField(
            "domain", f"must be one of the domains this key may use ({allowed or 'none'})"
        )


def sees_slug(svc: Services, principal: Principal) -> Callable[[str], Awaitable[bool]]:
    """Whether ``principal`` may see the code ``slug`` (its tags now; deleted codes by the
    tags they had), for filtering a stream of events."""
    return _sees_code(svc.storage.codes, principal)


def _sees_code(codes: CodeRepository, principal: Principal) -> Callable[[str], Awaitable[bool]]:
    async def sees(slug: str) -> bool:
        row = await codes.find(slug)
        return row is not None and principal.sees(row.tags, row.slug)

    return sees


async def visible_slug(svc: Services, principal: Principal, slug: str) -> None:
    """404 unless the code ``slug`` is within the principal's limit (deleted codes count by
    the tags they had); nothing to check for a principal without a limit."""
    await visible_code(svc.storage.codes, principal, slug)


async def visible_code(codes: CodeRepository, principal: Principal, slug: str) -> None:
    """``visible_slug`` on the codes catalogue itself (the command line has no services)."""
    if not principal.limited:
        return
    if not await _sees_code(codes, principal)(slug):
        raise Problem(404, f"There is no code with slug {slug!r}.")


def refuse_if_limited(principal: Principal, what: str) -> None:
    """403 for a limited principal on a route that spans every code."""
    if principal.limited:
        limit = "tags" if principal.tags is not None else "domains"
        raise Problem(403, f"A key or user limited to {limit} cannot use {what}.")


def _account(principal: Principal) -> str:
    """Whose a limited principal's webhook endpoints are: its user's (any of their keys, or
    their dashboard session), or the key's own for a key of nobody."""
    return principal.user_id or principal.id


@dataclass(frozen=True, slots=True)
class WebhookLimit:
    """What a new webhook endpoint carries of its maker: the account that owns it and the
    tag and domain limits of the events it receives (None: no such limit)."""

    owner: str | None = None
    tags: frozenset[str] | None = None
    domains: frozenset[str] | None = None


def webhook_limit(principal: Principal) -> WebhookLimit:
    """The limits a new webhook endpoint of ``principal`` carries: none for an unlimited
    one, whose endpoints receive every event they subscribe to."""
    if not principal.limited:
        return WebhookLimit()
    return WebhookLimit(_account(principal), principal.tags, principal.domains)


def _narrower(endpoint: tuple[str, ...] | None, principal: frozenset[str] | None) -> bool:
    """Whether an endpoint's limit is within a principal's (None: no limit)."""
    return principal is None or (endpoint is not None and principal.issuperset(endpoint))


def owns_webhook(principal: Principal, row: EndpointRow) -> bool:
    """Whether ``principal`` may see and remove the endpoint ``row``: any, without a limit;
    else only its account's, and only those limited within its own tags and domains now (a
    key of the same user with a narrower limit does not see a wider endpoint's deliveries)."""
    if not principal.limited:
        return True
    return (
        row.owner == _account(principal)
        and _narrower(row.tags, principal.tags)
        and _narrower(row.domains, principal.domains)
    )
