"""Errors of the codes layer: a small tree the HTTP layer maps to problem responses."""

from __future__ import annotations

from typing import Any

__all__ = (
    "CodeError",
    "CodeNotFound",
    "DomainInUse",
    "DomainNotFound",
    "DomainTaken",
    "InvalidField",
    "SlugTaken",
)


class CodeError(Exception):
    """Raised when an operation on codes cannot be carried out; base of this tree."""


class InvalidField(CodeError):
    """Raised when a field of a code (or of a QR image request) has an unacceptable value."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.msg = message

    # Exception pickles through `self.args`, which holds the joined text, not (field, message);
    # rebuild from the parts so the error survives a trip across process boundaries.
    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.field, self.msg))


class SlugTaken(CodeError):
    """Raised when a slug is, or once was, in use: slugs of deleted codes are never reused."""

    def __init__(self, slug: str, *, ignoring_case: bool = False) -> None:
        if ignoring_case:
            # SCANLET_QR_COMPACT: /Q/ links name slugs whatever their case.
            super().__init__(f"slug {slug!r} is already taken (slugs are compared ignoring case)")
        else:
            super().__init__(f"slug {slug!r} is already taken")
        self.slug = slug
        self.ignoring_case = ignoring_case

    def __reduce__(self) -> tuple[Any, ...]:
        return (_slug_taken, (self.slug, self.ignoring_case))


def _slug_taken(slug: str, ignoring_case: bool) -> SlugTaken:
    return SlugTaken(slug, ignoring_case=ignoring_case)


class CodeNotFound(CodeError):
    """Raised when no live code has the given slug."""

    def __init__(self, slug: str) -> None:
        super().__init__(f"no code with slug {slug!r}")
        self.slug = slug

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.slug,))


class DomainNotFound(CodeError):
    """Raised when no registered domain has the given host."""

    def __init__(self, host: str) -> None:
        super().__init__(f"no domain {host!r}")
        self.host = host

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.host,))


class DomainTaken(CodeError):
    """Raised when a domain is registered twice, or the default domain is registered."""

    def __init__(self, host: str) -> None:
        super().__init__(f"domain {host!r} is already registered")
        self.host = host

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.host,))


class DomainInUse(CodeError):
    """Raised when a domain to be removed still has live codes."""

    def __init__(self, host: str, codes: int) -> None:
        super().__init__(f"domain {host!r} still has {codes} code(s)")
        self.host = host
        self.codes = codes

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.host, self.codes))
