"""Settings: one typed struct loaded from ``SCANLET_*`` variables and ``serve`` flags.

Every value is checked when it is loaded, so a bad one stops the start with a one-line
message naming the variable instead of failing later in the middle of a request.
"""

from __future__ import annotations

import ipaddress
import os
import re
import socket
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import msgspec

__all__ = ("ConfigError", "RateLimit", "Settings", "load_settings")

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class ConfigError(Exception):
    """Raised when a configuration value cannot be used; the message names the variable."""

    def __init__(self, variable: str, problem: str) -> None:
        self.variable = variable
        self.problem = problem
        super().__init__(f"{variable}: {problem}")


class RateLimit(msgspec.Struct, frozen=True):
    """A token-bucket rate: ``count`` requests per ``per_seconds``."""

    count: int
    per_seconds: float

    def __str__(self) -> str:
        for unit, seconds in _RATE_UNITS.items():
            if seconds == self.per_seconds:
                return f"{self.count}/{unit}"
        return f"{self.count}/{self.per_seconds:g}s"


_RATE_UNITS = {"second": 1.0, "minute": 60.0, "hour": 3600.0, "day": 86400.0}
_RATE_RE = re.compile(r"^\s*(\d+)\s*/\s*(second|minute|hour|day|\d+(?:\.\d+)?s)\s*$")


#: Password attempts on a protected code allowed per client address (SCANLET_PASSWORD_LIMIT).
DEFAULT_PASSWORD_LIMIT = RateLimit(10, 60.0)


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    """The effective configuration of one Scanlet process."""

    db: Path = Path("scanlet.db")
    #: A ``postgresql://`` URL given as ``SCANLET_DB``: then PostgreSQL, not ``db``, holds
    #: the data (and several instances may share it).
    postgres_url: str | None = None
    #: The server key's file; None means ``<db>.key``, or ``scanlet.key`` on PostgreSQL
    #: (see ``server_key_file``).
    secret_file: Path | None = None
    #: Connections each instance may open to PostgreSQL (besides two of its own for
    #: leadership and notices).
    pool_size: int = 10
    #: This instance's name among several on one database (default ``host:port``).
    instance: str = ""
    host: str = "127.0.0.1"
    port: int = 8000
    base_url: str = ""
    synchronous: Literal["normal", "full"] = "normal"
    log_format: Literal["console", "json"] = "json"
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    trusted_proxies: tuple[str, ...] = ()
    #: CIDRs whose scans are the owner's own: recorded as excluded, left out of figures.
    exclude_from: tuple[str, ...] = ()
    #: Where a scan of a slug with no live code goes (``{slug}`` replaced); "": 404/410.
    not_found_url: str = ""
    #: Where ``GET /`` goes; "": 404.
    root_url: str = ""
    #: QR images write short links in QR alphanumeric characters (``HTTPS://HOST/Q/SLUG``):
    #: a smaller code, for slugs no other slug equals ignoring case.
    qr_compact: bool = False
    anonymize_ip: bool = True
    webhook_allow_private: bool = False
    webhook_retry_base: float = 5.0
    notfound_limit: RateLimit = RateLimit(60, 60.0)
    #: Password attempts on protected codes, per client address.
    password_limit: RateLimit = DEFAULT_PASSWORD_LIMIT
    redirect_limit: RateLimit | None = None
    max_body_bytes: int = 1024 * 1024
    shutdown_timeout: float = 10.0
    idle_timeout: float = 15.0
    body_timeout: float = 10.0
    feature_retry: float = 30.0
    max_connections: int = 4096
    stream_limit: int = 500
    stream_limit_per_key: int = 20
    ask_timeout: float = 5.0
    scan_queue: int = 4096
    server: Literal["granian", "uvicorn"] = "granian"
    geoip_db: Path | None = None
    country_header: str = ""
    raw_retention_days: int | None = None
    #: Parse never-seen user agents in a worker process (``scanlet.adapters.agent_worker``).
    agent_worker: bool = True
    #: Fold the analytics follower's backlogs in a worker process
    #: (``scanlet.assembly.projection_worker``); ``auto``: where the server may use two
    #: CPUs or more.
    projection_worker: Literal["auto", "on", "off"] = "auto"
    features: tuple[str, ...] = ("analytics", "integrations", "dashboard")

    @property
    def public_base_url(self) -> str:
        """The origin used in short links and QR payloads, without a trailing slash."""
        # An IPv6 listening address (SCANLET_HOST=::1) goes in brackets, as URLs write one.
        host = f"[{self.host}]" if ":" in self.host else self.host
        return (self.base_url or f"http://{host}:{self.port}").rstrip("/")

    @property
    def own_origins(self) -> tuple[str, ...]:
        """The origins this server answers on, which code targets must not point at: the
        public base URL. Not the listening ``http://HOST:PORT`` when a base URL is set:
        that is where a proxy reaches the server (usually the loopback, which in a
        visitor's browser is the visitor's own machine) or a wildcard such as 0.0.0.0 that
        names no origin, and with socket activation it is not even the real address."""
        return (self.public_base_url,)

    @property
    def backend(self) -> Literal["sqlite", "postgresql"]:
        """Which storage adapter holds the data."""
        return "postgresql" if self.postgres_url else "sqlite"

    @property
    def database(self) -> str:
        """Where the data is, for messages: the SQLite file, or the URL without password."""
        if self.postgres_url:
            return mask_password(self.postgres_url)
        return str(self.db)

    @property
    def instance_name(self) -> str:
        """``instance``, or ``host:port`` by default."""
        return self.instance or f"{socket.gethostname()}:{self.port}"

    @property
    def server_key_file(self) -> Path:
        """Where the server key is kept: ``SCANLET_SECRET_FILE``, else beside the SQLite
        database, else (PostgreSQL) ``scanlet.key`` in the working directory. Instances
        sharing a PostgreSQL database must share the key too (visitor hashes and dashboard
        links depend on it)."""
        if self.secret_file is not None:
            return self.secret_file
        if self.postgres_url:
            return Path("scanlet.key")
        return self.db.with_name(self.db.name + ".key")

    @property
    def trusted_networks(self) -> tuple[Network, ...]:
        """``trusted_proxies`` parsed as networks (validated at load time)."""
        return tuple(ipaddress.ip_network(cidr, strict=False) for cidr in self.trusted_proxies)

    @property
    def excluded_networks(self) -> tuple[Network, ...]:
        """``exclude_from`` parsed as networks (validated at load time)."""
        return tuple(ipaddress.ip_network(cidr, strict=False) for cidr in self.exclude_from)

    def masked(self) -> dict[str, Any]:
        """The settings as plain values for display. No setting is a secret: the server key
        is named by its file's path and never read here."""
        shown: dict[str, Any] = {}
        for name in self.__struct_fields__:
            value = getattr(self, name)
            if value is None and name == "redirect_limit":
                value = "off"
            elif name == "secret_file":
                value = str(self.server_key_file)
            elif name == "postgres_url":
                value = mask_password(value) if value else ""
            elif name == "instance":
                value = self.instance_name
            elif isinstance(value, Path | RateLimit):
                value = str(value)
            elif isinstance(value, tuple):
                value = ",".join(value)
            shown[name] = value
        shown["public_base_url"] = self.public_base_url
        return shown


def _parse_bool(raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"expected true or false, got {raw!r}")


def _parse_auto_switch(raw: str) -> Literal["auto", "on", "off"]:
    if raw.strip().lower() == "auto":
        return "auto"
    try:
        return "on" if _parse_bool(raw) else "off"
    except ValueError:
        raise ValueError(f"expected auto, on or off, got {raw!r}") from None


def _parse_port(raw: str) -> int:
    port = _parse_int(raw)
    if not 1 <= port <= 65535:
        raise ValueError(f"expected a port from 1 to 65535, got {raw!r}")
    return port


def _parse_int(raw: str) -> int:
    try:
        return int(raw.strip())
    except ValueError:
        raise ValueError(f"expected an integer, got {raw!r}") from None


def _parse_positive_int(raw: str) -> int:
    value = _parse_int(raw)
    if value <= 0:
        raise ValueError(f"expected a positive integer, got {raw!r}")
    return value


def _parse_seconds(raw: str) -> float:
    try:
        value = float(raw.strip())
    except ValueError:
        raise ValueError(f"expected a number of seconds, got {raw!r}") from None
    if not value > 0 or value == float("inf"):
        raise ValueError(f"expected a positive number of seconds, got {raw!r}")
    return value


def _choice(*allowed: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        value = raw.strip().lower()
        if value not in allowed:
            raise ValueError(f"expected one of {', '.join(allowed)}, got {raw!r}")
        return value

    return parse


def _parse_networks(raw: str) -> tuple[str, ...]:
    cidrs: list[str] = []
    for part in raw.split(","):
        cidr = part.strip()
        if not cidr:
            continue
        try:
            cidrs.append(str(ipaddress.ip_network(cidr, strict=False)))
        except ValueError:
            raise ValueError(f"not an IP network: {cidr!r}") from None
    return tuple(cidrs)


def _parse_rate(raw: str) -> RateLimit:
    match = _RATE_RE.match(raw)
    if match is None:
        raise ValueError(f"expected N/second, N/minute, N/hour or N/day, got {raw!r}")
    count, unit = int(match.group(1)), match.group(2)
    per = _RATE_UNITS.get(unit) or float(unit.removesuffix("s"))
    if count <= 0 or per <= 0:
        raise ValueError(f"expected a positive rate, got {raw!r}")
    return RateLimit(count, per)


def _parse_optional_rate(raw: str) -> RateLimit | None:
    if raw.strip().lower() in {"", "off", "none"}:
        return None
    return _parse_rate(raw)


def _parse_base_url(raw: str) -> str:
    value = raw.strip()
    if not value:
        return ""
    if not re.match(r"^https?://[^/\s?#]+(/[^\s?#]*)?$", value):
        raise ValueError(f"expected an http(s) origin such as https://qr.example.com, got {raw!r}")
    return value.rstrip("/")


class DatabaseUrl(str):
    """A ``postgresql://`` URL given where a database is named."""

    __slots__ = ()


def mask_password(url: str) -> str:
    """``url`` with its password (if any) shown as ``***``."""
    return re.sub(r"^([a-z]+://[^/:@]*):[^@/]*@", r"\1:***@", url)


def _parse_db(raw: str) -> Path | DatabaseUrl:
    value = raw.strip()
    if re.match(r"^postgres(ql)?://", value, re.IGNORECASE):
        parts = urlsplit(value)
        if not parts.path.strip("/") and "dbname=" not in parts.query:
            raise ValueError("name the database in the URL: postgresql://user@host:5432/dbname")
        return DatabaseUrl(value)
    if re.match(r"^[a-z][a-z0-9+.-]*://", value, re.IGNORECASE):
        raise ValueError(f"expected a SQLite file path or a postgresql:// URL, got {raw.strip()!r}")
    return _parse_path(raw)


def _parse_instance(raw: str) -> str:
    value = raw.strip()
    if not re.fullmatch(r"[A-Za-z0-9._:@-]{1,50}", value):
        raise ValueError("expected 1-50 letters, digits or . _ : @ -")
    return value


def _parse_path(raw: str) -> Path:
    if not raw.strip():
        raise ValueError("expected a file path, got an empty value")
    return Path(raw.strip())


def _parse_geoip_db(raw: str) -> Path | None:
    if not raw.strip():
        return None
    path = Path(raw.strip())
    if not path.is_file():
        raise ValueError(f"no such file: {raw.strip()!r}")
    return path


def _parse_redirect_url(raw: str) -> str:
    """A URL to redirect scans to, with the rules of a code's target (``{slug}`` may stand
    where the slug goes)."""
    from scanlet.actors.codes.errors import InvalidField
    from scanlet.actors.codes.validation import validate_target

    value = raw.strip()
    if value:
        try:
            validate_target(value.replace("{slug}", "slug"))
        except InvalidField as exc:
            raise ValueError(f"{exc.msg}: {raw!r}") from None
    return value


def _parse_header_name(raw: str) -> str:
    value = raw.strip().lower()
    if value and not re.fullmatch(r"[a-z0-9!#$%&'*+.^_`|~-]+", value):
        raise ValueError(f"not an HTTP header name: {raw!r}")
    return value


FEATURES = ("analytics", "integrations", "dashboard")


def _parse_features(raw: str) -> tuple[str, ...]:
    value = raw.strip().lower()
    if value == "all":
        return FEATURES
    if value == "none":
        return ()
    chosen = {part.strip() for part in value.split(",") if part.strip()}
    unknown = chosen - set(FEATURES)
    if unknown or not chosen:
        raise ValueError(f"expected all, none or a list of {', '.join(FEATURES)}, got {raw!r}")
    if "dashboard" in chosen and not {"analytics", "integrations"} <= chosen:
        raise ValueError("the dashboard needs analytics and integrations too")
    return tuple(name for name in FEATURES if name in chosen)


def _parse_retention_days(raw: str) -> int | None:
    if raw.strip().lower() in {"", "forever"}:
        return None
    return _parse_positive_int(raw)


# Variable suffix -> (field name, parser). The order is the order `scanlet config` shows.
_PARSERS: dict[str, tuple[str, Callable[[str], Any]]] = {
    "DB": ("db", _parse_db),
    "SECRET_FILE": ("secret_file", _parse_path),
    "HOST": ("host", str.strip),
    "PORT": ("port", _parse_port),
    "BASE_URL": ("base_url", _parse_base_url),
    "SYNCHRONOUS": ("synchronous", _choice("normal", "full")),
    "LOG_FORMAT": ("log_format", _choice("console", "json")),
    "LOG_LEVEL": ("log_level", _choice("debug", "info", "warning", "error")),
    "TRUSTED_PROXIES": ("trusted_proxies", _parse_networks),
    "EXCLUDE_FROM": ("exclude_from", _parse_networks),
    "NOT_FOUND_URL": ("not_found_url", _parse_redirect_url),
    "ROOT_URL": ("root_url", _parse_redirect_url),
    "QR_COMPACT": ("qr_compact", _parse_bool),
    "ANONYMIZE_IP": ("anonymize_ip", _parse_bool),
    "WEBHOOK_ALLOW_PRIVATE": ("webhook_allow_private", _parse_bool),
    "WEBHOOK_RETRY_BASE": ("webhook_retry_base", _parse_seconds),
    "NOTFOUND_LIMIT": ("notfound_limit", _parse_rate),
    "PASSWORD_LIMIT": ("password_limit", _parse_rate),
    "REDIRECT_LIMIT": ("redirect_limit", _parse_optional_rate),
    "MAX_BODY_BYTES": ("max_body_bytes", _parse_positive_int),
    "SHUTDOWN_TIMEOUT": ("shutdown_timeout", _parse_seconds),
    "IDLE_TIMEOUT": ("idle_timeout", _parse_seconds),
    "BODY_TIMEOUT": ("body_timeout", _parse_seconds),
    "FEATURE_RETRY": ("feature_retry", _parse_seconds),
    "MAX_CONNECTIONS": ("max_connections", _parse_positive_int),
    "STREAM_LIMIT": ("stream_limit", _parse_positive_int),
    "STREAM_LIMIT_PER_KEY": ("stream_limit_per_key", _parse_positive_int),
    "ASK_TIMEOUT": ("ask_timeout", _parse_seconds),
    "SCAN_QUEUE": ("scan_queue", _parse_positive_int),
    "SERVER": ("server", _choice("granian", "uvicorn")),
    "GEOIP_DB": ("geoip_db", _parse_geoip_db),
    "COUNTRY_HEADER": ("country_header", _parse_header_name),
    "RAW_RETENTION_DAYS": ("raw_retention_days", _parse_retention_days),
    "AGENT_WORKER": ("agent_worker", _parse_bool),
    "PROJECTION_WORKER": ("projection_worker", _parse_auto_switch),
    "FEATURES": ("features", _parse_features),
    "POOL_SIZE": ("pool_size", _parse_positive_int),
    "INSTANCE": ("instance", _parse_instance),
}


def load_settings(
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, str | None] | None = None,
    *,
    isatty: bool | None = None,
) -> Settings:
    """Build settings from ``SCANLET_*`` variables, then flag ``overrides`` (same suffixes).

    ``overrides`` maps a variable suffix such as ``"PORT"`` to a raw string; ``None`` values
    are ignored so argparse defaults can be passed straight through.
    """
    env = os.environ if environ is None else environ
    tty = sys.stderr.isatty() if isatty is None else isatty
    values: dict[str, Any] = {"log_format": "console" if tty else "json"}
    raw_values: dict[str, tuple[str, str]] = {}
    for suffix in _PARSERS:
        variable = f"SCANLET_{suffix}"
        if variable in env:
            raw_values[suffix] = (variable, env[variable])
    for suffix, raw in (overrides or {}).items():
        if raw is not None:
            raw_values[suffix] = (f"--{suffix.lower().replace('_', '-')}", raw)
    for suffix, (source, raw) in raw_values.items():
        field, parse = _PARSERS[suffix]
        try:
            values[field] = parse(raw)
        except ValueError as exc:
            raise ConfigError(source, str(exc)) from None
    db = values.get("db")
    if isinstance(db, DatabaseUrl):
        values["postgres_url"] = str(values.pop("db"))
    return Settings(**values)
