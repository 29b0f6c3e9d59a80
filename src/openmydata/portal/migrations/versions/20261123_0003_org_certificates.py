"""organisations' TLS certificate data: serial_num (SERIALNUMBER), up to three SHA-256 fingerprints, issuer DN and
the newest certificate's expiry

Revision ID: 20261123_0003
Revises: 20261122_0002
Create Date: 2026-11-23 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261123_0003"
down_revision: str | None = "20261122_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("orgs") as batch:
        batch.add_column(sa.Column("serial_num", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("cert_fingerprints", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("cert_issuer_dn", sa.String(length=256), nullable=True))
        batch.add_column(sa.Column("cert_not_after", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("orgs") as batch:
        batch.drop_column("cert_not_after")
        batch.drop_column("cert_issuer_dn")
        batch.drop_column("cert_fingerprints")
        batch.drop_column("serial_num")
