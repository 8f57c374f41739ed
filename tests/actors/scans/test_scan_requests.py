"""What a scan request keeps of its client's headers, whichever entrance builds it."""

from datetime import UTC, datetime

from scanlet.actors.scans.messages import (
    MAX_COUNTRY,
    MAX_REFERRER,
    MAX_USER_AGENT,
    RecordOrphan,
    RecordScan,
)

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


def test_oversized_headers_are_cut_to_what_a_scan_keeps() -> None:
    for scan in (
        RecordScan(
            "menu", "qr", NOW, "203.0.113.5", "U" * 5000, "R" * 5000, "C" * 99, max_scans=None
        ),
        RecordOrphan("menu", "qr", NOW, "203.0.113.5", "U" * 5000, "R" * 5000, "C" * 99),
    ):
        assert scan.user_agent == "U" * MAX_USER_AGENT
        assert scan.referrer == "R" * MAX_REFERRER
        assert scan.country == "C" * MAX_COUNTRY


def test_headers_within_the_limits_are_kept_as_sent() -> None:
    agent, referrer = "U" * MAX_USER_AGENT, "R" * MAX_REFERRER
    scan = RecordScan("menu", "link", NOW, "203.0.113.5", agent, referrer, "DE", max_scans=3)
    assert (scan.user_agent, scan.referrer, scan.country) == (agent, referrer, "DE")
    assert scan.user_agent is agent  # not copied
    empty = RecordOrphan("menu", "link", NOW, "", None, "", None)
    assert (empty.user_agent, empty.referrer, empty.country) == (None, "", None)
