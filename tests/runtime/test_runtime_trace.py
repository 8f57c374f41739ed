"""Trace context: W3C ids in every envelope, in handler logs, and OpenTelemetry parent spans."""

from __future__ import annotations

from typing import Any

import pytest
import structlog
from hypothesis import given
from hypothesis import strategies as st
from opentelemetry import trace as otel
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from scanlet.runtime import (
    Actor,
    ActorCrashed,
    ChildSpec,
    TraceContext,
    add_trace_context,
    current_trace,
    use_trace,
)
from scanlet.runtime._trace import otel_tracer
from scanlet.runtime.testing import running_system, spawn_probe

HEX = "0123456789abcdef"
PARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


@given(
    st.text(HEX, min_size=32, max_size=32).filter(lambda s: s != "0" * 32),
    st.text(HEX, min_size=16, max_size=16).filter(lambda s: s != "0" * 16),
    st.booleans(),
)
def test_traceparent_round_trips(trace_id: str, span_id: str, sampled: bool) -> None:
    ctx = TraceContext(trace_id, span_id, sampled)
    assert TraceContext.parse(ctx.traceparent()) == ctx


def test_invalid_traceparents_parse_to_none() -> None:
    for bad in (
        None,
        "",
        "garbage",
        "00-" + "0" * 32 + "-00f067aa0ba902b7-01",  # all-zero trace id
        "00-4bf92f3577b34da6a3ce929d0e0e4736-" + "0" * 16 + "-01",  # all-zero span id
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",  # forbidden version
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",  # upper case
        PARENT + "-extra",  # version 00 has exactly four fields
    ):
        assert TraceContext.parse(bad) is None
    future = TraceContext.parse("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00-x")
    assert future is not None
    assert not future.sampled


def test_new_and_child_keep_the_trace_and_change_the_span() -> None:
    root = TraceContext.new()
    child = root.child()
    assert len(root.trace_id) == 32
    assert len(root.span_id) == 16
    assert child.trace_id == root.trace_id
    assert child.span_id != root.span_id
    assert TraceContext.new().trace_id != root.trace_id


def test_use_trace_sets_and_resets_the_current_trace() -> None:
    ctx = TraceContext.new()
    assert current_trace.get() is None
    with use_trace(ctx):
        assert current_trace.get() is ctx
    assert current_trace.get() is None


class Logs(Actor[str]):
    """Writes one structlog line per message."""

    async def on_message(self, message: str) -> None:
        structlog.get_logger().info("handled", message=message)


async def test_a_log_line_inside_a_handler_carries_the_senders_trace() -> None:
    sender = TraceContext.parse(PARENT)
    assert sender is not None
    async with running_system() as system:
        ref = await system.spawn(ChildSpec("logs", Logs))
        with structlog.testing.capture_logs(processors=[add_trace_context]) as logs:
            with use_trace(sender):
                await ref.tell("traced")
            await ref.tell("untraced")
            await system.wait_idle()
    handled = {e["message"]: e for e in logs if e["event"] == "handled"}
    assert handled["traced"]["trace_id"] == sender.trace_id
    assert handled["traced"]["span_id"] != sender.span_id  # the handler is a child span
    assert "trace_id" not in handled["untraced"]


async def test_the_trace_travels_through_asks_and_onward_sends() -> None:
    class Relay(Actor[str]):
        async def on_message(self, message: str) -> str:
            await self.system.lookup("probe").tell(message)
            trace = current_trace.get()
            return trace.trace_id if trace else ""

    sender = TraceContext.new()
    async with running_system() as system:
        probe = await spawn_probe(system, "probe")
        relay = await system.spawn(ChildSpec("relay", Relay))
        with use_trace(sender):
            assert await relay.ask("hop") == sender.trace_id
        await probe.wait_for(1)
        [seen] = probe.traces
        assert seen is not None
        assert seen.trace_id == sender.trace_id


def _provider() -> tuple[TracerProvider, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider, exporter


async def test_each_handled_message_is_a_span_whose_parent_is_the_senders_span() -> None:
    provider, exporter = _provider()
    tracer = provider.get_tracer("test")
    async with running_system(tracer_provider=provider) as system:
        probe = await spawn_probe(system, "probe", reply=lambda m: m)
        with tracer.start_as_current_span("request") as request:
            await probe.ref.tell("told")
            assert await probe.ref.ask("asked") == "asked"
        await system.wait_idle()
    spans = {s.name: s for s in exporter.get_finished_spans()}
    actor_spans = [s for s in exporter.get_finished_spans() if s.name == "actor.probe"]
    assert len(actor_spans) == 2
    request_ctx = request.get_span_context()
    for span in actor_spans:
        assert span.parent is not None
        assert span.parent.span_id == request_ctx.span_id
        assert span.context is not None
        assert span.context.trace_id == request_ctx.trace_id
    assert "request" in spans
    # Log lines inside the handler carry the OTel span's ids.
    trace = probe.traces[0]
    assert trace is not None
    assert int(trace.trace_id, 16) == request_ctx.trace_id


async def test_a_w3c_trace_without_otel_span_becomes_the_parent_span() -> None:
    provider, exporter = _provider()
    sender = TraceContext.parse(PARENT)
    assert sender is not None
    async with running_system(tracer_provider=provider) as system:
        probe = await spawn_probe(system, "probe")
        with use_trace(sender):
            await probe.ref.tell("x")
        await system.wait_idle()
    [span] = exporter.get_finished_spans()
    assert span.parent is not None
    assert f"{span.parent.span_id:016x}" == sender.span_id
    assert span.context is not None
    assert f"{span.context.trace_id:032x}" == sender.trace_id


async def test_a_failing_handler_span_records_the_error() -> None:
    class Boom(Actor[Any]):
        async def on_message(self, message: Any) -> None:
            raise KeyError(message)

    provider, exporter = _provider()
    async with running_system(tracer_provider=provider) as system:
        ref = await system.spawn(ChildSpec("boom", Boom))
        with pytest.raises(ActorCrashed):
            await ref.ask("x")
    [span] = [s for s in exporter.get_finished_spans() if s.name == "actor.boom"]
    assert span.status.status_code is otel.StatusCode.ERROR


def test_without_a_real_provider_tracing_is_off() -> None:
    assert otel_tracer(otel.NoOpTracerProvider()) is None
    if isinstance(otel.get_tracer_provider(), otel.ProxyTracerProvider):
        assert otel_tracer(None) is None  # no global provider configured in this process
    assert otel_tracer(TracerProvider()) is not None


async def test_a_message_without_trace_starts_a_root_span_not_the_spawners() -> None:
    provider, exporter = _provider()
    tracer = provider.get_tracer("test")
    async with running_system(tracer_provider=provider) as system:
        with tracer.start_as_current_span("startup"):
            probe = await spawn_probe(system, "probe")
        await probe.ref.tell("untraced")
        await system.wait_idle()
    [span] = [s for s in exporter.get_finished_spans() if s.name == "actor.probe"]
    assert span.parent is None
