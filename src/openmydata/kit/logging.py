"""Structured logging (structlog). Log lines carry x-api-tran-id and org codes, never personal data.

Third-party loggers that print SQL parameters or request URLs at DEBUG/INFO (aiosqlite, SQLAlchemy, httpx,
httpcore, asyncpg) are capped at WARNING whatever the level, because their messages can contain a person's CI,
name, phone or account numbers.
"""

from __future__ import annotations

import logging
import sys
from typing import Any, TextIO

import structlog

QUIET_LIBRARIES = ("aiosqlite", "sqlalchemy", "httpx", "httpcore", "asyncpg", "hpack", "multipart", "alembic")


def configure(*, json: bool = False, level: int = logging.INFO, stream: TextIO | None = None) -> None:
    """Configure structlog and the standard library's root logger to write to `stream` (stderr)."""
    target = stream or sys.stderr
    processors: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer(ensure_ascii=False) if json else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[*processors, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(file=target),
        cache_logger_on_first_use=False,
    )
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_openmydata", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(target)
    handler._openmydata = True  # type: ignore[attr-defined]
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    root.addHandler(handler)
    root.setLevel(level)
    for name in QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(max(level, logging.WARNING))


def get_logger(name: str) -> Any:
    return structlog.get_logger(name)


bind = structlog.contextvars.bind_contextvars
clear = structlog.contextvars.clear_contextvars
