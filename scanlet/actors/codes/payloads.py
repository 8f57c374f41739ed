"""The standard text each kind of content is written as, built with segno's helpers where
segno has one (``segno.helpers``), so the formats scanners read are written as segno writes
them: ``WIFI:...;;``, a vCard 3.0, ``geo:lat,lng``, ``SMSTO:number:body``, ``mailto:``,
``tel:``.
"""

from __future__ import annotations

from segno import helpers

from scanlet.actors.codes.errors import InvalidField
from scanlet.actors.codes.kinds import (
    Content,
    EmailContent,
    GeoContent,
    SmsContent,
    TelContent,
    TextContent,
    VcardContent,
    WifiContent,
)
from scanlet.actors.codes.vcard_folding import fold_vcard

__all__ = ("MAX_PAYLOAD_BYTES", "check_payload", "content_payload", "vcard_text")

#: The most bytes a static code's payload may have: version 18 at error correction M (89
#: modules a side; version 40 holds 2331). Denser codes need a large print and a steady hand
#: to scan, and drawing and decode-checking one costs the server about a second of CPU
#: at 1000 bytes (measured: 0.06 s for a 30-byte link, 0.6 s at 300 bytes on a loaded box).
MAX_PAYLOAD_BYTES = 512


def _vcard_escape(text: str) -> str:
    """A backslash as vCard 3.0 writes one (RFC 2426 section 4): segno escapes ``,`` and
    ``;`` but leaves ``\\`` as it is, which a reader would take for an escape."""
    return text.replace("\\", "\\\\")


def vcard_text(card: VcardContent) -> str:
    """The card as a vCard 3.0 (CRLF lines, folded at 75 octets): ``N`` from the name's last
    word (family name) and the words before it (given names), ``FN`` the name as written,
    the address as the street of ``ADR``. The static code's payload and the tracked code's
    ``.vcf`` are both this text."""
    given, _, family = card.name.rpartition(" ")
    # N is structured (family;given): its parts are escaped here, segno writes it as given.
    name = ";".join(
        _vcard_escape(part).replace(",", "\\,").replace(";", "\\;") for part in (family, given)
    )

    def escaped(value: str | None) -> str | None:
        return None if value is None else _vcard_escape(value)

    card_text = str(
        helpers.make_vcard_data(
            name,
            _vcard_escape(card.name),
            org=escaped(card.org),
            title=escaped(card.title),
            phone=escaped(card.phone),
            email=escaped(card.email),
            url=escaped(card.url),
            street=escaped(card.address),
        )
    )
    return fold_vcard(card_text)


def _wifi(wifi: WifiContent) -> str:
    data = str(
        helpers.make_wifi_data(
            wifi.ssid, password=wifi.password, security=wifi.security, hidden=wifi.hidden
        )
    )
    # The ZXing Wi-Fi format also escapes ',' (segno escapes \ ; " and :); the framing has
    # no comma of its own, so every comma here is one of the values'.
    data = data.replace(",", "\\,")
    # segno ends a hidden network's "H:true;" without the record's closing ';'.
    return data + ";" if wifi.hidden else data


def _number(number: str) -> str:
    """A phone number as a tel: URI writes it: visual separators but no spaces (RFC 3966)."""
    return number.replace(" ", "")


def content_payload(content: Content) -> str:
    """The text a static code's QR image encodes for ``content``."""
    if isinstance(content, WifiContent):
        return _wifi(content)
    if isinstance(content, VcardContent):
        return vcard_text(content)
    if isinstance(content, GeoContent):
        return str(helpers.make_geo_data(content.lat, content.lng))
    if isinstance(content, SmsContent):
        # The SMSTO: form ZXing and the phone cameras read (segno has no helper for it).
        body = content.body or ""
        return f"SMSTO:{_number(content.number)}:{body}"
    if isinstance(content, EmailContent):
        return str(
            helpers.make_make_email_data(content.to, subject=content.subject, body=content.body)
        )
    if isinstance(content, TelContent):
        return f"tel:{_number(content.number)}"
    assert isinstance(content, TextContent)
    return content.text


def check_payload(content: Content) -> str:
    """``content_payload``, if it fits a QR code at error correction M; raise InvalidField."""
    payload = content_payload(content)
    if len(payload.encode()) > MAX_PAYLOAD_BYTES:
        raise InvalidField(
            "content",
            f"is too long for a QR code that prints and scans well (at most "
            f"{MAX_PAYLOAD_BYTES} bytes encoded)",
        )
    return payload
