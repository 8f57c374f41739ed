"""structlog configuration: JSON lines for machines, coloured console for people."""

from __future__ import annotations

import logging
import sys
from typing import Literal

import structlog

from scanlet.runtime import add_trace_context

__all__ = ("configure_logging",)

_LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}


def configure_logging(
    fmt: Literal["console", "json"] = "json",
    level: Literal["debug", "info", "warning", "error"] = "info",
) -> None:
    """Configure structlog (and route the standard library's loggers through the same output).

    Every line carries the request id and trace id bound in contextvars, so a line written by
    an actor handling a message can be tied to the HTTP request that caused it.
    """
    shared: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        add_trace_context,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: structlog.typing.Processor
    if fmt == "json":
        renderer = structlog.processors.JSONRenderer()
        shared.append(structlog.processors.format_exc_info)
    else:
        renderer = structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    structlog.configure(
        processors=[*shared, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(_LEVELS[level]),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )
    _route_standard_logging(shared, renderer, max(_LEVELS[level], logging.WARNING))


#: The root logger's handler this module installed (replaced when configured again).
_handler: logging.Handler | None = None


def _route_standard_logging(
    shared: list[structlog.typing.Processor], renderer: structlog.typing.Processor, level: int
) -> None:
    """Render the standard library's records (uvicorn, granian, aiosqlite, asyncio, Python's
    warnings) with structlog's processors: under json, one object a line like every other, a
    traceback in its ``exception`` field rather than on lines of its own that a log pipeline
    would take for records. Kept at ``level``: quiet, but visible."""
    global _handler
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[structlog.stdlib.add_logger_name, *shared],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    )
    handler = _PrintHandler()
    handler.setFormatter(formatter)
    root = logging.getLogger()
    if _handler is not None:
        root.removeHandler(_handler)
    root.addHandler(handler)
    root.setLevel(level)
    _handler = handler
    # Python's warnings too (a library's deprecation at run time), as ``py.warnings``.
    logging.captureWarnings(True)


class _PrintHandler(logging.Handler):
    """Writes each record through a structlog ``PrintLogger`` on stderr, which takes the
    same lock as structlog's own lines: a handler's lock of its own let a line written from
    another thread (granian's) land in the middle of one of ours."""

    def __init__(self) -> None:
        super().__init__()
        self._printer = structlog.PrintLogger(file=sys.stderr)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self._printer.msg(self.format(record))
        except Exception:  # logging's own convention: report, never raise
            self.handleError(record)
