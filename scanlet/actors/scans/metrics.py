"""Metrics of the scans context: how big the group commits are and how long they take."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

from scanlet.observability.histogram import TRANSACTION_BUCKETS

__all__ = ("ScanMetrics",)


class ScanMetrics:
    """Created once per process and handed to every incarnation of the scans actor."""

    def __init__(self, registry: CollectorRegistry | None) -> None:
        self.batch_size = Histogram(
            "scanlet_scan_batch_messages",
            "Messages (redirect scans, orphans, device batches) per group commit.",
            buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024),
            registry=registry,
        )
        self.commit_seconds = Histogram(
            "scanlet_scan_commit_seconds",
            "Time to build and commit one group of scans.",
            buckets=TRANSACTION_BUCKETS,
            registry=registry,
        )
        self.events = Counter(
            "scanlet_scan_events",
            "Scan events committed, by kind (recorded, orphaned).",
            ["kind"],
            registry=registry,
        )
        self.refused = Counter(
            "scanlet_scan_used_up",
            "Redirects refused because the code reached max_scans.",
            registry=registry,
        )
