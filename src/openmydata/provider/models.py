"""The provider's tables: customers and their records (what it serves), consents and tokens (what it enforces),
the portal registry (who may call), and the access records (who read what)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, BigInteger, Boolean, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from openmydata.kit.audit import audit_tables
from openmydata.kit.db import make_base

if TYPE_CHECKING:
    from sqlalchemy.orm import DeclarativeBase

    class Base(DeclarativeBase):
        pass
else:
    Base = make_base()

# BIGINT on PostgreSQL, INTEGER (the rowid alias, so it autoincrements) on SQLite.
Id = BigInteger().with_variant(Integer(), "sqlite")

CONSENT_ACTIVE = "active"
CONSENT_REPLACED = "replaced"
CONSENT_REVOKED = "revoked"

TOKEN_ACCESS = "access"
TOKEN_REFRESH = "refresh"


class Customer(Base):
    """A data subject the institution holds data for, identified across institutions by the CI."""

    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    ci: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    birth_date: Mapped[str] = mapped_column(String(8))
    phone: Mapped[str] = mapped_column(String(20))
    reg_date: Mapped[str | None] = mapped_column(String(8), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Record(Base):
    """One object an API returns for a customer (see `standard.dataset.StoredRecord`).

    `seq` orders a (customer, api, key) group chronologically and is the keyset for paging; `deleted` rows are
    tombstones that keep `updated_at` (the search_timestamp MT) moving when an object disappears.
    """

    __tablename__ = "records"
    __table_args__ = (Index("ix_records_lookup", "customer_id", "api_id", "key", "period", "seq"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    customer_id: Mapped[int] = mapped_column(Id, ForeignKey("customers.id", ondelete="CASCADE"))
    api_id: Mapped[str] = mapped_column(String(40))
    key: Mapped[str] = mapped_column(String(200))
    period: Mapped[str] = mapped_column(String(14))
    seq: Mapped[int] = mapped_column(Integer)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)


class Consent(Base):
    """A recorded 전송요구: what one customer asked this provider to send to one operator (통합인증-002)."""

    __tablename__ = "consents"
    __table_args__ = (Index("ix_consents_customer_operator", "customer_id", "rcv_org_code", "status"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    customer_id: Mapped[int] = mapped_column(Id, ForeignKey("customers.id", ondelete="CASCADE"))
    rcv_org_code: Mapped[str] = mapped_column(String(10))
    client_id: Mapped[str] = mapped_column(String(50))
    consent: Mapped[dict[str, Any]] = mapped_column(JSON)
    scope: Mapped[str] = mapped_column(String(512))
    tx_id: Mapped[str] = mapped_column(String(74), unique=True, index=True)  # one consent per transaction
    cert_tx_id: Mapped[str] = mapped_column(String(40))
    consent_nonce: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(10))
    end_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Token(Base):
    """An issued access or refresh token (the JWS itself is not stored; its jti is)."""

    __tablename__ = "tokens"

    jti: Mapped[str] = mapped_column(String(32), primary_key=True)
    consent_id: Mapped[str] = mapped_column(String(32), ForeignKey("consents.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class RegistryOrg(Base):
    """An organisation of the portal's registry (지원-002), one row per (org, industry)."""

    __tablename__ = "registry_orgs"

    org_code: Mapped[str] = mapped_column(String(10), primary_key=True)
    industry: Mapped[str] = mapped_column(String(20), primary_key=True)
    org_type: Mapped[str] = mapped_column(String(2))
    org_name: Mapped[str] = mapped_column(String(200))
    org_regno: Mapped[str | None] = mapped_column(String(20), nullable=True)
    domain: Mapped[str | None] = mapped_column(String(200), nullable=True)
    auth_type: Mapped[str | None] = mapped_column(String(2), nullable=True)
    # The scheduled-transmission windows the organisation publishes (지원-002 np_time_list, "hhmm:hhmm" each);
    # None when it publishes none. The provider enforces its own (`InfoService.check_window`).
    np_time_list: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class RegistryService(Base):
    """An operator's service (its OAuth client) from 지원-003; the secret is kept as a SHA-256 hex digest."""

    __tablename__ = "registry_services"

    client_id: Mapped[str] = mapped_column(String(50), primary_key=True)
    org_code: Mapped[str] = mapped_column(String(10), index=True)
    service_name: Mapped[str] = mapped_column(String(200))
    client_secret_hash: Mapped[str] = mapped_column(String(64))
    redirect_uri: Mapped[str | None] = mapped_column(String(200), nullable=True)
    app_scheme: Mapped[str | None] = mapped_column(String(200), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class RegistrySync(Base):
    """The search_timestamp the portal last handed out per support API (incremental sync)."""

    __tablename__ = "registry_sync"

    name: Mapped[str] = mapped_column(String(20), primary_key=True)
    search_timestamp: Mapped[str] = mapped_column(String(14))
    synced_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AccessRecord(Base):
    """Who read what: one row per information API call (the seed of the audit log)."""

    __tablename__ = "access_records"
    __table_args__ = (Index("ix_access_records_consent", "consent_id", "at"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    tran_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    api_id: Mapped[str] = mapped_column(String(40))
    api_type: Mapped[str | None] = mapped_column(String(20), nullable=True)
    rcv_org_code: Mapped[str | None] = mapped_column(String(10), nullable=True)
    consent_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    key: Mapped[str | None] = mapped_column(String(200), nullable=True)
    status_code: Mapped[int] = mapped_column(Integer)
    rsp_code: Mapped[str] = mapped_column(String(5))
    # How long the provider took to answer, in milliseconds (weekly statistics, 지원-005); None on older rows.
    rsp_ms: Mapped[int | None] = mapped_column(Integer, nullable=True)


class ScheduledTransmission(Base):
    """How many scheduled transmissions (정기적 전송) of one API and asset a consent has had in the current period of
    its cycle (digest §10.4): one row per (consent, API, selector key), holding the start of the period it counts
    (UTC) and the count so far. A call in a later period starts the count again in the same row, so the table
    never grows beyond one row per consented API and asset (`repository.claim_scheduled_transmission`)."""

    __tablename__ = "scheduled_transmissions"

    consent_id: Mapped[str] = mapped_column(String(32), ForeignKey("consents.id", ondelete="CASCADE"), primary_key=True)
    api_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    period_start: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    transmissions: Mapped[int] = mapped_column(Integer)
    last_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CustomerLogin(Base):
    """How a customer signs in on the institution's own login page (개별인증-001): a six-digit PIN kept as a
    scrypt hash, and the consecutive failures that lock the login for a while (`provider.authorize`)."""

    __tablename__ = "customer_logins"

    customer_id: Mapped[int] = mapped_column(Id, ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True)
    pin_hash: Mapped[str] = mapped_column(String(200))
    failures: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


AUTHZ_LOGIN = "login"  # waiting for the customer to sign in
AUTHZ_SELECT = "select"  # signed in, choosing assets and scopes
AUTHZ_ISSUED = "issued"  # code handed to the operator, not redeemed yet
AUTHZ_REDEEMED = "redeemed"  # code exchanged for tokens (개별인증-002)
AUTHZ_ENDED = "ended"  # cancelled, refused or failed


class Authorization(Base):
    """One 개별인증-001 request: the person's way through the login and asset-selection pages (bound to one browser
    by a cookie, `browser_hash`, and to the pages by `csrf`), then the authorization code it ends in, kept as its
    SHA-256 only, single use, bound to the client, its redirect_uri and the PKCE challenge. `terms` is the consent
    the person chose; it is recorded (and tokens issued) when the code is redeemed, under `consent_id`."""

    __tablename__ = "authorizations"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    browser_hash: Mapped[str] = mapped_column(String(64))
    csrf: Mapped[str] = mapped_column(String(64))
    client_id: Mapped[str] = mapped_column(String(50))
    rcv_org_code: Mapped[str] = mapped_column(String(10))
    redirect_uri: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(40))
    code_challenge: Mapped[str] = mapped_column(String(128))
    app_scheme: Mapped[str | None] = mapped_column(String(200), nullable=True)
    user_ci: Mapped[str | None] = mapped_column(String(100), nullable=True)
    customer_id: Mapped[int | None] = mapped_column(Id, ForeignKey("customers.id", ondelete="CASCADE"), nullable=True)
    login_failures: Mapped[int] = mapped_column(Integer, default=0)
    terms: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    code_hash: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    consent_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    status: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    redeemed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


# The tamper-evident audit log (kit.audit): consent events and every information API access.
audit_log, audit_head = audit_tables(Base.metadata)
