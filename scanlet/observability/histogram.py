"""A labelled Prometheus histogram for the event loop: plain lists, no lock.

``prometheus_client.Histogram`` takes a lock and walks its buckets on every observation
(0.58 us measured here); the request histogram is observed once per request, on the one
thread that runs the event loop, so it keeps its counts in lists and observing is a bisect
and two additions. Scrapes read the lists on the same thread (``/metrics`` is a route), so
no observation is ever half-counted. It exports exactly what a ``Histogram`` would: buckets,
count and sum per label set.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterator, Sequence

from prometheus_client import CollectorRegistry
from prometheus_client.core import HistogramMetricFamily, Metric

__all__ = ("TRANSACTION_BUCKETS", "LoopHistogram")

#: Bucket bounds (seconds) for a database transaction: the scans' group commits and the
#: projections' batches, so that their p99s fall in the same buckets and read alike.
TRANSACTION_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0)

Observe = Callable[[float], None]


class LoopHistogram:
    """A histogram with label values, registered as a collector; observe on one thread."""

    def __init__(
        self,
        name: str,
        documentation: str,
        labelnames: Sequence[str],
        buckets: Sequence[float],
        registry: CollectorRegistry | None,
    ) -> None:
        self.name = name
        self.documentation = documentation
        self.labelnames = tuple(labelnames)
        self.bounds = tuple(sorted(buckets))
        self._les = [
            repr(float(bound)) for bound in self.bounds
        ]  # as prometheus_client writes them
        # Per label set: a count per bucket (the last one past every bound), then the sum.
        self._series: dict[tuple[str, ...], list[float]] = {}
        self._observers: dict[tuple[str, ...], Observe] = {}
        if registry is not None:
            registry.register(self)

    def observer(self, *labels: str) -> Observe:
        """The function that records one observation under ``labels`` (kept per label set)."""
        found = self._observers.get(labels)
        if found is None:
            if len(labels) != len(self.labelnames):
                raise ValueError(f"{self.name} takes labels {self.labelnames}, not {labels}")
            series = self._series[labels] = [0.0] * (len(self.bounds) + 2)
            bounds, total = self.bounds, len(self.bounds) + 1

            def observe(seconds: float) -> None:
                series[bisect_left(bounds, seconds)] += 1
                series[total] += seconds

            found = self._observers[labels] = observe
        return found

    def observe(self, seconds: float, *labels: str) -> None:
        """Record one observation under ``labels``."""
        self.observer(*labels)(seconds)

    def describe(self) -> Iterator[Metric]:
        """The metric family without samples (so registering does not collect)."""
        yield HistogramMetricFamily(self.name, self.documentation, labels=self.labelnames)

    def collect(self) -> Iterator[Metric]:
        """Cumulative buckets, count and sum for every label set observed so far."""
        family = HistogramMetricFamily(self.name, self.documentation, labels=self.labelnames)
        for labels, series in self._series.items():
            cumulative, buckets = 0.0, []
            for le, count in zip([*self._les, "+Inf"], series, strict=False):
                cumulative += count
                buckets.append((le, cumulative))
            family.add_metric(list(labels), buckets, sum_value=series[-1])
        yield family
