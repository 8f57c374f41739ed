"""The write APIs under fuzzed bodies (hypothesis): every answer is a documented one, never a
5xx, and afterwards the server is still up. schemathesis fuzzes them from the schema in
tests/conformance; this fuzzes them from the shape of the bodies, with values of any type.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.actors.webhooks.harness import ScriptedSender, serve
from tests.serving import still_serving

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=40),
    st.sampled_from(
        [
            "https://example.com/",
            "http://[::1]:0/",
            "HTTP://E.COM./%00",
            "javascript:alert(1)",
            "0001-01-01T00:30:00+01:00",
            "9999-12-31T23:59:59-23:59",
            "2026-01-01T00:00:00Z",
            "api",
            "*",
            "code.created",
        ]
    ),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)


def either(*likely: Any) -> st.SearchStrategy[Any]:
    """A plausible value for a field two times in three, any value otherwise."""
    return st.one_of(st.sampled_from(likely), st.sampled_from(likely), VALUES)


TIMES = either(
    "2026-01-01T00:00:00Z",
    "2026-06-01T00:00:00+02:00",
    "1970-01-01T00:00:00Z",
    # Once crashed an actor: a time whose conversion to UTC leaves Python's range.
    "0001-01-01T00:30:00+01:00",
    "9999-12-31T23:59:59-23:59",
)
FIELDS: dict[str, st.SearchStrategy[Any]] = {
    "target": either("https://example.com/", "https://bücher.example/a?b#c"),
    "slug": either("menu", "promo-2026", "a" * 64),
    "title": either("Menu", "", "x" * 201),
    "tags": st.lists(either("food", " ", "x" * 65), max_size=22) | VALUES,
    "valid_from": TIMES,
    "valid_until": TIMES,
    "max_scans": st.integers(min_value=-(2**70), max_value=2**70) | VALUES,
    "redirect_status": either(301, 302, 307, 308, 200),
    "enabled": either(True, False),
    "url": either("https://hooks.example/in", "http://10.0.0.1/", "http://a..b/"),
    "events": st.lists(either("*", "code.created", "scan.recorded"), max_size=33) | VALUES,
    "type": either("scan"),
    "id": either("2b1a1c4e-5f0a-4c3e-9d1e-6b7a8c9d0e1f", "not-a-uuid"),
    "occurred_at": TIMES,
    "data": VALUES,
}


def shaped(*names: str, required: tuple[str, ...] = ()) -> st.SearchStrategy[dict[str, Any]]:
    """Objects with some of the real fields (so decoding gets further), sometimes an unknown
    one; values plausible or of any type."""
    return st.fixed_dictionaries(
        {name: FIELDS[name] for name in required},
        optional={**{name: FIELDS[name] for name in names}, "extra": VALUES},
    )


CODE_FIELDS = ("target", "slug", "title", "tags", "valid_from", "valid_until", "max_scans")
WRITES = st.one_of(
    st.tuples(
        st.just("POST /api/v1/codes"),
        shaped(*CODE_FIELDS[1:], "redirect_status", required=("target",)),
    ),
    st.tuples(st.just("PATCH /api/v1/codes/menu"), shaped(*CODE_FIELDS, "enabled")),
    st.tuples(st.just("POST /api/v1/webhooks"), shaped(required=("url", "events"))),
    st.tuples(
        st.just("POST /api/v1/events"),
        st.fixed_dictionaries(
            {"events": st.lists(shaped("type", "id", "slug", "occurred_at", "data"), max_size=4)}
        ),
    ),
    st.tuples(st.sampled_from(["POST /api/v1/codes", "POST /api/v1/webhooks"]), VALUES),
)
# What a healthy server answers on these routes: they document 503 too, but that means a
# part of the server is down, and 500 never is an answer.
DOCUMENTED = {200, 201, 400, 404, 409, 413, 415, 422}


def test_fuzzed_write_bodies_get_documented_answers_and_the_server_stays_up(
    scanlet_db: str,
    tmp_path: Path,
) -> None:
    # Private targets allowed and a recording sender: nothing is resolved or sent anywhere.
    with serve(scanlet_db, tmp_path, ScriptedSender(), allow_private=True) as app:
        app.create_code("menu")

        @settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
        @given(WRITES)
        def send(write: tuple[str, Any]) -> None:
            (route, body) = write
            method, path = route.split(" ")
            answer = app.client.request(
                method,
                path,
                content=msgspec.json.encode(body),
                headers={**app.headers, "content-type": "application/json"},
            )
            assert answer.status_code in DOCUMENTED, (route, body, answer.text)
            if answer.status_code >= 400:
                assert answer.headers["content-type"] == "application/problem+json"

        send()
        still_serving(app.client.app, app.client)  # type: ignore[arg-type]
