"""The `jobs` table: one row per job, in the participant's own database (its migrations create it)."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    literal_column,
)
from sqlalchemy.sql.elements import ColumnElement

PENDING, RUNNING, DONE, FAILED, CANCELLED = "pending", "running", "done", "failed", "cancelled"
LIVE_STATES = (PENDING, RUNNING)
FINISHED_STATES = (DONE, FAILED, CANCELLED)


def job_table(metadata: MetaData) -> Table:
    """The `jobs` table, added to a participant's metadata (and its migrations)."""
    table = Table(
        "jobs",
        metadata,
        Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
        Column("kind", String(40), nullable=False),
        Column("payload", JSON, nullable=False),
        Column("group_key", String(64), nullable=True, index=True),
        Column("dedup_key", String(200), nullable=True),
        Column("priority", SmallInteger, nullable=False, default=100),
        Column("state", String(10), nullable=False),
        Column("attempts", Integer, nullable=False, default=0),
        Column("max_attempts", Integer, nullable=False),
        Column("not_before", DateTime(timezone=True), nullable=False),
        Column("lease_until", DateTime(timezone=True), nullable=True),
        Column("lease_owner", String(64), nullable=True),
        Column("published_at", DateTime(timezone=True), nullable=True),
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("started_at", DateTime(timezone=True), nullable=True),
        Column("finished_at", DateTime(timezone=True), nullable=True),
        Column("last_error", String(200), nullable=True),
        Column("result", JSON, nullable=True),
    )
    live = live_predicate(table)
    # At most one live job per dedup_key; finished jobs keep their key, so the same work can be enqueued again.
    Index("uq_jobs_live_dedup", table.c.dedup_key, unique=True, sqlite_where=live, postgresql_where=live)
    Index("ix_jobs_claim", table.c.state, table.c.not_before, table.c.priority)
    return table


def live_predicate(table: Table) -> ColumnElement[bool]:
    """The partial unique index's predicate; `ON CONFLICT … WHERE` must repeat it to name that index. Written with
    literal values: with bound parameters PostgreSQL cannot match the index once a prepared statement switches to a
    generic plan ("no unique or exclusion constraint matching the ON CONFLICT specification")."""
    return table.c.state.in_([literal_column(f"'{state}'") for state in LIVE_STATES])
