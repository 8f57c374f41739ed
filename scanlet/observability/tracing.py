"""OpenTelemetry spans for HTTP requests, free when no SDK is configured.

The API package alone gives no-op tracers; creating no-op spans on the redirect path would
still cost time, so ``Tracing`` decides once whether a real provider is installed and does
nothing at all otherwise.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager, nullcontext
from typing import Any

from opentelemetry import trace
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from scanlet.runtime import TraceContext, current_trace

__all__ = ("Tracing", "configure_otel_from_env")

_propagator = TraceContextTextMapPropagator()


def _is_real(provider: trace.TracerProvider) -> bool:
    return not isinstance(provider, trace.ProxyTracerProvider | trace.NoOpTracerProvider)


class Tracing:
    """Starts a server span per HTTP request when a real tracer provider exists."""

    def __init__(self, provider: trace.TracerProvider | None = None) -> None:
        chosen = provider or trace.get_tracer_provider()
        self.provider = chosen
        self.enabled = _is_real(chosen)
        self._tracer = chosen.get_tracer("scanlet.http") if self.enabled else None

    def http_span(self, scope: MutableMapping[str, Any]) -> Any:
        """A context manager spanning one request (a shared no-op when tracing is off)."""
        if self._tracer is None:
            return nullcontext()
        return self._span(scope)

    @contextmanager
    def _span(self, scope: MutableMapping[str, Any]) -> Iterator[None]:
        assert self._tracer is not None
        carrier = {
            name.decode("latin-1"): value.decode("latin-1")
            for name, value in scope["headers"]
            if name in (b"traceparent", b"tracestate")
        }
        parent = _propagator.extract(carrier)
        with self._tracer.start_as_current_span(
            f"{scope['method']} {scope.get('path', '')}",
            context=parent,
            kind=trace.SpanKind.SERVER,
        ) as span:
            ctx = span.get_span_context()
            # Log lines and actor envelopes carry the same ids as the exported spans.
            token = current_trace.set(
                TraceContext(
                    trace_id=f"{ctx.trace_id:032x}",
                    span_id=f"{ctx.span_id:016x}",
                    sampled=bool(ctx.trace_flags & 1),
                )
            )
            try:
                yield
            finally:
                route = scope.get("scanlet.route")
                if route:
                    span.update_name(f"{scope['method']} {route}")
                    span.set_attribute("http.route", route)
                span.set_attribute("http.request.method", scope["method"])
                current_trace.reset(token)


def configure_otel_from_env() -> bool:
    """Install the SDK with an OTLP exporter when ``OTEL_*`` variables ask for it.

    Needs the ``otel`` extra; returns whether tracing was switched on.
    """
    wanted = os.environ.get("OTEL_TRACES_EXPORTER", "").lower()
    endpoint = os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or os.environ.get(
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
    )
    if wanted == "none" or not (endpoint or wanted == "otlp"):
        return False
    try:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import (  # type: ignore[import-not-found,unused-ignore]
            OTLPSpanExporter,
        )
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError:
        return False
    provider = TracerProvider(resource=Resource.create({"service.name": "scanlet"}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    return True
