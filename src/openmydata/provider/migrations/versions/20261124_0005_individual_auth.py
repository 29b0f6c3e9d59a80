"""개별인증-001/002: customer_logins (the PIN hash and lockout of the institution's own login page) and
authorizations (one authorization request: the person's way through the pages, then its single-use code)

Revision ID: 20261124_0005
Revises: 20261124_0004
Create Date: 2026-11-24 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261124_0005"
down_revision: str | None = "20261124_0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "customer_logins",
        sa.Column("customer_id", ID, nullable=False),
        sa.Column("pin_hash", sa.String(length=200), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_customer_logins_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_customer_logins")),
    )
    op.create_table(
        "authorizations",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("browser_hash", sa.String(length=64), nullable=False),
        sa.Column("csrf", sa.String(length=64), nullable=False),
        sa.Column("client_id", sa.String(length=50), nullable=False),
        sa.Column("rcv_org_code", sa.String(length=10), nullable=False),
        sa.Column("redirect_uri", sa.String(length=200), nullable=False),
        sa.Column("state", sa.String(length=40), nullable=False),
        sa.Column("code_challenge", sa.String(length=128), nullable=False),
        sa.Column("app_scheme", sa.String(length=200), nullable=True),
        sa.Column("user_ci", sa.String(length=100), nullable=True),
        sa.Column("customer_id", ID, nullable=True),
        sa.Column("login_failures", sa.Integer(), nullable=False),
        sa.Column("terms", sa.JSON(), nullable=True),
        sa.Column("code_hash", sa.String(length=64), nullable=True),
        sa.Column("consent_id", sa.String(length=32), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("redeemed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_authorizations_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_authorizations")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_authorizations_code_hash")),
    )
    op.create_index(op.f("ix_authorizations_expires_at"), "authorizations", ["expires_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_authorizations_expires_at"), table_name="authorizations")
    op.drop_table("authorizations")
    op.drop_table("customer_logins")
