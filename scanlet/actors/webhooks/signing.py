"""Standard Webhooks signing: secrets, the body every delivery carries, and its headers.

See https://www.standardwebhooks.com/: the signature is ``v1,`` + base64 of HMAC-SHA256 over
``{webhook-id}.{webhook-timestamp}.{body}``, keyed with the base64-decoded part of the
``whsec_`` secret. The reference libraries verify what is made here (tested).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import typing
from datetime import datetime
from typing import Any

import msgspec

from scanlet.actors.events import AnyEvent, By, decode_event, event_data
from scanlet.storage.records import StoredEvent

__all__ = (
    "EVENT_TYPES",
    "SECRET_PREFIX",
    "EventBody",
    "event_body",
    "new_secret",
    "sign",
    "signed_headers",
)

SECRET_PREFIX = "whsec_"
#: Random bytes in a new secret (the specification asks for 24 to 64).
SECRET_BYTES = 32

#: Every event type an endpoint or a stream can ask for, from the domain event union.
EVENT_TYPES: tuple[str, ...] = tuple(
    str(member.__struct_config__.tag) for member in typing.get_args(AnyEvent)
)


class EventBody(msgspec.Struct, frozen=True, omit_defaults=True):
    """What a webhook delivery and a stream message carry, fields in this order."""

    type: str
    id: str
    seq: int
    occurred_at: str
    data: dict[str, Any]
    #: Who caused it (``{kind, id}``), when the event records it.
    by: dict[str, str] | None = None


_encoder = msgspec.json.Encoder()
_UNKNOWN_ENVELOPE = ("id", "type", "occurred_at", "by")


def _by(by: By | None) -> dict[str, str] | None:
    return None if by is None else {"kind": by.kind, "id": by.id}


def event_body(event: StoredEvent) -> bytes:
    """The JSON body for a committed event: ``{type, id, seq, occurred_at, data, by}``."""
    try:
        decoded = decode_event(event.payload)
        data, by = event_data(decoded), _by(decoded.by)
    except msgspec.ValidationError:
        # A type this build does not know (written by a newer one): pass its fields on as is.
        raw = msgspec.json.decode(event.payload)
        data = {k: v for k, v in raw.items() if k not in _UNKNOWN_ENVELOPE}
        by = raw.get("by")
    return _encoder.encode(EventBody(event.type, event.id, event.seq, event.occurred_at, data, by))


def new_secret() -> str:
    """A fresh signing secret: ``whsec_`` + base64 of 32 bytes from the OS CSPRNG."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def _key(secret: str) -> bytes:
    raw = secret.removeprefix(SECRET_PREFIX)
    return base64.b64decode(raw + "=" * (-len(raw) % 4))


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` value: ``v1,<base64 HMAC-SHA256(id.timestamp.body)>``."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signed_headers(secret: str, message_id: str, at: datetime, body: bytes) -> dict[str, str]:
    """The headers of one delivery attempt sent at ``at``."""
    timestamp = int(at.timestamp())
    return {
        "content-type": "application/json",
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, message_id, timestamp, body),
    }
