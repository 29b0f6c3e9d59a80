"""Shared fixtures.

`db_url` yields a fresh, empty database on each dialect: SQLite (a file in tmp_path) and PostgreSQL (a new
database on 127.0.0.1:5432, dropped afterwards). Tests build schemas by running the migrations.

Without a PostgreSQL server the PostgreSQL variants are skipped with a message naming it, unless
OPENMYDATA_REQUIRE_SERVICES=1 (CI), where a missing server fails the run.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog

PG_HOST = os.environ.get("OPENMYDATA_TEST_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("OPENMYDATA_TEST_PG_PORT", "5432"))
PG_USER = os.environ.get("OPENMYDATA_TEST_PG_USER", "postgres")
REQUIRE_SERVICES = os.environ.get("OPENMYDATA_REQUIRE_SERVICES") == "1"


@pytest.fixture(autouse=True)
def _logging_restored() -> Iterator[None]:
    """Each test leaves logging as it found it: a command run in process (`openmydata.kit.logging.configure`) must
    not leave structlog filtering levels or writing to a stream the test runner has closed since."""
    saved = structlog.get_config()
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    structlog.configure(**saved)
    root.handlers[:] = handlers
    root.setLevel(level)


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def require_service(name: str, host: str, port: int) -> None:
    if _port_open(host, port):
        return
    message = f"{name} is not running at {host}:{port}"
    if REQUIRE_SERVICES:
        pytest.fail(message + " (OPENMYDATA_REQUIRE_SERVICES=1)")
    pytest.skip(message)


async def _pg_admin(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, database="postgres")
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def make_pg_database() -> tuple[str, str]:
    """Create an empty PostgreSQL database; returns (url, name)."""
    name = f"omd_test_{secrets.token_hex(6)}"
    asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    return f"postgresql+asyncpg://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}", name


def drop_pg_database(name: str) -> None:
    asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh empty database URL, once per dialect."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"
        return
    require_service("PostgreSQL", PG_HOST, PG_PORT)
    url, name = make_pg_database()
    try:
        yield url
    finally:
        drop_pg_database(name)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    path = tmp_path / "data"
    path.mkdir()
    return path
