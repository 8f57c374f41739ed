"""A card with long lines, through the API on either backend: the static code's payload and
the tracked code's .vcf are folded at 75 octets, and the QR image decodes to the same card."""

from __future__ import annotations

import re

from tests.http.kinds.conftest import decoded_png
from tests.http.routing.conftest import Api

ADDRESS = "Königin-Luise-Straße 6-8, Gebäude Süd, 3. Obergeschoß, Zimmer 301, 14195 Berlin"
CARD = {
    "name": "Zoë Ångström-Øvergaard",
    "org": "Département des Études Économiques et Sociales de l'Université de Genève",
    "address": ADDRESS,
    "email": "zoe@example.com",
}


def unfold(card: str) -> str:
    return re.sub(r"\r\n[ \t]", "", card)


def assert_folded(card: str) -> None:
    for line in card.encode().split(b"\r\n"):
        assert len(line) <= 75, line
        line.decode()  # never a UTF-8 sequence cut in two
    assert "ADR:;;Königin-Luise-Straße 6-8\\, Gebäude Süd\\, 3. Obergeschoß\\, Zimmer 301\\, " in (
        unfold(card)
    )
    assert "\r\n " in card


def test_a_static_card_is_folded_and_its_image_reads_back_the_same_card(api: Api) -> None:
    code = api.code(kind="vcard", content=CARD, slug="zoe")
    payload = code["qr_payload"]
    assert_folded(payload)
    assert "ORG:Département des Études Économiques et Sociales de l'Université de Genève" in (
        unfold(payload)
    )
    assert decoded_png(api, "zoe") == [payload]
    # The content is stored as given: only its text form is folded.
    assert code["content"]["address"] == ADDRESS


def test_a_tracked_card_s_vcf_is_folded(api: Api) -> None:
    api.code(kind="vcard", content=CARD, tracked=True, slug="zoe-card")
    reply = api.scan("/zoe-card")
    assert reply.status_code == 200, reply.text
    assert_folded(reply.text)
    static = api.code(kind="vcard", content=CARD)
    assert reply.text == static["qr_payload"]
