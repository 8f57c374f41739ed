"""Domain events: stored lean, decoded whole, shown to integrations with every field."""

from datetime import UTC, datetime

import msgspec

from scanlet.actors.events import (
    CodeCreated,
    CodeState,
    ScanRecorded,
    WebhookDisabled,
    decode_event,
    encode_event,
    event_data,
)

AT = datetime(2026, 11, 27, 13, 0, 1, 250000, tzinfo=UTC)


def test_a_scan_is_stored_without_its_default_fields_and_decodes_whole() -> None:
    scan = ScanRecorded(id="e1", occurred_at=AT, slug="menu", source="qr", ip="1.2.3.0")
    payload = encode_event(scan)
    assert b"null" not in payload
    assert b'"type":"scan.recorded"' in payload
    assert decode_event(payload) == scan


def test_event_data_shows_every_field_defaults_included() -> None:
    scan = ScanRecorded(id="e1", occurred_at=AT, slug="menu", source="qr", ip="1.2.3.0")
    assert event_data(scan) == {
        "slug": "menu",
        "source": "qr",
        "ip": "1.2.3.0",
        "visitor": None,
        "user_agent": None,
        "referrer": None,
        "device_id": None,
        "country": None,
        "data": None,
        # Set on imported visits only (see README, "Importing and moving").
        "bot": None,
        "via": None,
        "target": None,
        "rule": None,
        "outcome": "redirect",
        "excluded": False,
    }
    created = CodeCreated(id="e2", occurred_at=AT, code=CodeState(slug="menu", target="https://x/"))
    data = event_data(created)
    assert data["code"]["tags"] == ()
    assert data["code"]["valid_until"] is None
    assert data["code"]["redirect_status"] == 302
    assert data["code"]["rules"] == ()
    assert data["code"]["fallback_url"] is None


def test_a_routed_scan_keeps_its_target_rule_and_outcome_and_a_plain_one_stays_lean() -> None:
    routed = ScanRecorded(
        id="e1",
        occurred_at=AT,
        slug="menu",
        source="qr",
        target="https://example.com/de",
        rule="rules[0]",
    )
    payload = encode_event(routed)
    assert b'"rule":"rules[0]"' in payload
    # The usual outcome is left out of the stored payload, and decodes back.
    assert b"outcome" not in payload
    assert decode_event(payload) == routed
    fallback = ScanRecorded(
        id="e2", occurred_at=AT, slug="menu", source="qr", rule="fallback_url", outcome="fallback"
    )
    assert decode_event(encode_event(fallback)) == fallback


def test_payloads_stored_with_explicit_nulls_still_decode() -> None:
    old = (
        b'{"type":"scan.recorded","id":"e1","occurred_at":"2026-11-27T13:00:01.25Z",'
        b'"slug":"menu","source":"qr","ip":null,"visitor":null,"user_agent":null,'
        b'"referrer":null,"device_id":null,"country":null,"data":null}'
    )
    assert decode_event(old) == ScanRecorded(id="e1", occurred_at=AT, slug="menu", source="qr")


def test_a_webhook_disabled_event_stored_with_the_old_url_field_still_decodes() -> None:
    old = (
        b'{"type":"webhook.disabled","id":"e3","occurred_at":"2026-11-27T13:00:01.25Z",'
        b'"endpoint_id":"wh_1","url":"https://hooks.example/in?token=s3cret","reason":"gone"}'
    )
    event = decode_event(old)
    assert event == WebhookDisabled(id="e3", occurred_at=AT, endpoint_id="wh_1", reason="gone")
    assert "s3cret" not in repr(event_data(event))


def test_log_entry_is_tagged_by_the_event_class_and_decodes_back() -> None:
    from datetime import UTC, datetime

    from scanlet.actors.events import (
        CodeDeleted,
        ScanOrphaned,
        ScanRecorded,
        WebhookDisabled,
        decode_event,
        log_entry,
    )

    at = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    events = [
        CodeDeleted(id="a", occurred_at=at, slug="menu"),
        ScanRecorded(id="b", occurred_at=at, slug="menu", source="qr"),
        ScanOrphaned(id="c", occurred_at=at, slug="gone", source="link"),
        WebhookDisabled(id="d", occurred_at=at, endpoint_id="wh_1", reason="410"),
    ]
    entries = [log_entry(event, getattr(event, "slug", None)) for event in events]
    assert [e.type for e in entries] == [
        "code.deleted",
        "scan.recorded",
        "scan.orphaned",
        "webhook.disabled",
    ]
    assert [e.slug for e in entries] == ["menu", "menu", "gone", None]
    assert {e.occurred_at for e in entries} == {"2026-12-01T12:00:00.000000Z"}
    assert [decode_event(e.payload) for e in entries] == events


def test_who_caused_an_event_rides_in_its_envelope_not_its_data() -> None:
    from scanlet.actors.events import By, CodeDeleted, ScanRecorded, log_entry
    from scanlet.actors.webhooks.signing import event_body
    from scanlet.storage.records import StoredEvent

    when = datetime(2026, 12, 1, tzinfo=UTC)
    deleted = CodeDeleted(id="e1", occurred_at=when, by=By("user", "u1"), slug="menu")
    scan = ScanRecorded(id="e2", occurred_at=when, slug="menu", source="qr")
    bodies = []
    for seq, event in enumerate((deleted, scan), 1):
        entry = log_entry(event, "menu")
        stored = StoredEvent(
            seq, entry.id, entry.type, "menu", entry.occurred_at, "t", entry.payload, seq
        )
        bodies.append(msgspec.json.decode(event_body(stored)))
    assert bodies[0]["by"] == {"kind": "user", "id": "u1"}
    assert bodies[0]["data"] == {"slug": "menu"}
    # Scans are caused by whoever scanned: nothing is stored or sent.
    assert "by" not in bodies[1]
    assert b'"by"' not in log_entry(scan, "menu").payload
