"""Settings load from SCANLET_* variables and flags, and refuse bad values by name."""

from pathlib import Path

import pytest

from scanlet.config import ConfigError, RateLimit, load_settings


def test_an_ipv6_listening_address_makes_a_bracketed_base_url() -> None:
    settings = load_settings({"SCANLET_HOST": "::1", "SCANLET_PORT": "8123"}, isatty=False)
    assert settings.public_base_url == "http://[::1]:8123"


def test_defaults_follow_the_contract() -> None:
    settings = load_settings({}, isatty=False)
    assert settings.db == Path("scanlet.db")
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)
    assert settings.public_base_url == "http://127.0.0.1:8000"
    assert settings.synchronous == "normal"
    assert settings.log_format == "json"
    assert settings.anonymize_ip is True
    assert settings.webhook_allow_private is False
    assert settings.webhook_retry_base == 5.0
    assert settings.notfound_limit == RateLimit(60, 60.0)


def test_console_logging_is_the_default_on_a_terminal() -> None:
    assert load_settings({}, isatty=True).log_format == "console"


def test_variables_are_parsed_into_typed_values() -> None:
    settings = load_settings(
        {
            "SCANLET_DB": "/tmp/x.db",
            "SCANLET_PORT": "9000",
            "SCANLET_BASE_URL": "https://qr.example.com/",
            "SCANLET_SYNCHRONOUS": "FULL",
            "SCANLET_TRUSTED_PROXIES": "10.0.0.0/8, 192.168.1.7",
            "SCANLET_ANONYMIZE_IP": "off",
            "SCANLET_NOTFOUND_LIMIT": "5/second",
        },
        isatty=False,
    )
    assert settings.db == Path("/tmp/x.db")
    assert settings.port == 9000
    assert settings.public_base_url == "https://qr.example.com"
    assert settings.synchronous == "full"
    assert settings.trusted_proxies == ("10.0.0.0/8", "192.168.1.7/32")
    assert len(settings.trusted_networks) == 2
    assert settings.anonymize_ip is False
    assert settings.notfound_limit == RateLimit(5, 1.0)


def test_flags_override_variables_and_none_flags_are_ignored() -> None:
    settings = load_settings(
        {"SCANLET_PORT": "9000", "SCANLET_HOST": "0.0.0.0"},
        {"PORT": "9100", "HOST": None},
        isatty=False,
    )
    assert settings.port == 9100
    assert settings.host == "0.0.0.0"


@pytest.mark.parametrize(
    ("variable", "value", "fragment"),
    [
        ("SCANLET_PORT", "abc", "integer"),
        ("SCANLET_PORT", "70000", "port"),
        ("SCANLET_SYNCHRONOUS", "sometimes", "normal, full"),
        ("SCANLET_ANONYMIZE_IP", "maybe", "true or false"),
        ("SCANLET_TRUSTED_PROXIES", "10.0.0.0/33", "not an IP network"),
        ("SCANLET_NOTFOUND_LIMIT", "lots", "N/minute"),
        ("SCANLET_WEBHOOK_RETRY_BASE", "-1", "positive"),
        ("SCANLET_BASE_URL", "ftp://x", "http(s) origin"),
        ("SCANLET_DB", " ", "file path"),
    ],
)
def test_a_bad_value_names_its_variable(variable: str, value: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings({variable: value}, isatty=False)
    message = str(caught.value)
    assert message.startswith(f"{variable}: ")
    assert fragment in message
    assert "\n" not in message


def test_a_bad_flag_names_the_flag() -> None:
    with pytest.raises(ConfigError, match=r"^--port: "):
        load_settings({}, {"PORT": "0"}, isatty=False)


def test_masked_shows_every_setting_as_plain_text() -> None:
    shown = load_settings({"SCANLET_TRUSTED_PROXIES": "10.0.0.0/8"}, isatty=False).masked()
    assert shown["trusted_proxies"] == "10.0.0.0/8"
    assert shown["notfound_limit"] == "60/minute"
    assert shown["db"] == "scanlet.db"


def test_the_server_key_file_sits_beside_the_database_unless_set() -> None:
    beside = load_settings({"SCANLET_DB": "/var/lib/scanlet/s.db"}, isatty=False)
    assert beside.server_key_file == Path("/var/lib/scanlet/s.db.key")
    assert beside.masked()["secret_file"] == "/var/lib/scanlet/s.db.key"
    moved = load_settings({"SCANLET_SECRET_FILE": "/etc/scanlet/key"}, isatty=False)
    assert moved.server_key_file == Path("/etc/scanlet/key")
    assert moved.masked()["secret_file"] == "/etc/scanlet/key"
    with pytest.raises(ConfigError, match="SCANLET_SECRET_FILE"):
        load_settings({"SCANLET_SECRET_FILE": " "}, isatty=False)


def test_analytics_settings_parse_and_default_to_off(tmp_path: Path) -> None:
    defaults = load_settings({}, isatty=False)
    assert defaults.geoip_db is None
    assert defaults.country_header == ""
    assert defaults.raw_retention_days is None
    assert defaults.agent_worker
    assert not load_settings({"SCANLET_AGENT_WORKER": "off"}, isatty=False).agent_worker
    assert defaults.projection_worker == "auto"
    for raw, parsed in {
        "off": "off",
        "false": "off",
        "ON": "on",
        "1": "on",
        " auto ": "auto",
    }.items():
        found = load_settings({"SCANLET_PROJECTION_WORKER": raw}, isatty=False)
        assert found.projection_worker == parsed, raw
    with pytest.raises(ConfigError, match=r"SCANLET_PROJECTION_WORKER.*auto, on or off"):
        load_settings({"SCANLET_PROJECTION_WORKER": "sometimes"}, isatty=False)
    geo = tmp_path / "country.mmdb"
    geo.write_bytes(b"")
    settings = load_settings(
        {
            "SCANLET_GEOIP_DB": str(geo),
            "SCANLET_COUNTRY_HEADER": "CF-IPCountry",
            "SCANLET_RAW_RETENTION_DAYS": "90",
        },
        isatty=False,
    )
    assert settings.geoip_db == geo
    assert settings.country_header == "cf-ipcountry"
    assert settings.raw_retention_days == 90
    assert (
        load_settings({"SCANLET_RAW_RETENTION_DAYS": "forever"}, isatty=False).raw_retention_days
        is None
    )


@pytest.mark.parametrize(
    ("variable", "value", "fragment"),
    [
        ("SCANLET_GEOIP_DB", "/nonexistent/file.mmdb", "no such file"),
        ("SCANLET_COUNTRY_HEADER", "bad header", "not an HTTP header name"),
        ("SCANLET_RAW_RETENTION_DAYS", "0", "positive"),
        ("SCANLET_SERVER", "gunicorn", "granian, uvicorn"),
        ("SCANLET_AGENT_WORKER", "sometimes", "sometimes"),
        ("SCANLET_PROJECTION_WORKER", "maybe", "maybe"),
    ],
)
def test_bad_feature_settings_name_their_variable(variable: str, value: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings({variable: value}, isatty=False)
    assert str(caught.value).startswith(f"{variable}: ")
    assert fragment in str(caught.value)


@pytest.mark.parametrize(
    ("value", "features"),
    [
        ("all", ("analytics", "integrations", "dashboard")),
        ("none", ()),
        ("integrations, analytics", ("analytics", "integrations")),
    ],
)
def test_features_can_be_chosen(value: str, features: tuple[str, ...]) -> None:
    assert load_settings({"SCANLET_FEATURES": value}, isatty=False).features == features


@pytest.mark.parametrize(
    ("value", "fragment"),
    [("charts", "expected all, none"), ("dashboard", "needs analytics and integrations")],
)
def test_impossible_feature_sets_are_refused(value: str, fragment: str) -> None:
    with pytest.raises(ConfigError, match=fragment):
        load_settings({"SCANLET_FEATURES": value}, isatty=False)
