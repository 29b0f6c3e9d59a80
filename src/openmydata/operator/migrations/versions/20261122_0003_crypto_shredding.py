"""crypto-shredding: no personal data in clear; per-person data keys (wrapped) and sealed rows

persons: the clear ci/name/birth_date/phone columns are replaced by `uid` (the wrapping context of the person's
data key), `ci_index` (HMAC of the CI under the operator's index key, unique), `wrapped_key` and `identity`
(sealed JSON). assets/records/sync_marks: the clear keys (account and card numbers, ...) and JSON payloads are
replaced by person-keyed HMAC index columns and one sealed column. New table data_keys holds operator-wide data
keys, wrapped (the CI index key).

Existing data is NOT converted: clear rows cannot be sealed without the key manager, and the demo always starts
from empty databases. The upgrade drops and recreates persons and every table that references it (web_sessions,
pending_requests, consents, provider_tokens, assets, records, sync_marks, collection_status); their rows are lost.
The downgrade does the same in the other direction.

Revision ID: 20261122_0003
Revises: 20261122_0002
Create Date: 2026-11-23 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261122_0003"
down_revision: str | None = "20261122_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
DEPENDENTS = (
    "web_sessions",
    "sync_marks",
    "records",
    "provider_tokens",
    "pending_requests",
    "consents",
    "collection_status",
    "assets",
)


def _person_fk(table: str, ondelete: str = "CASCADE") -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["person_id"], ["persons.id"], name=op.f(f"fk_{table}_person_id_persons"), ondelete=ondelete
    )


def _drop_all() -> None:
    for table in DEPENDENTS:
        op.drop_table(table)  # their indexes go with them
    op.drop_table("persons")


def _create_unchanged() -> None:
    """The dependents whose shape this revision does not change."""
    op.create_table(
        "web_sessions",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        _person_fk("web_sessions"),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_web_sessions")),
    )
    op.create_index(op.f("ix_web_sessions_person_id"), "web_sessions", ["person_id"], unique=False)
    op.create_table(
        "pending_requests",
        sa.Column("cert_tx_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("sign_tx_id", sa.String(length=64), nullable=True),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("prepared", sa.JSON(), nullable=True),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _person_fk("pending_requests"),
        sa.PrimaryKeyConstraint("cert_tx_id", name=op.f("pk_pending_requests")),
    )
    op.create_index(op.f("ix_pending_requests_person_id"), "pending_requests", ["person_id"], unique=False)
    op.create_table(
        "consents",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("org_code", sa.String(length=10), nullable=False),
        sa.Column("tx_id", sa.String(length=74), nullable=False),
        sa.Column("consent", sa.JSON(), nullable=True),
        sa.Column("consent_nonce", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("scope", sa.String(length=400), nullable=True),
        sa.Column("error_code", sa.String(length=40), nullable=True),
        sa.Column("end_date", sa.DateTime(timezone=True), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        _person_fk("consents", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consents")),
        sa.UniqueConstraint("tx_id", name=op.f("uq_consents_tx_id")),
    )
    op.create_index(op.f("ix_consents_person_id"), "consents", ["person_id"], unique=False)
    op.create_table(
        "provider_tokens",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("org_code", sa.String(length=10), nullable=False),
        sa.Column("access_token", sa.Text(), nullable=False),
        sa.Column("refresh_token", sa.Text(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("refresh_expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("scope", sa.String(length=400), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        _person_fk("provider_tokens"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_provider_tokens")),
        sa.UniqueConstraint("person_id", "org_code", name=op.f("uq_provider_tokens_person_id_org_code")),
    )
    op.create_table(
        "collection_status",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("org_code", sa.String(length=10), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("last_attempt", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_success", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error_code", sa.String(length=40), nullable=True),
        sa.Column("record_count", sa.Integer(), nullable=False),
        _person_fk("collection_status"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_collection_status")),
        sa.UniqueConstraint("person_id", "org_code", name=op.f("uq_collection_status_person_id_org_code")),
    )


def upgrade() -> None:
    _drop_all()
    op.create_table(
        "data_keys",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("wrapped_key", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_data_keys")),
    )
    op.create_table(
        "persons",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("uid", sa.String(length=32), nullable=False),
        sa.Column("ci_index", sa.String(length=64), nullable=False),
        sa.Column("wrapped_key", sa.Text(), nullable=False),
        sa.Column("identity", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_persons")),
        sa.UniqueConstraint("uid", name=op.f("uq_persons_uid")),
        sa.UniqueConstraint("ci_index", name=op.f("uq_persons_ci_index")),
    )
    _create_unchanged()
    op.create_table(
        "assets",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("org_code", sa.String(length=10), nullable=False),
        sa.Column("api_id", sa.String(length=40), nullable=False),
        sa.Column("asset_index", sa.String(length=64), nullable=False),
        sa.Column("sealed", sa.Text(), nullable=False),
        sa.Column("collected_at", sa.DateTime(timezone=True), nullable=False),
        _person_fk("assets"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assets")),
        sa.UniqueConstraint(
            "person_id",
            "org_code",
            "api_id",
            "asset_index",
            name=op.f("uq_assets_person_id_org_code_api_id_asset_index"),
        ),
    )
    op.create_table(
        "records",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("org_code", sa.String(length=10), nullable=False),
        sa.Column("api_id", sa.String(length=40), nullable=False),
        sa.Column("key_index", sa.String(length=64), nullable=False),
        sa.Column("natural_index", sa.String(length=64), nullable=False),
        sa.Column("sealed", sa.Text(), nullable=False),
        sa.Column("collected_at", sa.DateTime(timezone=True), nullable=False),
        _person_fk("records"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_records")),
        sa.UniqueConstraint(
            "person_id",
            "org_code",
            "api_id",
            "key_index",
            "natural_index",
            name=op.f("uq_records_person_id_org_code_api_id_key_index_natural_index"),
        ),
    )
    op.create_index("ix_records_person_api", "records", ["person_id", "api_id"], unique=False)
    op.create_table(
        "sync_marks",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("org_code", sa.String(length=10), nullable=False),
        sa.Column("api_id", sa.String(length=40), nullable=False),
        sa.Column("key_index", sa.String(length=64), nullable=False),
        sa.Column("sealed_key", sa.Text(), nullable=False),
        sa.Column("search_timestamp", sa.String(length=14), nullable=False),
        _person_fk("sync_marks"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_marks")),
        sa.UniqueConstraint(
            "person_id", "org_code", "api_id", "key_index", name=op.f("uq_sync_marks_person_id_org_code_api_id_key_index")
        ),
    )


def downgrade() -> None:
    _drop_all()
    op.drop_table("data_keys")
    op.create_table(
        "persons",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("ci", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("birth_date", sa.String(length=8), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_persons")),
        sa.UniqueConstraint("ci", name=op.f("uq_persons_ci")),
    )
    _create_unchanged()
    op.create_table(
        "assets",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("org_code", sa.String(length=10), nullable=False),
        sa.Column("api_id", sa.String(length=40), nullable=False),
        sa.Column("asset_key", sa.String(length=255), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("collected_at", sa.DateTime(timezone=True), nullable=False),
        _person_fk("assets"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assets")),
        sa.UniqueConstraint(
            "person_id", "org_code", "api_id", "asset_key", name=op.f("uq_assets_person_id_org_code_api_id_asset_key")
        ),
    )
    op.create_table(
        "records",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("org_code", sa.String(length=10), nullable=False),
        sa.Column("api_id", sa.String(length=40), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("natural_key", sa.String(length=255), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("collected_at", sa.DateTime(timezone=True), nullable=False),
        _person_fk("records"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_records")),
        sa.UniqueConstraint(
            "person_id",
            "org_code",
            "api_id",
            "key",
            "natural_key",
            name=op.f("uq_records_person_id_org_code_api_id_key_natural_key"),
        ),
    )
    op.create_index("ix_records_person_api", "records", ["person_id", "api_id"], unique=False)
    op.create_table(
        "sync_marks",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("org_code", sa.String(length=10), nullable=False),
        sa.Column("api_id", sa.String(length=40), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("search_timestamp", sa.String(length=14), nullable=False),
        _person_fk("sync_marks"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_marks")),
        sa.UniqueConstraint(
            "person_id", "org_code", "api_id", "key", name=op.f("uq_sync_marks_person_id_org_code_api_id_key")
        ),
    )
