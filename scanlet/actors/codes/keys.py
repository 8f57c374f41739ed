"""A code's key: the one name the catalogue, the log, scans and figures know a code by.

A slug is unique per domain, so a code is named by its domain and its slug together. The
default domain (the host of ``SCANLET_BASE_URL``) keeps the bare slug as its key, so every
code made before domains existed, and every code on a box that never registers one, is
named exactly as before; a code on another domain is ``host/slug``. A slug never contains
``/``, so the two forms cannot meet. ``host/`` (an empty slug) names the domain itself
where a change notice needs a key (another instance reloads that domain).
"""

from __future__ import annotations

__all__ = ("code_key", "domain_of_key", "is_domain_key", "slug_of_key", "split_key")


def code_key(host: str | None, slug: str) -> str:
    """The key of ``slug`` on ``host`` (None: the default domain): ``"menu"`` or
    ``"links.example/menu"``."""
    return slug if host is None else f"{host}/{slug}"


def split_key(key: str) -> tuple[str | None, str]:
    """``(host, slug)`` of a key; the host is None on the default domain."""
    host, _, slug = key.rpartition("/")
    return (host or None), slug


def slug_of_key(key: str) -> str:
    """The slug part of a key (what a short link ends in)."""
    return key.rpartition("/")[2]


def domain_of_key(key: str) -> str | None:
    """The host part of a key, None on the default domain."""
    return key.rpartition("/")[0] or None


def is_domain_key(key: str) -> bool:
    """Whether ``key`` names a domain (``host/``) rather than a code."""
    return key.endswith("/")
