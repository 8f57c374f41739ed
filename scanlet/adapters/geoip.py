"""Countries from a MaxMind-format database file (the analytics geolocation port)."""

from __future__ import annotations

from contextlib import AsyncExitStack, ExitStack
from functools import lru_cache
from pathlib import Path

from scanlet.actors.analytics.facts import (
    CACHE_SIZE,
    CountryLookup,
    NoCountries,
    normalize_country,
)

__all__ = ("MaxMindCountries", "open_countries")


class MaxMindCountries:
    """Countries from a MaxMind-format database file (GeoLite2/GeoIP2 Country or City, or
    any .mmdb whose records carry ``country.iso_code``)."""

    def __init__(self, path: Path) -> None:
        import maxminddb  # imported here: only needed when SCANLET_GEOIP_DB is set

        self._reader = maxminddb.open_database(str(path))
        self._cached = lru_cache(maxsize=CACHE_SIZE)(self._lookup)

    def _lookup(self, ip: str) -> str | None:
        try:
            record = self._reader.get(ip)
        except ValueError:
            return None  # not an IP address
        if not isinstance(record, dict):
            return None
        for key in ("country", "registered_country"):
            place = record.get(key)
            if isinstance(place, dict):
                code = place.get("iso_code")
                if isinstance(code, str):
                    return normalize_country(code)
        return None

    def country(self, ip: str) -> str | None:
        """The ISO country code of ``ip`` (cached), or None when the file does not know it."""
        return self._cached(ip)

    def close(self) -> None:
        """Release the file."""
        self._reader.close()


def open_countries(path: Path | None, stack: ExitStack | AsyncExitStack) -> CountryLookup:
    """The geolocation adapter for SCANLET_GEOIP_DB (None: none), closed with ``stack``."""
    if path is None:
        return NoCountries()
    countries = MaxMindCountries(path)
    stack.callback(countries.close)
    return countries
