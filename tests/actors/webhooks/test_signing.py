"""Deliveries are signed as Standard Webhooks says: the reference library verifies them."""

import base64
from datetime import UTC, datetime

import msgspec
import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from scanlet.actors.events import ScanRecorded, encode_event
from scanlet.actors.webhooks.signing import event_body, new_secret, signed_headers
from scanlet.storage.records import StoredEvent


def stored_scan(seq: int = 7) -> StoredEvent:
    event = ScanRecorded(
        id="0190-scan", occurred_at=datetime(2026, 1, 2, tzinfo=UTC), slug="menu", source="qr"
    )
    return StoredEvent(
        seq,
        event.id,
        "scan.recorded",
        "menu",
        "2026-01-02T00:00:00.000000Z",
        "2026-01-02T00:00:00.000000Z",
        encode_event(event),
        seq,
    )


def test_a_secret_is_whsec_and_at_least_24_random_bytes() -> None:
    secret = new_secret()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) >= 24
    assert new_secret() != secret


def test_the_reference_library_verifies_a_signed_delivery() -> None:
    secret = new_secret()
    body = event_body(stored_scan())
    headers = signed_headers(secret, "0190-scan", datetime.now(UTC), body)
    payload = Webhook(secret).verify(body, headers)
    assert payload["id"] == headers["webhook-id"] == "0190-scan"
    assert headers["webhook-signature"].startswith("v1,")


def test_a_tampered_body_or_another_secret_fails_verification() -> None:
    secret = new_secret()
    body = event_body(stored_scan())
    headers = signed_headers(secret, "0190-scan", datetime.now(UTC), body)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body.replace(b"menu", b"evil"), headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(body, headers)


def test_the_body_is_type_id_seq_occurred_at_and_data() -> None:
    body = msgspec.json.decode(event_body(stored_scan(seq=42)))
    assert list(body) == ["type", "id", "seq", "occurred_at", "data"]
    assert body["type"] == "scan.recorded"
    assert body["seq"] == 42
    assert body["occurred_at"] == "2026-01-02T00:00:00.000000Z"
    assert body["data"]["slug"] == "menu"
    assert body["data"]["source"] == "qr"
    assert "id" not in body["data"]


def test_an_old_webhook_disabled_event_stored_with_its_url_is_sent_without_it() -> None:
    # Events written before endpoints were named by id only still hold the URL: the body
    # that streams and webhooks carry must not show it again.
    payload = (
        b'{"type":"webhook.disabled","id":"0190-off","occurred_at":"2026-01-02T00:00:00Z",'
        b'"endpoint_id":"wh_1","url":"https://hooks.example/in?token=s3cret",'
        b'"reason":"the endpoint answered 410 Gone"}'
    )
    stored = StoredEvent(
        9,
        "0190-off",
        "webhook.disabled",
        None,
        "2026-01-02T00:00:00.000000Z",
        "2026-01-02T00:00:00.000000Z",
        payload,
        9,
    )
    body = msgspec.json.decode(event_body(stored))
    assert body["data"] == {"endpoint_id": "wh_1", "reason": "the endpoint answered 410 Gone"}
