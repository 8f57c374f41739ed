"""How the API names a code: ``/api/v1/codes/{slug}`` on the default domain,
``/api/v1/codes/{slug}?domain=HOST`` on another (as Shlink does).

Every authenticated route with a ``{slug}`` in its path goes through ``address_code``
before its handler runs (``endpoint._wrap``), which turns the pair into the code's key
(``scanlet.actors.codes.keys``) in the path parameters: handlers, the tag check and the
stores then name the code by its key and need not know about domains.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from scanlet.actors.codes.domains import HOST_NAME_PATTERN, MAX_HOST_LENGTH
from scanlet.actors.codes.errors import InvalidField
from scanlet.actors.codes.keys import code_key
from scanlet.http.params import invalid, query_str
from scanlet.http.services import services

__all__ = ("DOMAIN_DESCRIPTION", "DOMAIN_SCHEMA", "address_code", "query_domain")

DOMAIN_SCHEMA: dict[str, Any] = {
    "type": "string",
    "maxLength": MAX_HOST_LENGTH + 1,
    "pattern": HOST_NAME_PATTERN,
}
DOMAIN_DESCRIPTION = (
    "The host the code lives on: a registered domain, or the default one (the host of the "
    "server's base URL, also when left out)."
)


def query_domain(request: Request) -> str | None:
    """The registered domain ``?domain=`` names (None: the default domain); 422 naming
    ``domain`` for a host that is malformed or not registered."""
    value = query_str(request, "domain", max_length=MAX_HOST_LENGTH + 1)
    try:
        return services(request).index.domains.resolve(value, "domain")
    except InvalidField as exc:
        raise invalid("domain", exc.msg) from None


def address_code(request: Request) -> str:
    """The key of the code the request names by its slug and ``?domain=``, put in place of
    the slug in the path parameters."""
    key = code_key(query_domain(request), request.path_params["slug"])
    request.path_params["slug"] = key
    return key
