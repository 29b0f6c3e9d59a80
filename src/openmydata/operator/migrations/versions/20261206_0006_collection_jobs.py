"""collection at scale: the durable job table (kit.jobs), scheduled transmission per consent (is_scheduled, the last
cycle slot enqueued), per (API, key) the last scheduled transmission and the end of the last range fetched, the
providers' registered windows (지원-002 np_time_list), and failures in a row per collection status

Revision ID: 20261206_0006
Revises: 20261124_0005
Create Date: 2026-12-06 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261206_0006"
down_revision: str | None = "20261124_0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_LIVE = sa.text("state IN ('pending', 'running')")


def upgrade() -> None:
    op.create_table(
        "jobs",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("group_key", sa.String(length=64), nullable=True),
        sa.Column("dedup_key", sa.String(length=200), nullable=True),
        sa.Column("priority", sa.SmallInteger(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=200), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
    )
    op.create_index(op.f("ix_jobs_group_key"), "jobs", ["group_key"], unique=False)
    op.create_index("ix_jobs_claim", "jobs", ["state", "not_before", "priority"], unique=False)
    op.create_index(
        "uq_jobs_live_dedup", "jobs", ["dedup_key"], unique=True, sqlite_where=_LIVE, postgresql_where=_LIVE
    )

    with op.batch_alter_table("consents") as batch_op:
        batch_op.add_column(sa.Column("is_scheduled", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column("scheduled_through", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("sync_marks") as batch_op:
        batch_op.alter_column("search_timestamp", existing_type=sa.String(length=14), nullable=True)
        batch_op.add_column(sa.Column("scheduled_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("fetched_to", sa.String(length=8), nullable=True))
    with op.batch_alter_table("providers") as batch_op:
        batch_op.add_column(sa.Column("np_times", sa.JSON(), nullable=True))
    with op.batch_alter_table("collection_status") as batch_op:
        batch_op.add_column(sa.Column("failures", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("api_type", sa.String(length=20), nullable=True))

    # Consents signed before: is_scheduled as the signed 전송요구 says.
    consents = sa.table(
        "consents", sa.column("id", sa.Integer()), sa.column("consent", sa.JSON()), sa.column("is_scheduled")
    )
    connection = op.get_bind()
    scheduled = [
        row.id
        for row in connection.execute(sa.select(consents.c.id, consents.c.consent))
        if isinstance(row.consent, dict) and str(row.consent.get("is_scheduled", "")).lower() in ("true", "1")
    ]
    if scheduled:
        connection.execute(sa.update(consents).where(consents.c.id.in_(scheduled)).values(is_scheduled=True))


def downgrade() -> None:
    with op.batch_alter_table("collection_status") as batch_op:
        batch_op.drop_column("api_type")
        batch_op.drop_column("failures")
    with op.batch_alter_table("providers") as batch_op:
        batch_op.drop_column("np_times")
    with op.batch_alter_table("sync_marks") as batch_op:
        batch_op.drop_column("fetched_to")
        batch_op.drop_column("scheduled_at")
        batch_op.alter_column("search_timestamp", existing_type=sa.String(length=14), nullable=False)
    with op.batch_alter_table("consents") as batch_op:
        batch_op.drop_column("scheduled_through")
        batch_op.drop_column("is_scheduled")
    op.drop_index("uq_jobs_live_dedup", table_name="jobs")
    op.drop_index("ix_jobs_claim", table_name="jobs")
    op.drop_index(op.f("ix_jobs_group_key"), table_name="jobs")
    op.drop_table("jobs")
