"""Database plumbing: async engines for SQLite (embedded) and PostgreSQL (production), sessions owned by the
request or job boundary, and Alembic migrations run programmatically.

Every participant keeps its own `migrations/` folder whose `env.py` calls `run_alembic_env(metadata)`.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.environment import EnvironmentContext
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def make_base() -> type[DeclarativeBase]:
    """A declarative base with its own metadata and the naming convention (one per participant)."""

    class Base(DeclarativeBase):
        metadata = MetaData(naming_convention=NAMING_CONVENTION)

    return Base


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def create_engine(url: str, *, pool_size: int = 10) -> AsyncEngine:
    if is_sqlite(url):
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        # A small pool: opening an aiosqlite connection starts a thread and runs the pragmas below, which costs more
        # than most statements (a provider answered a call in 15 ms of CPU instead of 21). Code that may be cancelled
        # must not be cancelled inside a statement (kit.jobs ends its loops between statements): SQLAlchemy finishes a
        # cancelled session's close, but a statement cancelled half-way can leave SQLite's write lock taken.
        engine = create_async_engine(
            url, pool_size=pool_size, max_overflow=pool_size * 2, pool_timeout=60, connect_args={"timeout": 30}
        )

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    return create_async_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)


class Database:
    """An engine and a session factory. `transaction()` is the boundary that commits or rolls back."""

    def __init__(self, url: str, *, pool_size: int = 10):
        self.url = url
        self.engine = create_engine(url, pool_size=pool_size)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False, autoflush=False)
        self._write_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        async with self.sessions() as session:
            try:
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                raise

    @asynccontextmanager
    async def write_transaction(self) -> AsyncIterator[AsyncSession]:
        """A transaction that will write much: on SQLite (one writer at a time) such transactions of this process
        take turns on an asyncio lock instead of contending for the database's lock, whose busy handler re-checks
        only every 100 ms once a wait grows, so that fifty concurrent writers would spend most of their time
        asleep. PostgreSQL runs them concurrently."""
        if self.dialect != "sqlite":
            async with self.transaction() as session:
                yield session
            return
        loop = asyncio.get_running_loop()
        lock = self._write_locks.get(loop)
        if lock is None:
            lock = self._write_locks[loop] = asyncio.Lock()
        async with lock, self.transaction() as session:
            yield session

    async def upgrade(self, migrations_dir: Path) -> None:
        await upgrade(self.engine, migrations_dir)

    async def dispose(self) -> None:
        await self.engine.dispose()


def _alembic_config(migrations_dir: Path) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir))
    return config


async def upgrade(engine: AsyncEngine, migrations_dir: Path, revision: str = "head") -> None:
    """Run `alembic upgrade` on the engine's database (the only way schemas are built)."""

    def _run(connection: Connection) -> None:
        config = _alembic_config(migrations_dir)
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    async with engine.begin() as connection:
        await connection.run_sync(_run)


def run_alembic_env(context: EnvironmentContext, target_metadata: MetaData) -> None:
    """Body of every participant's `migrations/env.py`: migrate on the connection handed in by `upgrade`."""
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("migrations run through openmydata.kit.db.upgrade(), which supplies the connection")
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def compare_models(connection: Connection, metadata: MetaData) -> list[Any]:
    """Differences between the migrated schema and the ORM models (empty when they match)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    migration_context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(migration_context, metadata))
