"""The dashboard's URLs of a code: its slug in the path, its domain in ``?domain=`` (as the
API names a code), so a page of a code on another domain never opens the default domain's
code of the same slug."""

from __future__ import annotations

from urllib.parse import quote, urlencode

from scanlet.actors.codes.keys import split_key

__all__ = ("code_url", "key_url")


def code_url(slug: str, domain: str | None, suffix: str = "", **query: str) -> str:
    """``/dashboard/codes/SLUG[SUFFIX]?domain=HOST&...`` (no ``domain`` when None)."""
    params = {**({"domain": domain} if domain else {}), **query}
    path = f"/dashboard/codes/{quote(slug, safe='')}{suffix}"
    return f"{path}?{urlencode(params)}" if params else path


def key_url(key: str, suffix: str = "", **query: str) -> str:
    """``code_url`` of the code ``key`` (``scanlet.actors.codes.keys``)."""
    host, slug = split_key(key)
    return code_url(slug, host, suffix, **query)
