"""A tracked vcard code: a short link whose scans are recorded like any code's and answered
with the card as a .vcf download, by both scan entrances."""

from __future__ import annotations

import pytest

from tests.http.kinds.conftest import decoded_png
from tests.http.routing.conftest import Api

CARD = {"name": "Jane Doe", "phone": "+49 30 123", "email": "jane@example.com"}
VCF = (
    "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Doe;Jane\r\nFN:Jane Doe\r\nEMAIL:jane@example.com\r\n"
    "TEL:+49 30 123\r\nEND:VCARD\r\n"
)


@pytest.mark.parametrize("traced", [False, True])
def test_a_scan_is_recorded_and_answered_with_the_card(api: Api, traced: bool) -> None:
    code = api.code(kind="vcard", content=CARD, tracked=True, slug="jane")
    assert code["tracked"] is True
    assert code["qr_payload"] == "http://qr.test/q/jane"
    assert code["short_url"] == "http://qr.test/jane"
    assert decoded_png(api, "jane") == ["http://qr.test/q/jane"]
    for path in ("/q/jane", "/jane"):
        reply = api.scan(path, traced=traced)
        assert reply.status_code == 200, reply.text
        assert reply.headers["content-type"] == "text/vcard; charset=utf-8"
        assert reply.headers["content-disposition"] == 'attachment; filename="jane.vcf"'
        assert reply.text == VCF
    scans = api.scans("jane", expect=2)
    assert [(s["source"], s["outcome"], s["target"]) for s in scans] == [
        ("qr", "card", None),
        ("link", "card", None),
    ]
    assert api.client.get("/api/v1/codes/jane", headers=api.headers).json()["scans"] == 2
    # HEAD answers the same and records nothing.
    assert api.client.head("/jane").status_code == 200
    assert len(api.scans("jane")) == 2


def test_a_changed_card_is_served_at_once(api: Api) -> None:
    api.code(kind="vcard", content=CARD, tracked=True, slug="jane")
    changed = api.patch("jane", content={"name": "Jane Roe"})
    assert changed.status_code == 200, changed.text
    # The printed code stays the same link; the card it serves is the new one.
    assert changed.json()["qr_payload"] == "http://qr.test/q/jane"
    assert "FN:Jane Roe\r\n" in api.scan("/q/jane").text


def test_a_used_up_or_disabled_card_falls_back_or_is_gone(api: Api) -> None:
    api.code(kind="vcard", content=CARD, tracked=True, slug="once", max_scans=1)
    assert api.scan("/once").status_code == 200
    assert api.scan("/once").status_code == 410
    api.code(
        kind="vcard",
        content=CARD,
        tracked=True,
        slug="fb",
        max_scans=1,
        fallback_url="https://example.com/over",
    )
    assert api.scan("/fb").status_code == 200
    assert api.went("/fb") == "https://example.com/over"
    assert api.patch("fb", enabled=False).status_code == 200
    assert api.went("/fb") == "https://example.com/over"
    outcomes = [s["outcome"] for s in api.scans("fb", expect=3)]
    assert outcomes == ["card", "fallback", "fallback"]


def test_an_untracked_card_is_static(api: Api) -> None:
    code = api.code(kind="vcard", content=CARD)
    assert code["tracked"] is False
    assert code["qr_payload"] == VCF
    assert decoded_png(api, code["slug"]) == [VCF]
    assert api.scan(f"/{code['slug']}").status_code == 404
