"""Errors of the accounts layer: a small tree the HTTP layer and the CLI turn into answers."""

from __future__ import annotations

__all__ = (
    "AccountError",
    "AccountNotFound",
    "EmailTaken",
    "InvalidAccountField",
    "LastOwnerLeft",
    "NotAllowed",
)


class AccountError(Exception):
    """Raised when an operation on users or keys cannot be carried out; base of this tree."""


class InvalidAccountField(AccountError):
    """Raised when a field (email, password, role, tags, scope) has an unacceptable value."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.msg = message


class AccountNotFound(AccountError):
    """Raised when no user has the given id or email."""

    def __init__(self, who: str) -> None:
        super().__init__(f"no user {who!r}")
        self.who = who


class EmailTaken(AccountError):
    """Raised when another user already has the email."""

    def __init__(self, email: str) -> None:
        super().__init__(f"a user with email {email!r} already exists")
        self.email = email


class NotAllowed(AccountError):
    """Raised when the principal's role does not allow the change (only an owner manages
    owners; nobody grants more than they have)."""


class LastOwnerLeft(AccountError):
    """Raised when a change would leave no enabled owner."""

    def __init__(self) -> None:
        super().__init__("the last owner cannot be removed, disabled or demoted")
