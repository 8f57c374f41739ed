"""Prometheus export of the runtime's counters, read from plain ints at scrape time.

The hot path only bumps ints and bucket lists kept in each mailbox; this collector turns them into
metric families when Prometheus scrapes, so an unscraped system pays nothing for metrics.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Protocol

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from ._mailbox import Mailbox
    from ._supervisor import SupervisorRef

__all__ = ("LATENCY_BUCKETS", "MetricsSource", "RuntimeCollector")

#: Upper bounds (seconds) of the time-in-mailbox and handling-time histograms.
LATENCY_BUCKETS: tuple[float, ...] = (
    0.0001,
    0.00025,
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
)


class MetricsSource(Protocol):
    """What the collector reads: every mailbox, and bus drop counts by subscriber."""

    def mailboxes(self) -> Iterable[Mailbox]:
        """Every actor mailbox of the system, stopped ones included."""
        ...

    def bus_dropped(self) -> Mapping[str, int]:
        """Events dropped per subscriber name."""
        ...

    def supervisors(self) -> Mapping[str, SupervisorRef]:
        """Every nested supervisor by name."""
        ...


def _histogram_buckets(counts: Sequence[int]) -> list[tuple[str, float]]:
    # Buckets are stored per bound (bisect index); Prometheus wants cumulative counts.
    out: list[tuple[str, float]] = []
    total = 0
    for bound, count in zip(LATENCY_BUCKETS, counts, strict=False):
        total += count
        out.append((repr(bound), total))
    total += counts[-1]
    out.append(("+Inf", total))
    return out


class RuntimeCollector(Collector):
    """Custom collector exposing the `<prefix>_actor_*` and `<prefix>_bus_*` families."""

    def __init__(self, source: MetricsSource, prefix: str = "") -> None:
        self._source = source
        self._prefix = f"{prefix}_" if prefix else ""

    def describe(self) -> Iterable[Metric]:
        """Nothing to pre-describe: names are fixed but samples appear as actors spawn."""
        return ()

    def collect(self) -> Iterator[Metric]:
        """Build the metric families from the current counters."""
        labels = ["actor"]
        p = self._prefix
        depth = GaugeMetricFamily(
            f"{p}actor_mailbox_depth", "Messages queued in the mailbox.", labels=labels
        )
        capacity = GaugeMetricFamily(
            f"{p}actor_mailbox_capacity", "Mailbox capacity.", labels=labels
        )
        waited = HistogramMetricFamily(
            f"{p}actor_mailbox_wait_seconds",
            "Time a message spent in the mailbox before handling.",
            labels=labels,
        )
        handled = HistogramMetricFamily(
            f"{p}actor_handle_seconds", "Time spent handling one message.", labels=labels
        )
        messages = CounterMetricFamily(f"{p}actor_messages", "Messages handled.", labels=labels)
        failures = CounterMetricFamily(
            f"{p}actor_failures", "Handler and start failures.", labels=labels
        )
        refusals = CounterMetricFamily(
            f"{p}actor_refusals", "Requests a handler refused (not failures).", labels=labels
        )
        restarts = CounterMetricFamily(f"{p}actor_restarts", "Restarts.", labels=labels)
        dead = CounterMetricFamily(
            f"{p}actor_dead_letters", "Messages that became dead letters.", labels=labels
        )
        timeouts = CounterMetricFamily(
            f"{p}actor_ask_timeouts", "Asks that got no reply in time.", labels=labels
        )
        for mb in self._source.mailboxes():
            name = [mb.name]
            depth.add_metric(name, len(mb.queue))
            capacity.add_metric(name, mb.capacity)
            waited.add_metric(name, _histogram_buckets(mb.wait_counts), mb.wait_sum)
            handled.add_metric(name, _histogram_buckets(mb.handle_counts), mb.handle_sum)
            messages.add_metric(name, mb.handled)
            failures.add_metric(name, mb.failures)
            refusals.add_metric(name, mb.refusals)
            restarts.add_metric(name, mb.restarts)
            dead.add_metric(name, mb.dead_letters)
            timeouts.add_metric(name, mb.ask_timeouts)
        dropped = CounterMetricFamily(
            f"{p}bus_dropped", "Events dropped for slow subscribers.", labels=["subscriber"]
        )
        for subscriber, count in self._source.bus_dropped().items():
            dropped.add_metric([subscriber], count)
        up = GaugeMetricFamily(
            f"{p}supervisor_up",
            "1 while the supervisor runs; 0 after it gave up, until it is restarted.",
            labels=["supervisor"],
        )
        give_ups = CounterMetricFamily(
            f"{p}supervisor_give_ups",
            "Times a supervisor exceeded its restart intensity and gave up.",
            labels=["supervisor"],
        )
        for supervisor_name, supervisor in self._source.supervisors().items():
            up.add_metric([supervisor_name], 1.0 if supervisor.is_running else 0.0)
            give_ups.add_metric([supervisor_name], supervisor.give_ups)
        yield from (depth, capacity, waited, handled, messages, failures, restarts, dead)
        yield from (refusals, timeouts, dropped, up, give_ups)
