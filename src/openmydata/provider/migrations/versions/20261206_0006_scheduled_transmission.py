"""scheduled transmission (정기적 전송): registry_orgs.np_time_list (the windows an organisation publishes in
지원-002) and scheduled_transmissions (per consent, API and asset: the scheduled transmissions of the current
period of the consent's cycle)

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


def upgrade() -> None:
    with op.batch_alter_table("registry_orgs") as batch:
        batch.add_column(sa.Column("np_time_list", sa.JSON(), nullable=True))
    op.create_table(
        "scheduled_transmissions",
        sa.Column("consent_id", sa.String(length=32), nullable=False),
        sa.Column("api_id", sa.String(length=40), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("period_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("transmissions", sa.Integer(), nullable=False),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["consent_id"],
            ["consents.id"],
            name=op.f("fk_scheduled_transmissions_consent_id_consents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("consent_id", "api_id", "key", name=op.f("pk_scheduled_transmissions")),
    )


def downgrade() -> None:
    op.drop_table("scheduled_transmissions")
    with op.batch_alter_table("registry_orgs") as batch:
        batch.drop_column("np_time_list")
