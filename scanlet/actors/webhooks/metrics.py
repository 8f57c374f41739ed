"""Webhook metrics: deliveries, failed attempts, give-ups, disabled endpoints, outbox depth."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

__all__ = ("WebhookMetrics",)


class WebhookMetrics:
    """The webhooks context's Prometheus metrics, registered on the app's registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.delivered = Counter(
            "scanlet_webhook_deliveries_total",
            "Deliveries a receiver accepted with a 2xx.",
            registry=registry,
        )
        self.failures = Counter(
            "scanlet_webhook_failures_total",
            "Failed delivery attempts, by kind: status (a non-2xx answer) or error (none).",
            ["kind"],
            registry=registry,
        )
        self.given_up = Counter(
            "scanlet_webhook_given_up_total",
            "Deliveries abandoned after failing for the whole retry window.",
            registry=registry,
        )
        self.disabled = Counter(
            "scanlet_webhook_endpoints_disabled_total",
            "Endpoints disabled, by reason: gone (410) or failing.",
            ["reason"],
            registry=registry,
        )
        self.duration = Histogram(
            "scanlet_webhook_attempt_duration_seconds",
            "Time one delivery attempt took.",
            registry=registry,
            buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15),
        )
        self.outbox_depth = Gauge(
            "scanlet_webhook_outbox_depth",
            "Deliveries waiting in the outbox.",
            registry=registry,
        )
