"""The routing decision's edges, below the HTTP API: stored values that went bad, and the
helpers' exact outputs."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from scanlet.actors.codes.code import Code
from scanlet.actors.codes.decide import compile_router, decide, forward_query
from scanlet.actors.codes.routing import Conditions, Rule, Schedule
from scanlet.http.visit import _languages
from scanlet.storage.records import CodeRow
from tests.actors.codes.test_patterns import code

AT = datetime(2026, 12, 1, 12, tzinfo=UTC)


class Visit:
    at = AT

    def device(self) -> str:
        return "mobile"

    def os(self) -> str:
        return "ios"

    def languages(self) -> Sequence[str]:
        return ["de"]

    def country(self) -> str | None:
        return "DE"

    def query(self) -> frozenset[tuple[str, str]]:
        return frozenset()

    def query_string(self) -> bytes:
        return b""

    def sticky(self, slug: str) -> int:
        return 0


def test_a_code_without_routing_has_no_router() -> None:
    assert compile_router(code()) is None


def test_a_schedule_whose_zone_left_the_tz_database_never_holds() -> None:
    gone = Schedule(tz="Nowhere/Atlantis", from_="00:00", to="00:00")
    router = compile_router(
        code(rules=(Rule(when=Conditions(schedule=gone), target="https://example.com/r"),))
    )
    assert router is not None
    decided = decide(router, Visit(), "s", gone=False)
    assert decided is not None
    assert decided[0].rule == "target"


def test_routing_that_does_not_decode_serves_as_none() -> None:
    row = CodeRow(
        slug="s",
        target="https://example.com/",
        title=None,
        tags=(),
        enabled=True,
        valid_from=None,
        valid_until=None,
        max_scans=None,
        redirect_status=302,
        created_at=AT,
        updated_at=AT,
        routing='{"rules": "not a list"}',
    )
    assert Code.from_row(row).rules == ()


def test_forward_query_merges_replaces_and_keeps_the_fragment_last() -> None:
    assert forward_query(b"https://e.x/p?a=1&b=2#f", b"b=3&c=") == b"https://e.x/p?a=1&b=3&c=#f"
    assert forward_query(b"https://e.x/p", b"") == b"https://e.x/p"
    assert forward_query(b"https://e.x/p", b"&&") == b"https://e.x/p"
    assert forward_query(b"https://e.x/p", b"q=a b&r=%ZZ") == b"https://e.x/p?q=a%20b&r=%25ZZ"


def test_accept_language_is_read_in_q_order_stably() -> None:
    assert _languages("en;q=0.5, de-AT, fr;q=0.5, *;q=0.1, it;q=0") == ["de-at", "en", "fr"]
    assert _languages("de;q=nan, en;q=2, fr;level=1, pt") == ["pt"]
    assert _languages(None) == []
