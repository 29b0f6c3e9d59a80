"""provider_tokens.cert_thumbprint: the client certificate (RFC 8705 x5t#S256) the access token is bound to, so that
a rotated certificate triggers a refresh before the next collection

Revision ID: 20261123_0004
Revises: 20261122_0003
Create Date: 2026-11-23 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261123_0004"
down_revision: str | None = "20261122_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("provider_tokens") as batch:
        batch.add_column(sa.Column("cert_thumbprint", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("provider_tokens") as batch:
        batch.drop_column("cert_thumbprint")
