"""One request, one trace: the HTTP span is the parent of the actor spans it causes, and log
lines written inside actor handlers carry the request's trace id."""

from collections.abc import Iterator
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import pytest
import structlog
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client import CollectorRegistry
from starlette.testclient import TestClient

from scanlet.actors.access.keys import Scope
from scanlet.assembly import create_app
from scanlet.config import load_settings
from scanlet.observability.tracing import Tracing
from scanlet.runtime import add_trace_context


@pytest.fixture
def traced(
    scanlet_db: str, tmp_path: Path
) -> Iterator[tuple[TestClient, InMemorySpanExporter, str]]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    settings = load_settings(
        {"SCANLET_DB": scanlet_db, "SCANLET_SECRET_FILE": str(tmp_path / "scanlet.key")},
        isatty=False,
    )
    # No features: their followers handle doorbell rings in traces of their own.
    app = create_app(settings, registry=CollectorRegistry(), tracing=Tracing(provider), features=[])
    with TestClient(app) as client:
        store = app.state.services.keys
        created = client.portal.call(  # type: ignore[union-attr]
            partial(store.create, "t", Scope.WRITE, now=datetime.now(UTC))
        )
        yield client, exporter, created.token
    provider.shutdown()


def test_a_scan_request_is_one_trace_across_http_and_actors(
    traced: tuple[TestClient, InMemorySpanExporter, str],
) -> None:
    client, exporter, token = traced
    client.post(
        "/api/v1/codes",
        json={"target": "https://e.com", "slug": "t1"},
        headers={"Authorization": f"Bearer {token}"},
    )
    exporter.clear()
    response = client.get("/t1", follow_redirects=False)
    assert response.status_code == 302
    spans = exporter.get_finished_spans()
    http = [s for s in spans if s.name == "GET /{slug}"]
    assert len(http) == 1
    http_ctx = http[0].get_span_context()
    assert http_ctx is not None
    # Spans with a parent are the work this request caused; on PostgreSQL the change feed
    # may also tell the codes actor about the code created before, in a trace of its own.
    caused = [s for s in spans if s is not http[0] and s.parent is not None]
    assert "actor.scans" in {s.name for s in caused}, [s.name for s in spans]
    for span in caused:
        ctx = span.get_span_context()
        assert ctx is not None
        assert ctx.trace_id == http_ctx.trace_id, span.name
        assert span.parent is not None
        assert span.parent.span_id == http_ctx.span_id
    strays = {s.name for s in spans if s is not http[0] and s.parent is None}
    assert strays <= {"actor.codes"}, strays
    trace_id = response.headers["traceparent"].split("-")[1]
    assert trace_id == f"{http_ctx.trace_id:032x}"


def test_log_lines_inside_actor_handlers_carry_the_request_trace_id(
    traced: tuple[TestClient, InMemorySpanExporter, str],
) -> None:
    client, _, token = traced
    with structlog.testing.capture_logs(processors=[add_trace_context]) as logs:
        response = client.post(
            "/api/v1/codes",
            json={"target": "https://e.com", "slug": "t2"},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert response.status_code == 201
    created = [line for line in logs if line["event"] == "code created"]
    assert len(created) == 1
    assert created[0]["trace_id"] == response.headers["traceparent"].split("-")[1]
