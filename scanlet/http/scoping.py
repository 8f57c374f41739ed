"""Tag limits at the edge: a key or user limited to some tags sees and makes only codes that
carry one of them. The API's routes and the dashboard's pages both ask here.

A code outside the limit answers exactly as a code that does not exist (404), so a limited
agency cannot learn which other slugs are in use. What spans every code is narrowed to the
principal's codes instead: the all-codes stats are summed over them (``limited_codes``),
orphan scans (of no code) are an empty list, a stream of every code is filtered event by
event, and webhook endpoints are the principal's own, delivering only its codes' events.
Users are refused to a limited principal (403): an account is not a code.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable

from scanlet.actors.access.roles import Principal
from scanlet.actors.codes.errors import InvalidField
from scanlet.http.problems import Problem
from scanlet.http.services import Services
from scanlet.storage.ports import CodeRepository
from scanlet.storage.records import EndpointRow

__all__ = (
    "check_code_tags",
    "limited_codes",
    "limited_tags",
    "owns_webhook",
    "refuse_if_limited",
    "sees_slug",
    "visible_code",
    "visible_slug",
    "webhook_limit",
)


def limited_tags(principal: Principal) -> tuple[str, ...] | None:
    """The tags a list must be limited to (None: no limit), sorted for a stable query."""
    return None if principal.tags is None else tuple(sorted(principal.tags))


async def limited_codes(svc: Services, principal: Principal) -> tuple[str, ...] | None:
    """The slugs a view of every code spans for ``principal`` (deleted codes by the tags
    they had), or None for no limit: every code."""
    if principal.tags is None:
        return None
    return tuple(await svc.storage.codes.slugs_within(principal.tags))


def check_code_tags(principal: Principal, tags: Iterable[str]) -> None:
    """Refuse (422 naming ``tags``) a code that would leave the principal's limit: a limited
    principal creates codes, and changes their tags, only within it."""
    if principal.tags is None:
        return
    if principal.tags.isdisjoint(tag.strip() for tag in tags):
        allowed = ", ".join(sorted(principal.tags)) or "none"
        raise InvalidField("tags", f"must include one of the tags this key may use ({allowed})")


def sees_slug(svc: Services, principal: Principal) -> Callable[[str], Awaitable[bool]]:
    """Whether ``principal`` may see the code ``slug`` (its tags now; deleted codes by the
    tags they had), for filtering a stream of events."""
    return _sees_code(svc.storage.codes, principal)


def _sees_code(codes: CodeRepository, principal: Principal) -> Callable[[str], Awaitable[bool]]:
    async def sees(slug: str) -> bool:
        row = await codes.find(slug)
        return row is not None and principal.sees(row.tags)

    return sees


async def visible_slug(svc: Services, principal: Principal, slug: str) -> None:
    """404 unless the code ``slug`` is within the principal's limit (deleted codes count by
    the tags they had); nothing to check for a principal without a limit."""
    await visible_code(svc.storage.codes, principal, slug)


async def visible_code(codes: CodeRepository, principal: Principal, slug: str) -> None:
    """``visible_slug`` on the codes catalogue itself (the command line has no services)."""
    if principal.tags is None:
        return
    if not await _sees_code(codes, principal)(slug):
        raise Problem(404, f"There is no code with slug {slug!r}.")


def refuse_if_limited(principal: Principal, what: str) -> None:
    """403 for a limited principal on a route that spans every code."""
    if principal.tags is not None:
        raise Problem(403, f"A key or user limited to tags cannot use {what}.")


def _account(principal: Principal) -> str:
    """Whose a limited principal's webhook endpoints are: its user's (any of their keys, or
    their dashboard session), or the key's own for a key of nobody."""
    return principal.user_id or principal.id


def webhook_limit(principal: Principal) -> tuple[str | None, frozenset[str] | None]:
    """The owner and tag limit a new webhook endpoint of ``principal`` carries: (None,
    None) for an unlimited one, whose endpoints receive every event they subscribe to."""
    if principal.tags is None:
        return None, None
    return _account(principal), principal.tags


def owns_webhook(principal: Principal, row: EndpointRow) -> bool:
    """Whether ``principal`` may see and remove the endpoint ``row``: any, without a tag
    limit; else only its account's, and only those limited within its own tags now (a key
    of the same user with a narrower limit does not see a wider endpoint's deliveries)."""
    if principal.tags is None:
        return True
    return (
        row.owner == _account(principal)
        and row.tags is not None
        and principal.tags.issuperset(row.tags)
    )
