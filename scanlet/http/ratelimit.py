"""Per-address token buckets in memory, for the scan routes' abuse limits.

A bucket holds up to ``count`` tokens and refills at ``count / per_seconds`` a second; a
request takes one. The table is bounded: past ``max_keys`` addresses the one seen longest ago
is forgotten (it comes back with a full bucket), so an attacker spraying addresses costs a
fixed amount of memory and at worst resets other addresses' buckets, never grows the process.
One process, one event loop: no lock is needed, and nothing here awaits.
"""

from __future__ import annotations

import ipaddress
import math
import time
from collections import OrderedDict
from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter

from scanlet.config import DEFAULT_PASSWORD_LIMIT, RateLimit, Settings

__all__ = ("RateLimiter", "ScanLimits", "limit_key", "retry_after")

DEFAULT_MAX_KEYS = 65_536


def limit_key(address: str) -> str:
    """The bucket an address counts against: itself for IPv4, its /64 for IPv6.

    One IPv6 subscriber usually holds a whole /64 and can pick any address in it, so
    per-address buckets there would be no limit at all. ``""`` (no usable address) is one
    shared bucket.
    """
    if ":" not in address:
        return address
    try:
        parsed = ipaddress.IPv6Address(address.split("%", 1)[0])
    except ValueError:
        return address
    if parsed.ipv4_mapped is not None:
        return str(parsed.ipv4_mapped)
    return str(ipaddress.IPv6Network((parsed, 64), strict=False).network_address)


class RateLimiter:
    """Token buckets by key with a bounded table; ``take`` says whether a request may pass."""

    def __init__(
        self,
        rate: RateLimit,
        *,
        max_keys: int = DEFAULT_MAX_KEYS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_keys <= 0:
            raise ValueError("max_keys must be positive")
        self.rate = rate
        self.max_keys = max_keys
        self._clock = clock
        self._per_token = rate.per_seconds / rate.count
        # key -> (tokens left, when they were counted); ordered from least to most recent.
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._buckets)

    def take(self, key: str) -> float:
        """Take a token for ``key``: 0.0 when allowed, else the seconds until one is free."""
        now = self._clock()
        capacity = float(self.rate.count)
        entry = self._buckets.pop(key, None)
        if entry is None:
            tokens = capacity
        else:
            left, stamp = entry
            tokens = min(capacity, left + (now - stamp) / self._per_token)
        if tokens >= 1.0:
            self._buckets[key] = (tokens - 1.0, now)
            wait = 0.0
        else:
            self._buckets[key] = (tokens, now)
            wait = (1.0 - tokens) * self._per_token
        if len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)
        return wait


def retry_after(wait: float) -> str:
    """``Retry-After`` in whole seconds, never 0 (a client would retry at once)."""
    return str(max(1, math.ceil(wait)))


class ScanLimits:
    """The scan routes' limiters: unknown slugs always, live redirects only when configured."""

    def __init__(
        self,
        notfound: RateLimit,
        redirect: RateLimit | None,
        registry: CollectorRegistry,
        *,
        password: RateLimit = DEFAULT_PASSWORD_LIMIT,
        max_keys: int = DEFAULT_MAX_KEYS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.notfound = RateLimiter(notfound, max_keys=max_keys, clock=clock)
        #: Password attempts: each costs an argon2 check, and guesses must stay slow.
        self.password = RateLimiter(password, max_keys=max_keys, clock=clock)
        self.redirect = (
            RateLimiter(redirect, max_keys=max_keys, clock=clock) if redirect is not None else None
        )
        self._refused = Counter(
            "scanlet_rate_limited_total",
            "Scan requests refused with 429, by the limit they hit.",
            ["limit"],
            registry=registry,
        )
        self.refused_notfound = self._refused.labels("notfound")
        self.refused_redirect = self._refused.labels("redirect")
        self.refused_password = self._refused.labels("password")

    @classmethod
    def from_settings(cls, settings: Settings, registry: CollectorRegistry) -> ScanLimits:
        """Limits as ``SCANLET_NOTFOUND_LIMIT``, ``SCANLET_REDIRECT_LIMIT`` and
        ``SCANLET_PASSWORD_LIMIT`` say."""
        return cls(
            settings.notfound_limit,
            settings.redirect_limit,
            registry,
            password=settings.password_limit,
        )
