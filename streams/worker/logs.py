"""structlog for Pantau, with the stdlib loggers of Faust and aiokafka routed through it."""

from __future__ import annotations

import logging
import sys

import structlog

SHARED = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]


def log_handler(fmt: str = "json") -> logging.Handler:
    """A stdlib handler that renders every record, ours or a library's, the same way."""
    renderer = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=sys.stdout.isatty())
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=SHARED,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            renderer,
        ],
    )
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(formatter)
    return handler


def dict_config(fmt: str, level: str) -> dict:
    """The same pipeline as a dictConfig, for Faust's worker (which reconfigures logging)."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "handlers": {"default": {"()": "streams.worker.logs.log_handler", "fmt": fmt}},
        "root": {"level": level.upper(), "handlers": ["default"]},
    }


def configure_logging(fmt: str = "json", level: str = "info") -> logging.Handler:
    """Install the pipeline on the root logger (structlog and stdlib loggers alike)."""
    structlog.configure(
        processors=[*SHARED, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = log_handler(fmt)
    logging.captureWarnings(True)  # Python warnings become log records, not raw stderr
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level.upper())
    return handler
