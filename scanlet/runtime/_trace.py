"""W3C trace context carried by every envelope, and the optional OpenTelemetry bridge."""

from __future__ import annotations

import contextlib
import contextvars
import random
import re
from collections.abc import Iterator, MutableMapping
from dataclasses import dataclass
from typing import Any

from opentelemetry import trace as otel
from opentelemetry.context import Context

__all__ = (
    "TraceContext",
    "add_trace_context",
    "current_trace",
    "otel_tracer",
    "use_trace",
)

# version "00" fields only; later versions may append fields after another dash (W3C §3.3).
_TRACEPARENT = re.compile(r"([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?")
_ZERO_TRACE = "0" * 32
_ZERO_SPAN = "0" * 16
# Ids need uniqueness, not secrecy; random.getrandbits is several times faster than secrets.
_bits = random.getrandbits


def _span_id() -> str:
    return f"{_bits(64) or 1:016x}"


@dataclass(frozen=True, slots=True)
class TraceContext:
    """The ids of one span of a W3C trace: 32 hex digits of trace id, 16 of span id."""

    trace_id: str
    span_id: str
    sampled: bool = True

    @classmethod
    def parse(cls, traceparent: str | None) -> TraceContext | None:
        """Parse a `traceparent` header; anything invalid gives None (W3C: start a new trace)."""
        if not traceparent:
            return None
        match = _TRACEPARENT.fullmatch(traceparent.strip())
        if match is None:
            return None
        version, trace_id, span_id, flags, rest = match.groups()
        if version == "ff" or (version == "00" and rest):
            return None
        if trace_id == _ZERO_TRACE or span_id == _ZERO_SPAN:
            return None
        return cls(trace_id, span_id, bool(int(flags, 16) & 1))

    @classmethod
    def new(cls) -> TraceContext:
        """Start a new sampled trace with fresh random ids."""
        return cls(f"{_bits(128) or 1:032x}", _span_id(), True)

    def child(self) -> TraceContext:
        """A new span in the same trace."""
        return TraceContext(self.trace_id, _span_id(), self.sampled)

    def traceparent(self) -> str:
        """Format as a version-00 `traceparent` header value."""
        return f"00-{self.trace_id}-{self.span_id}-{'01' if self.sampled else '00'}"


#: The trace of the code running now; envelopes capture it at send time.
current_trace: contextvars.ContextVar[TraceContext | None] = contextvars.ContextVar(
    "current_trace", default=None
)


@contextlib.contextmanager
def use_trace(ctx: TraceContext | None) -> Iterator[TraceContext | None]:
    """Make `ctx` the current trace inside the block (None clears it)."""
    token = current_trace.set(ctx)
    try:
        yield ctx
    finally:
        current_trace.reset(token)


def add_trace_context(
    logger: Any, method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: add `trace_id` and `span_id` of the current trace, if any."""
    ctx = current_trace.get()
    if ctx is not None:
        event_dict.setdefault("trace_id", ctx.trace_id)
        event_dict.setdefault("span_id", ctx.span_id)
    return event_dict


def otel_tracer(provider: otel.TracerProvider | None) -> otel.Tracer | None:
    """The tracer to use for handler spans, or None when no real provider is configured.

    The API's proxy and no-op providers mean "OpenTelemetry not set up": then the runtime skips
    span work entirely, so tracing costs nothing on the hot path.
    """
    if provider is None:
        provider = otel.get_tracer_provider()
    if isinstance(provider, otel.ProxyTracerProvider | otel.NoOpTracerProvider):
        return None
    return provider.get_tracer(__package__ or "runtime")


def capture_span_context() -> otel.SpanContext:
    """The sender's current OpenTelemetry span context (only called when tracing is on)."""
    return otel.get_current_span().get_span_context()


def parent_context(span_context: otel.SpanContext | None, trace: TraceContext | None) -> Any:
    """An OTel context whose current span is the sender's, from its span or its W3C ids."""
    if span_context is None or not span_context.is_valid:
        if trace is None:
            # An empty context, not None: None would mean the actor task's own context,
            # copied from whoever spawned it, and parent the span to the spawner's span.
            return Context()
        span_context = otel.SpanContext(
            trace_id=int(trace.trace_id, 16),
            span_id=int(trace.span_id, 16),
            is_remote=True,
            trace_flags=otel.TraceFlags(1 if trace.sampled else 0),
        )
    return otel.set_span_in_context(otel.NonRecordingSpan(span_context))


def trace_of_span(span: otel.Span) -> TraceContext:
    """The W3C ids of an OTel span, so log lines inside it carry the same trace."""
    ctx = span.get_span_context()
    return TraceContext(f"{ctx.trace_id:032x}", f"{ctx.span_id:016x}", ctx.trace_flags.sampled)
