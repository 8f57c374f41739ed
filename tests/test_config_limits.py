"""The abuse-limit and timeout settings added for operations."""

import pytest

from scanlet.config import ConfigError, RateLimit, load_settings


def test_the_redirect_limit_is_off_by_default_and_parses_a_rate() -> None:
    assert load_settings({}, isatty=False).redirect_limit is None
    settings = load_settings({"SCANLET_REDIRECT_LIMIT": "10/second"}, isatty=False)
    assert settings.redirect_limit == RateLimit(10, 1.0)
    assert load_settings({"SCANLET_REDIRECT_LIMIT": "off"}, isatty=False).redirect_limit is None


def test_config_shows_an_unset_redirect_limit_as_off() -> None:
    shown = load_settings({}, isatty=False).masked()
    assert shown["redirect_limit"] == "off"
    assert shown["idle_timeout"] == 15.0


@pytest.mark.parametrize(
    ("variable", "raw"),
    [("SCANLET_REDIRECT_LIMIT", "fast"), ("SCANLET_IDLE_TIMEOUT", "0")],
)
def test_bad_limit_values_name_their_variable(variable: str, raw: str) -> None:
    with pytest.raises(ConfigError, match=variable):
        load_settings({variable: raw}, isatty=False)
