"""one consent per tx_id: a replayed tx_id is refused at 통합인증-002 (unique index on consents.tx_id)

Revision ID: 20261122_0002
Revises: 20261122_0001
Create Date: 2026-11-22 12:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "20261122_0002"
down_revision: str | None = "20261122_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(op.f("ix_consents_tx_id"), "consents", ["tx_id"], unique=True)


def downgrade() -> None:
    op.drop_index(op.f("ix_consents_tx_id"), table_name="consents")
