"""The operator's tables. Nothing personal is stored in clear (crypto-shredding, see `operator.personal`): a
person's identity and everything collected for them are sealed (AES-256-GCM) with the person's own data key, which
is stored only wrapped by the key manager on the person's row; lookup columns hold keyed HMACs (blind indexes),
never a CI, account or card number. Provider tokens are stored encrypted; session tokens only as their SHA-256.
The audit hash chain (kit.audit) shares the metadata."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from openmydata.kit.audit import audit_tables
from openmydata.kit.clock import utcnow
from openmydata.kit.db import make_base
from openmydata.kit.jobs import job_table

if TYPE_CHECKING:
    from sqlalchemy.orm import DeclarativeBase

    class Base(DeclarativeBase):
        pass
else:
    Base = make_base()

# BIGINT on PostgreSQL, INTEGER (the rowid alias, so it autoincrements) on SQLite: collected rows grow large.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Person(Base):
    """A signed-up person. The CI (from the certification authority's identity verification) is found through
    `ci_index` (HMAC under the operator's index key); `identity` is the sealed JSON {ci, name, birth_date, phone}
    under the person's data key, which is stored only as `wrapped_key` (wrapping context `person:<uid>`).
    Deleting the row destroys the only copy of the data key: whatever sealed data remains no longer opens."""

    __tablename__ = "persons"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    uid: Mapped[str] = mapped_column(String(32), unique=True)
    ci_index: Mapped[str] = mapped_column(String(64), unique=True)
    wrapped_key: Mapped[str] = mapped_column(Text)
    identity: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class DataKey(Base):
    """Operator-wide data keys, stored wrapped by the key manager (e.g. "index": the blind-index key for CIs)."""

    __tablename__ = "data_keys"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    wrapped_key: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class WebSession(Base):
    __tablename__ = "web_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PendingRequest(Base):
    """An identity verification or a consent signature waiting for the person's approval at certauth.

    For a sign request `prepared` holds, per provider, the consent, its nonce and tx_id, so that exactly what
    the person signed is what 통합인증-002 presents.
    """

    __tablename__ = "pending_requests"

    cert_tx_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))  # identity | sign
    sign_tx_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("persons.id", ondelete="CASCADE"), nullable=True, index=True
    )
    prepared: Mapped[Any] = mapped_column(JSON, nullable=True)
    state: Mapped[str] = mapped_column(String(10), default="pending")  # pending | done | failed
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Consent(Base):
    """A signed 전송요구 at one provider. After withdrawal the row stays without person or payload."""

    __tablename__ = "consents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("persons.id", ondelete="SET NULL"), nullable=True, index=True
    )
    org_code: Mapped[str] = mapped_column(String(10))
    tx_id: Mapped[str] = mapped_column(String(74), unique=True)
    consent: Mapped[Any] = mapped_column(JSON, nullable=True)
    consent_nonce: Mapped[str | None] = mapped_column(String(64), nullable=True)
    status: Mapped[str] = mapped_column(String(12))  # active | failed | superseded | withdrawn
    scope: Mapped[str | None] = mapped_column(String(400), nullable=True)
    error_code: Mapped[str | None] = mapped_column(String(40), nullable=True)
    end_date: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    signed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # 정기적 전송: whether the person asked for scheduled transmission, and the start of the last cycle slot a
    # scheduled collection was enqueued for (the scheduler enqueues once per slot).
    is_scheduled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    scheduled_through: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class ProviderToken(Base):
    """Tokens a provider issued for one person. Both token values are encrypted (Fernet) at rest."""

    __tablename__ = "provider_tokens"
    __table_args__ = (UniqueConstraint("person_id", "org_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"))
    org_code: Mapped[str] = mapped_column(String(10))
    access_token: Mapped[str] = mapped_column(Text)
    refresh_token: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    refresh_expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    scope: Mapped[str] = mapped_column(String(400))
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # The operator's client certificate the access token is bound to (RFC 8705 x5t#S256); None without mTLS.
    cert_thumbprint: Mapped[str | None] = mapped_column(String(64), nullable=True)


class Asset(Base):
    """One entry of a provider's asset list (은행-001, 카드-001, 통신-001).

    `asset_index` is the person-keyed HMAC of the asset's natural key (e.g. an account number); `sealed` holds
    {"record_key", "payload"} under the person's data key."""

    __tablename__ = "assets"
    __table_args__ = (UniqueConstraint("person_id", "org_code", "api_id", "asset_index"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"))
    org_code: Mapped[str] = mapped_column(String(10))
    api_id: Mapped[str] = mapped_column(String(40))
    asset_index: Mapped[str] = mapped_column(String(64))
    sealed: Mapped[str] = mapped_column(Text)
    collected_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Record(Base):
    """One collected object: an ASSET_INFO object (natural key '') or an entry of a RECORDS list.

    `key_index` / `natural_index` are person-keyed HMACs of the selector key and the natural key; `sealed` holds
    {"key", "record_key", "payload"} under the person's data key."""

    __tablename__ = "records"
    __table_args__ = (
        UniqueConstraint("person_id", "org_code", "api_id", "key_index", "natural_index"),
        Index("ix_records_person_api", "person_id", "api_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"))
    org_code: Mapped[str] = mapped_column(String(10))
    api_id: Mapped[str] = mapped_column(String(40))
    key_index: Mapped[str] = mapped_column(String(64))
    natural_index: Mapped[str] = mapped_column(String(64))
    sealed: Mapped[str] = mapped_column(Text)
    collected_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class SyncMark(Base):
    """What the operator remembers of (person, API, key) at one provider: the search_timestamp it handed out (sent
    back next time: 00001), the last scheduled transmission and the end of the last range fetched.

    The key (e.g. an account number) is stored as a person-keyed HMAC (`key_index`) and sealed (`sealed_key`)."""

    __tablename__ = "sync_marks"
    __table_args__ = (UniqueConstraint("person_id", "org_code", "api_id", "key_index"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"))
    org_code: Mapped[str] = mapped_column(String(10))
    api_id: Mapped[str] = mapped_column(String(40))
    key_index: Mapped[str] = mapped_column(String(64))
    sealed_key: Mapped[str] = mapped_column(Text)
    search_timestamp: Mapped[str | None] = mapped_column(String(14), nullable=True)
    # The last successful scheduled transmission of this (API, key): at most one per cycle slot (42901 otherwise).
    scheduled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # The end (to_date YYYYMMDD or to_month YYYYMM) of the last range fetched: the next scheduled call starts there.
    fetched_to: Mapped[str | None] = mapped_column(String(8), nullable=True)


class CollectionStatus(Base):
    """Freshness per (person, provider)."""

    __tablename__ = "collection_status"
    __table_args__ = (UniqueConstraint("person_id", "org_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"))
    org_code: Mapped[str] = mapped_column(String(10))
    state: Mapped[str] = mapped_column(String(10))  # ok | partial | failed
    last_attempt: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_success: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    error_code: Mapped[str | None] = mapped_column(String(40), nullable=True)
    record_count: Mapped[int] = mapped_column(Integer, default=0)
    # Failed attempts in a row (0 after a success) and the x-api-type of the last attempt.
    failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    api_type: Mapped[str | None] = mapped_column(String(20), nullable=True)


class Provider(Base):
    """The provider registry, synced from the portal's 지원-002 (one row per organisation and industry)."""

    __tablename__ = "providers"

    org_code: Mapped[str] = mapped_column(String(10), primary_key=True)
    industry: Mapped[str] = mapped_column(String(20), primary_key=True)
    org_name: Mapped[str] = mapped_column(String(200))
    org_type: Mapped[str] = mapped_column(String(2))
    domain: Mapped[str] = mapped_column(String(300))
    auth_type: Mapped[str | None] = mapped_column(String(2), nullable=True)
    relay_org_code: Mapped[str | None] = mapped_column(String(10), nullable=True)
    # The scheduled-transmission windows the provider registered ("hhmm:hhmm", Asia/Seoul; 지원-002 np_time_list).
    np_times: Mapped[Any] = mapped_column(JSON, nullable=True)
    synced_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class SyncState(Base):
    """Small named values, e.g. the last 지원-002 search_timestamp."""

    __tablename__ = "sync_state"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ApiCall(Base):
    """One information API call to a provider, kept for the weekly statistics (지원-004): when it was answered,
    which API with which x-api-type, the answer (rsp_code, HTTP status; None when none came) and how long it took.
    Nothing about the person: the row outlives withdrawal."""

    __tablename__ = "api_calls"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    org_code: Mapped[str] = mapped_column(String(10))
    api_id: Mapped[str] = mapped_column(String(40))
    api_type: Mapped[str] = mapped_column(String(20))
    status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    rsp_code: Mapped[str | None] = mapped_column(String(40), nullable=True)
    rsp_ms: Mapped[int] = mapped_column(Integer)


class WithdrawalAudit(Base):
    """What is kept after a person withdraws: when, which providers answered what, how much was deleted."""

    __tablename__ = "withdrawal_audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    withdrawn_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked: Mapped[Any] = mapped_column(JSON)
    records_deleted: Mapped[int] = mapped_column(Integer)


# The tamper-evident audit log (kit.audit): Core tables on the same metadata, created by migration 20261122_0002.
audit_log, audit_head = audit_tables(Base.metadata)
# Durable collection jobs (kit.jobs), created by migration 20261206_0006.
jobs = job_table(Base.metadata)
