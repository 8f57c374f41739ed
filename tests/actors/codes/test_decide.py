"""The routing decision's edges, below the HTTP API: stored values that went bad, and the
helpers' exact outputs."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from scanlet.actors.codes import decide as decide_module
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

    def inputs(
        self, agent: bool, language: bool, query: bool, country: bool, limit: int
    ) -> tuple[object, ...] | None:
        return None  # nothing remembered: every rule is worked out


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


# Remembered decisions: the same answers as working every rule out, whatever repeats.
_AGENTS = (
    None,
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/120.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36",
    "Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
)
_ROUTED = (
    Rule(when=Conditions(query={"c": "a"}), target="https://example.com/q"),
    Rule(when=Conditions(device="tablet"), target="https://example.com/tablet"),
    Rule(when=Conditions(os="android", language="de"), target="https://example.com/android-de"),
    Rule(when=Conditions(country="FR"), target="https://example.com/fr"),
    Rule(
        when=Conditions(schedule=Schedule(tz="Europe/Berlin", from_="12:00", to="12:30")),
        target="https://example.com/lunch",
    ),
    Rule(when=Conditions(language="pt-br"), target="https://example.com/pt"),  # as stored
)


class _Countries:
    def country(self, ip: str) -> str | None:
        return "FR" if ip.startswith("192.0.2.") else None


def _visit(at: datetime, agent: str | None, languages: str | None, query: bytes, ip: str) -> Any:
    from scanlet.adapters.user_agents import describe_agent
    from scanlet.http.visit import RequestVisit, VisitContext

    context = VisitContext(describe_agent, _Countries(), b"k" * 32)
    return RequestVisit(context, at, ip, agent, None, languages, query)


@given(
    st.lists(
        st.tuples(
            # A few minutes around the lunch schedule's edges, so inputs repeat often.
            st.sampled_from([0, 1, 119, 120, 121, 149, 150, 151]),
            st.sampled_from(_AGENTS),
            st.sampled_from([None, "de", "pt-BR,de;q=0.5", "en, pt-br;q=0.9", "fr;q=0"]),
            st.sampled_from([b"", b"c=a", b"c=b", b"x=1&c=a"]),
            st.sampled_from(["198.51.100.7", "192.0.2.9", "2001:db8::1"]),
        ),
        max_size=40,
    ),
    st.sampled_from([_ROUTED, _ROUTED[:4], _ROUTED[5:], _ROUTED[:1]]),
)
def test_remembered_decisions_are_the_decisions(
    visits: list[tuple[int, str | None, str | None, bytes, str]],
    rules: tuple[Rule, ...],
) -> None:
    router = compile_router(code(rules=rules))
    assert router is not None
    start = datetime(2026, 12, 1, 10, tzinfo=UTC)
    for minutes, agent, languages, query, ip in visits:
        at = start + timedelta(minutes=minutes, seconds=minutes % 60)
        remembered = router.choose(_visit(at, agent, languages, query, ip), "s")
        worked_out = router._first_holding(_visit(at, agent, languages, query, ip))
        expected = router.target if worked_out < 0 else router.rules[worked_out].choice
        assert remembered is expected


def test_a_schedule_is_judged_again_each_minute() -> None:
    router = compile_router(code(rules=_ROUTED[4:5]))
    assert router is not None
    before = datetime(2026, 12, 1, 10, 59, 59, tzinfo=UTC)  # 11:59:59 in Berlin
    after = before + timedelta(seconds=1)
    assert router.choose(_visit(before, None, None, b"", "198.51.100.7"), "s").rule == "target"
    assert router.choose(_visit(after, None, None, b"", "198.51.100.7"), "s").rule == "rules[0]"


def test_the_remembered_decisions_stay_bounded() -> None:
    router = compile_router(code(rules=_ROUTED[:1]))
    assert router is not None
    for n in range(decide_module._MEMO_LIMIT + 10):
        router.choose(_visit(AT, f"agent {n}", None, f"c={n}".encode(), "198.51.100.7"), "s")
    assert 0 < len(decide_module._memo) <= decide_module._MEMO_LIMIT


def test_each_input_a_rule_reads_tells_remembered_decisions_apart() -> None:
    android = _AGENTS[2]
    lunch = datetime(2026, 12, 1, 11, 10, tzinfo=UTC)  # 12:10 in Berlin
    ordinary = (AT, android, None, b"", "198.51.100.7")
    changes = [  # the same visit with one input changed, and the rule that then holds
        ((AT, android, None, b"c=a", "198.51.100.7"), "rules[0]"),
        ((AT, _AGENTS[4], None, b"", "198.51.100.7"), "rules[1]"),
        ((AT, android, "de", b"", "198.51.100.7"), "rules[2]"),
        ((AT, android, None, b"", "192.0.2.1"), "rules[3]"),
        ((lunch, android, None, b"", "198.51.100.7"), "rules[4]"),
        ((AT, android, "pt-BR", b"", "198.51.100.7"), "rules[5]"),
    ]
    for changed, rule in changes:
        # In both orders, each time with the other visit's answer already remembered.
        for first, then, expected in ((ordinary, changed, rule), (changed, ordinary, "target")):
            router = compile_router(code(rules=_ROUTED))
            assert router is not None
            router.choose(_visit(*first), "s")
            assert router.choose(_visit(*then), "s").rule == expected


def test_long_inputs_are_worked_out_but_never_remembered() -> None:
    # A hostile 16 KiB user agent per scan must not fill memory with remembered keys.
    router = compile_router(code(rules=_ROUTED[:2]))
    assert router is not None
    decide_module._memo.clear()
    huge = "Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X) " + "x" * 16_000
    assert router.choose(_visit(AT, huge, None, b"", "198.51.100.7"), "s").rule == "rules[1]"
    assert router.choose(_visit(AT, huge, None, b"c=a", "198.51.100.7"), "s").rule == "rules[0]"
    long_query = b"c=a&" + b"x" * 2_000
    assert router.choose(_visit(AT, None, None, long_query, "198.51.100.7"), "s").rule == "rules[0]"
    assert decide_module._memo == {}
    router.choose(_visit(AT, _AGENTS[4], None, b"", "198.51.100.7"), "s")
    assert len(decide_module._memo) == 1
