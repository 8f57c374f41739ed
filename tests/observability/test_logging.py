"""Log lines: the standard library's loggers (uvicorn, granian, aiosqlite) come out in the
same format as Scanlet's own, so that a JSON log is JSON on every line."""

from __future__ import annotations

import json
import logging
import warnings
from collections.abc import Iterator

import pytest
import structlog

from scanlet.observability.logging import configure_logging


@pytest.fixture
def restored() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    logging.captureWarnings(False)
    structlog.reset_defaults()


def _lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line]


def test_a_standard_library_error_with_its_traceback_is_one_json_line(
    capsys: pytest.CaptureFixture[str], restored: None
) -> None:
    configure_logging("json", "info")
    try:
        1 / 0  # noqa: B018
    except ZeroDivisionError:
        logging.getLogger("uvicorn.error").exception("Exception in ASGI application")
    structlog.get_logger("scanlet.test").warning("own line")
    lines = _lines(capsys.readouterr().err)
    assert len(lines) == 2
    theirs, ours = (json.loads(line) for line in lines)
    assert theirs["event"] == "Exception in ASGI application"
    assert theirs["logger"] == "uvicorn.error"
    assert theirs["level"] == "error"
    assert "ZeroDivisionError" in theirs["exception"]
    assert theirs["timestamp"].endswith("Z")
    assert ours["event"] == "own line"
    assert ours["level"] == "warning"


def test_configured_again_each_line_is_written_once(
    capsys: pytest.CaptureFixture[str], restored: None
) -> None:
    configure_logging("json", "info")
    configure_logging("json", "info")
    logging.getLogger("aiosqlite").warning("once")
    assert [json.loads(line)["event"] for line in _lines(capsys.readouterr().err)] == ["once"]


def test_the_standard_librarys_info_stays_quiet_and_console_lines_are_not_json(
    capsys: pytest.CaptureFixture[str], restored: None
) -> None:
    configure_logging("console", "info")
    logging.getLogger("aiosqlite").info("chatter")
    logging.getLogger("_granian").warning("Workers kill timeout reached")
    [line] = _lines(capsys.readouterr().err)
    assert "Workers kill timeout reached" in line
    assert "_granian" in line
    with pytest.raises(json.JSONDecodeError):
        json.loads(line)


def test_a_python_warning_is_a_json_line_too(
    capsys: pytest.CaptureFixture[str], restored: None
) -> None:
    configure_logging("json", "info")
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.warn("old API", DeprecationWarning, stacklevel=1)
    [line] = _lines(capsys.readouterr().err)
    record = json.loads(line)
    assert record["logger"] == "py.warnings"
    assert record["level"] == "warning"
    assert "DeprecationWarning: old API" in record["event"]
