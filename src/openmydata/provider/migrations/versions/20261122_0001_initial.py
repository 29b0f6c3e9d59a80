"""initial provider schema: customers, records, consents, tokens, registry, access records

Revision ID: 20261122_0001
Revises:
Create Date: 2026-11-22 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261122_0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('access_records',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('tran_id', sa.String(length=64), nullable=True),
    sa.Column('api_id', sa.String(length=40), nullable=False),
    sa.Column('api_type', sa.String(length=20), nullable=True),
    sa.Column('rcv_org_code', sa.String(length=10), nullable=True),
    sa.Column('consent_id', sa.String(length=32), nullable=True),
    sa.Column('key', sa.String(length=200), nullable=True),
    sa.Column('status_code', sa.Integer(), nullable=False),
    sa.Column('rsp_code', sa.String(length=5), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_access_records'))
    )
    op.create_index(op.f('ix_access_records_at'), 'access_records', ['at'], unique=False)
    op.create_index('ix_access_records_consent', 'access_records', ['consent_id', 'at'], unique=False)
    op.create_table('customers',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('ci', sa.String(length=100), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('birth_date', sa.String(length=8), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('reg_date', sa.String(length=8), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customers')),
    sa.UniqueConstraint('ci', name=op.f('uq_customers_ci'))
    )
    op.create_table('registry_orgs',
    sa.Column('org_code', sa.String(length=10), nullable=False),
    sa.Column('industry', sa.String(length=20), nullable=False),
    sa.Column('org_type', sa.String(length=2), nullable=False),
    sa.Column('org_name', sa.String(length=200), nullable=False),
    sa.Column('org_regno', sa.String(length=20), nullable=True),
    sa.Column('domain', sa.String(length=200), nullable=True),
    sa.Column('auth_type', sa.String(length=2), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('org_code', 'industry', name=op.f('pk_registry_orgs'))
    )
    op.create_table('registry_services',
    sa.Column('client_id', sa.String(length=50), nullable=False),
    sa.Column('org_code', sa.String(length=10), nullable=False),
    sa.Column('service_name', sa.String(length=200), nullable=False),
    sa.Column('client_secret_hash', sa.String(length=64), nullable=False),
    sa.Column('redirect_uri', sa.String(length=200), nullable=True),
    sa.Column('app_scheme', sa.String(length=200), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('client_id', name=op.f('pk_registry_services'))
    )
    op.create_index(op.f('ix_registry_services_org_code'), 'registry_services', ['org_code'], unique=False)
    op.create_table('registry_sync',
    sa.Column('name', sa.String(length=20), nullable=False),
    sa.Column('search_timestamp', sa.String(length=14), nullable=False),
    sa.Column('synced_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_registry_sync'))
    )
    op.create_table('consents',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('customer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('rcv_org_code', sa.String(length=10), nullable=False),
    sa.Column('client_id', sa.String(length=50), nullable=False),
    sa.Column('consent', sa.JSON(), nullable=False),
    sa.Column('scope', sa.String(length=512), nullable=False),
    sa.Column('tx_id', sa.String(length=74), nullable=False),
    sa.Column('cert_tx_id', sa.String(length=40), nullable=False),
    sa.Column('consent_nonce', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('end_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_consents_customer_id_customers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consents')),
    sa.UniqueConstraint('consent_nonce', name=op.f('uq_consents_consent_nonce'))
    )
    op.create_index('ix_consents_customer_operator', 'consents', ['customer_id', 'rcv_org_code', 'status'], unique=False)
    op.create_table('records',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('customer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('api_id', sa.String(length=40), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('period', sa.String(length=14), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_records_customer_id_customers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_records'))
    )
    op.create_index('ix_records_lookup', 'records', ['customer_id', 'api_id', 'key', 'period', 'seq'], unique=False)
    op.create_table('tokens',
    sa.Column('jti', sa.String(length=32), nullable=False),
    sa.Column('consent_id', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['consent_id'], ['consents.id'], name=op.f('fk_tokens_consent_id_consents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('jti', name=op.f('pk_tokens'))
    )
    op.create_index(op.f('ix_tokens_consent_id'), 'tokens', ['consent_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_tokens_consent_id'), table_name='tokens')
    op.drop_table('tokens')
    op.drop_index('ix_records_lookup', table_name='records')
    op.drop_table('records')
    op.drop_index('ix_consents_customer_operator', table_name='consents')
    op.drop_table('consents')
    op.drop_table('registry_sync')
    op.drop_index(op.f('ix_registry_services_org_code'), table_name='registry_services')
    op.drop_table('registry_services')
    op.drop_table('registry_orgs')
    op.drop_table('customers')
    op.drop_index('ix_access_records_consent', table_name='access_records')
    op.drop_index(op.f('ix_access_records_at'), table_name='access_records')
    op.drop_table('access_records')
