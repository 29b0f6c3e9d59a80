"""orgs.np_time_list: an information provider's scheduled-transmission windows (hhmm:hhmm, Asia/Seoul; digest
§10.4), published in 지원-002 as np_time_cnt / np_time_list

Revision ID: 20261206_0004
Revises: 20261123_0003
Create Date: 2026-12-06 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261206_0004"
down_revision: str | None = "20261123_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("orgs") as batch:
        batch.add_column(sa.Column("np_time_list", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("orgs") as batch:
        batch.drop_column("np_time_list")
