"""The webhook sender port: one signed delivery out, what happened back.

The real sender is ``scanlet.adapters.webhook_http.HttpxSender``; tests hand in their own.
"""

from __future__ import annotations

from typing import Protocol

import msgspec

__all__ = ("Outgoing", "SendResult", "WebhookSender")


class Outgoing(msgspec.Struct, frozen=True):
    """One delivery attempt to make."""

    url: str
    headers: dict[str, str]
    body: bytes


class SendResult(msgspec.Struct, frozen=True):
    """What an attempt got: a status code, or an error saying why there is none."""

    status_code: int | None
    error: str | None
    duration: float


class WebhookSender(Protocol):
    """Sends deliveries (the port the delivery workers use)."""

    async def send(self, outgoing: Outgoing) -> SendResult:
        """POST one delivery; never raises for a failure of the receiver or the network."""
        ...

    async def aclose(self) -> None:
        """Release connections."""
        ...
