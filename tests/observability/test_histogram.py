"""The loop histogram exports what prometheus_client's Histogram exports for the same data."""

import pytest
from hypothesis import given
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry, Histogram, generate_latest

from scanlet.observability.histogram import LoopHistogram

BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.25, 1, 2.5, 5)
LABELS = st.sampled_from([("/{slug}", "GET", "302"), ("/livez", "GET", "200")])


def exposition(registry: CollectorRegistry) -> list[str]:
    text = generate_latest(registry).decode()
    return sorted(line for line in text.splitlines() if "_created" not in line)


@given(
    st.lists(st.tuples(st.floats(min_value=0, max_value=10, allow_nan=False), LABELS), max_size=50)
)
def test_same_buckets_counts_and_sums_as_a_prometheus_histogram(
    observations: list[tuple[float, tuple[str, str, str]]],
) -> None:
    ours, theirs = CollectorRegistry(), CollectorRegistry()
    loop = LoopHistogram("x_seconds", "Doc.", ["route", "method", "status"], BUCKETS, ours)
    reference = Histogram(
        "x_seconds", "Doc.", ["route", "method", "status"], buckets=BUCKETS, registry=theirs
    )
    for seconds, labels in observations:
        loop.observer(*labels)(seconds)
        reference.labels(*labels).observe(seconds)
    assert exposition(ours) == exposition(theirs)


def test_the_wrong_number_of_labels_is_refused() -> None:
    histogram = LoopHistogram("y_seconds", "Doc.", ["route"], BUCKETS, None)
    with pytest.raises(ValueError, match="takes labels"):
        histogram.observer("a", "b")
