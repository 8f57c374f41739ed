"""When to retry, when to give up and when to disable: the delivery policy in one place.

Retries start at ``SCANLET_WEBHOOK_RETRY_BASE`` seconds and double, capped at eight hours,
each spread by jitter so that many deliveries failing together do not retry together. With
the default base of 5 s the schedule reaches three days after about twenty attempts, which
is also where an endpoint that keeps failing is disabled.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from datetime import timedelta

__all__ = (
    "DISABLE_AFTER",
    "RETRY_CAP",
    "RETRY_WINDOW",
    "TIMEOUT",
    "Verdict",
    "judge",
    "retry_delay",
)

#: Seconds one attempt may take in total (connect, send, response headers).
TIMEOUT = 15.0
#: The longest wait between two attempts.
RETRY_CAP = 8 * 3600.0
#: A delivery older than this is given up after its next failure.
RETRY_WINDOW = timedelta(days=3)
#: Consecutive failed attempts after which an endpoint is disabled.
DISABLE_AFTER = 20
#: Jitter: each delay is spread uniformly over +/- this fraction.
JITTER = 0.25


class Verdict(enum.Enum):
    """What one attempt's result means."""

    DELIVERED = "delivered"  # a 2xx
    GONE = "gone"  # 410: the receiver asks us to stop for good
    FAILED = "failed"  # anything else: a non-2xx status, a timeout, a refused connection


def judge(status: int | None) -> Verdict:
    """Only a 2xx is success (a redirect is not followed, so it is a failure); 410 is gone."""
    if status is not None and 200 <= status < 300:
        return Verdict.DELIVERED
    if status == 410:
        return Verdict.GONE
    return Verdict.FAILED


def retry_delay(
    attempt: int, base: float, rand: Callable[[], float], cap: float = RETRY_CAP
) -> float:
    """Seconds to wait after failed attempt number ``attempt`` (1-based).

    ``base * 2**(attempt-1)``, capped at ``cap``, times a factor in [0.75, 1.25).
    """
    exponent = min(max(attempt - 1, 0), 60)  # 2**60 already exceeds any cap
    delay = min(cap, base * 2.0**exponent)
    return delay * (1.0 + JITTER * (2.0 * rand() - 1.0))
