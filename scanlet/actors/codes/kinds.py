"""Codes that are not links: the kinds a code can be, the content each kind holds, and the
rules that content obeys.

A ``url`` code (the default) is a short link that redirects. Every other kind is *static*:
its QR image holds the content itself (a Wi-Fi login, a contact card, a place...), so no
scan ever reaches the server and none can be counted. A ``vcard`` code may instead be
``tracked``: a short link whose scans are recorded and answered with the card as a ``.vcf``
file. The payload each kind's image encodes is built in ``payloads``.

Every length, count and range is declared on the types, so msgspec checks it while decoding
and the OpenAPI document says it; the rules that need code (printable text, an SSID's size
in bytes, a Wi-Fi password that goes with its security) are in ``check_content``. Either way
a refusal is ``InvalidField`` naming the field by its path (``content.ssid``).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated, Any, Literal, get_args

import msgspec

from scanlet.actors.codes.errors import InvalidField
from scanlet.actors.codes.patterns import MULTI_LINE_PATTERN, TARGET_PATTERN, TITLE_PATTERN
from scanlet.actors.codes.validation import UNPRINTABLE, validate_target

__all__ = (
    "CONTENT_TYPES",
    "KINDS",
    "MULTI_LINE",
    "NO_REDIRECT_FIELDS",
    "NO_SCAN_FIELDS",
    "Content",
    "EmailContent",
    "GeoContent",
    "Kind",
    "SmsContent",
    "TelContent",
    "TextContent",
    "VcardContent",
    "WifiContent",
    "check_content",
    "content_of",
    "is_tracked",
)

Kind = Literal["url", "wifi", "vcard", "geo", "sms", "email", "tel", "text"]
KINDS: tuple[str, ...] = get_args(Kind)

#: Fields a code that redirects nowhere (every kind but url) leaves out: it has no target
#: to choose, so nothing to route or protect.
NO_REDIRECT_FIELDS: tuple[str, ...] = (
    "target",
    "redirect_status",
    "rules",
    "split",
    "forward_query",
    "password",
)
#: Fields a static code (no scans reach the server) leaves out too: nothing can enforce them.
NO_SCAN_FIELDS: tuple[str, ...] = ("fallback_url", "max_scans", "valid_from", "valid_until")

#: An 802.11 SSID is at most 32 octets (checked in UTF-8 bytes by ``check_content``).
MAX_SSID_BYTES = 32
_PHONE = r"^\+?[0-9 ().-]*[0-9][0-9 ().-]*$"
# An address a mailto: URI carries without percent-encoding (RFC 6068 section 2): the
# common local-part characters and a host name. Deliberately narrower than RFC 5322.
_EMAIL = r"^[A-Za-z0-9._+-]{1,64}@[A-Za-z0-9-]{1,63}(\.[A-Za-z0-9-]{1,63})+$"

# Printable text: the patterns describe it to clients; ``check_content`` enforces it and
# says which character is wrong (a pattern's refusal would quote the pattern).
_ONE_LINE = {"pattern": TITLE_PATTERN}
_LINES = {"pattern": MULTI_LINE_PATTERN}
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=100, extra_json_schema=_ONE_LINE)]
Line = Annotated[str, msgspec.Meta(min_length=1, max_length=100, extra_json_schema=_ONE_LINE)]
Phone = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=32,
        pattern=_PHONE,
        description="Digits, with an optional leading + and spaces, dots, dashes or "
        "brackets between them.",
        examples=["+49 30 1234567"],
    ),
]
Email = Annotated[str, msgspec.Meta(max_length=254, pattern=_EMAIL, examples=["hello@example.com"])]
ContentUrl = Annotated[
    str,
    msgspec.Meta(
        max_length=300,
        extra_json_schema={"pattern": TARGET_PATTERN},
        description="An absolute http(s) URL (the rules of a code's target).",
        examples=["https://example.com"],
    ),
]


class WifiContent(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A Wi-Fi network to join: ``WIFI:T:WPA;S:ssid;P:password;;``."""

    ssid: Annotated[
        str,
        msgspec.Meta(
            min_length=1,
            max_length=32,
            description="The network's name (at most 32 bytes).",
            extra_json_schema=_ONE_LINE,
        ),
    ]
    password: (
        Annotated[
            str,
            msgspec.Meta(
                min_length=1,
                max_length=63,
                description="Required for WPA and WEP; left out for nopass.",
                extra_json_schema=_ONE_LINE,
            ),
        ]
        | None
    ) = None
    security: Annotated[
        Literal["WPA", "WEP", "nopass"],
        msgspec.Meta(description="WPA (also WPA2/WPA3), WEP, or nopass for an open network."),
    ] = "WPA"
    hidden: bool = False


class VcardContent(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A contact card (vCard 3.0)."""

    name: Annotated[
        Name, msgspec.Meta(description="The full name; the last word is the family name.")
    ]
    org: Line | None = None
    title: Line | None = None
    phone: Phone | None = None
    email: Email | None = None
    url: ContentUrl | None = None
    address: (
        Annotated[str, msgspec.Meta(min_length=1, max_length=150, extra_json_schema=_ONE_LINE)]
        | None
    ) = None


class GeoContent(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A place: ``geo:lat,lng`` (WGS 84 degrees)."""

    lat: Annotated[float, msgspec.Meta(ge=-90, le=90, examples=[52.5163])]
    lng: Annotated[float, msgspec.Meta(ge=-180, le=180, examples=[13.3777])]


class SmsContent(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A text message to write: ``SMSTO:number:body``."""

    number: Phone
    body: Annotated[str, msgspec.Meta(max_length=300, extra_json_schema=_LINES)] | None = None


class EmailContent(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """An email to write: ``mailto:to?subject=...&body=...``."""

    to: Email
    subject: Annotated[str, msgspec.Meta(max_length=150, extra_json_schema=_ONE_LINE)] | None = None
    body: Annotated[str, msgspec.Meta(max_length=300, extra_json_schema=_LINES)] | None = None


class TelContent(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A number to call: ``tel:number``."""

    number: Phone


class TextContent(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Plain text, shown by the scanner as it is."""

    text: Annotated[str, msgspec.Meta(min_length=1, max_length=500, extra_json_schema=_LINES)]


Content = (
    WifiContent | VcardContent | GeoContent | SmsContent | EmailContent | TelContent | TextContent
)
CONTENT_TYPES: dict[str, type[Content]] = {
    "wifi": WifiContent,
    "vcard": VcardContent,
    "geo": GeoContent,
    "sms": SmsContent,
    "email": EmailContent,
    "tel": TelContent,
    "text": TextContent,
}
#: Fields that may hold several lines (a message's body, a text): newlines and tabs are
#: allowed there, every other control character nowhere.
MULTI_LINE = frozenset({"body", "text"})
_LINE_BREAKS = frozenset("\n\r\t")
_NAMED_FIELD = re.compile(r"Object (?:missing required|contains unknown) field `(\w{1,64})`")


def content_of(kind: str, raw: Any) -> Content:
    """The content ``raw`` (a decoded JSON object) holds for a code of ``kind``, checked;
    raise InvalidField naming ``content`` or the field within it."""
    content_type = CONTENT_TYPES.get(kind)
    if content_type is None:
        raise InvalidField("content", f"a {kind} code has no content")
    if not isinstance(raw, dict):
        raise InvalidField("content", f"must be an object with the fields of a {kind} code")
    try:
        content = msgspec.convert(raw, content_type)
    except msgspec.ValidationError as exc:
        message, _, where = str(exc).partition(" - at `$")
        field = "content" + where.rstrip("`")
        # A field missing or unknown is named in the message, not the path: name it there.
        named = _NAMED_FIELD.fullmatch(message)
        if named is not None:
            field = f"{field}.{named.group(1)}"
        raise InvalidField(field, message) from None
    return check_content(content)


def _printable(field: str, text: str) -> None:
    multi_line = field.rpartition(".")[2] in MULTI_LINE
    for char in text:
        if multi_line and char in _LINE_BREAKS:
            continue
        if unicodedata.category(char) in UNPRINTABLE:
            raise InvalidField(field, f"must not contain control characters ({char!r})")


def check_content(content: Content) -> Content:
    """``content`` if it obeys the rules its type cannot state; raise InvalidField."""
    for name in content.__struct_fields__:
        value = getattr(content, name)
        if isinstance(value, str):
            _printable(f"content.{name}", value)
    if isinstance(content, WifiContent):
        if len(content.ssid.encode()) > MAX_SSID_BYTES:
            raise InvalidField("content.ssid", f"must be at most {MAX_SSID_BYTES} bytes in UTF-8")
        if content.security == "nopass" and content.password is not None:
            raise InvalidField("content.password", "must be left out when security is nopass")
        if content.security != "nopass" and content.password is None:
            raise InvalidField("content.password", f"is required with security {content.security}")
    elif isinstance(content, VcardContent) and content.url is not None:
        validate_target(content.url, "content.url")
    return content


def is_tracked(kind: str, tracked: bool | None) -> bool:
    """Whether scans of a code of ``kind`` reach the server and are counted; raise
    InvalidField("tracked") for a combination that cannot be: a url code is always
    tracked, a vcard code when asked, the other kinds never."""
    if kind == "url":
        if tracked is False:
            raise InvalidField("tracked", "a url code is always tracked (its scans are counted)")
        return True
    if kind == "vcard":
        return bool(tracked)
    if tracked:
        raise InvalidField("tracked", f"a {kind} code is static: only a vcard code can be tracked")
    return False
