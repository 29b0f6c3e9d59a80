"""access_records.rsp_ms: how long each information API call took to answer (weekly statistics, 지원-005)

Revision ID: 20261124_0004
Revises: 20261122_0003
Create Date: 2026-11-24 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261124_0004"
down_revision: str | None = "20261122_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("access_records") as batch:
        batch.add_column(sa.Column("rsp_ms", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("access_records") as batch:
        batch.drop_column("rsp_ms")
