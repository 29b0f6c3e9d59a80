"""api_calls: every information API call to a provider (when, which API, answer, milliseconds) for the weekly
statistics (지원-004)

Revision ID: 20261124_0005
Revises: 20261123_0004
Create Date: 2026-11-24 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261124_0005"
down_revision: str | None = "20261123_0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "api_calls",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("org_code", sa.String(length=10), nullable=False),
        sa.Column("api_id", sa.String(length=40), nullable=False),
        sa.Column("api_type", sa.String(length=20), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("rsp_code", sa.String(length=40), nullable=True),
        sa.Column("rsp_ms", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_calls")),
    )
    op.create_index(op.f("ix_api_calls_at"), "api_calls", ["at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_api_calls_at"), table_name="api_calls")
    op.drop_table("api_calls")
