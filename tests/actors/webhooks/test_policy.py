"""Retry delays grow exponentially from the configured base, with bounded jitter."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scanlet.actors.webhooks.policy import RETRY_CAP, Verdict, judge, retry_delay


@given(
    attempt=st.integers(min_value=1, max_value=200),
    base=st.floats(min_value=0.001, max_value=600),
    rand=st.floats(min_value=0.0, max_value=1.0, exclude_max=True),
)
def test_a_delay_is_the_capped_exponential_within_a_quarter_either_way(
    attempt: int, base: float, rand: float
) -> None:
    expected = min(RETRY_CAP, base * 2.0 ** (attempt - 1))
    delay = retry_delay(attempt, base, lambda: rand)
    assert 0.75 * expected <= delay <= 1.25 * expected


def test_the_first_retry_waits_about_the_base_and_later_ones_double() -> None:
    assert retry_delay(1, 5.0, lambda: 0.5) == 5.0
    assert retry_delay(2, 5.0, lambda: 0.5) == 10.0
    assert retry_delay(3, 5.0, lambda: 0.5) == 20.0


def test_the_default_schedule_spans_about_three_days_in_twenty_attempts() -> None:
    total = sum(retry_delay(n, 5.0, lambda: 0.5) for n in range(1, 21))
    assert 2.5 * 86400 < total < 3.5 * 86400


@pytest.mark.parametrize(
    ("status", "verdict"),
    [
        (200, Verdict.DELIVERED),
        (204, Verdict.DELIVERED),
        (299, Verdict.DELIVERED),
        (301, Verdict.FAILED),
        (302, Verdict.FAILED),
        (400, Verdict.FAILED),
        (410, Verdict.GONE),
        (500, Verdict.FAILED),
        (None, Verdict.FAILED),
    ],
)
def test_only_2xx_is_success_and_410_is_gone(status: int | None, verdict: Verdict) -> None:
    assert judge(status) is verdict
