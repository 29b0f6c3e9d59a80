"""The CA's tables: certificate holders, the organisations allowed to call it (from the portal), CA tokens,
identity and sign requests, the consents signed in them, and the audit hash chain."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from openmydata.kit.audit import audit_tables
from openmydata.kit.db import NAMING_CONVENTION

BigId = BigInteger().with_variant(Integer(), "sqlite")

KIND_IDENTITY = "identity"
KIND_SIGN = "sign"

STATUS_PENDING = "01"
STATUS_DONE = "02"
STATUS_REJECTED = "03"
STATUS_EXPIRED = "04"


class Base(DeclarativeBase):
    """The CA's declarative base (what `kit.db.make_base()` builds, spelled as a class for mypy)."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Person(Base):
    """A certificate holder. The private key is kept encrypted under the person's PIN, so the CA can sign only
    when the person approves with it; `pin_hash` (scrypt) tells a wrong PIN apart."""

    __tablename__ = "persons"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    ci: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    birth_date: Mapped[str] = mapped_column(String(8))
    phone: Mapped[str] = mapped_column(String(20), index=True)
    pin_hash: Mapped[str] = mapped_column(String(200))
    key_pem: Mapped[str] = mapped_column(Text)
    cert_pem: Mapped[str] = mapped_column(Text)
    cert_serial: Mapped[str] = mapped_column(String(64), unique=True)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class RegisteredOrg(Base):
    """An organisation the portal lets call the CA (지원-006); only the hash of its CA secret is kept."""

    __tablename__ = "registered_orgs"

    org_code: Mapped[str] = mapped_column(String(10), primary_key=True)
    org_type: Mapped[str] = mapped_column(String(2))
    org_name: Mapped[str] = mapped_column(String(300))
    ca_client_id: Mapped[str] = mapped_column(String(50), unique=True)
    ca_secret_hash: Mapped[str] = mapped_column(String(64))
    synced_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CaToken(Base):
    __tablename__ = "ca_tokens"

    jti: Mapped[str] = mapped_column(String(32), primary_key=True)
    org_code: Mapped[str] = mapped_column(String(10), index=True)
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CertRequest(Base):
    """An identity request or a sign request, addressed to one person, waiting for their approval."""

    __tablename__ = "cert_requests"

    cert_tx_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    org_code: Mapped[str] = mapped_column(String(10), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    status: Mapped[str] = mapped_column(String(2))
    request_title: Mapped[str] = mapped_column(String(300))
    sign_tx_id: Mapped[str | None] = mapped_column(String(49))
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    pin_failures: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class SignedConsent(Base):
    """One consent of a sign request: the exact text the operator sent and, once approved, its CMS signature."""

    __tablename__ = "signed_consents"
    __table_args__ = (UniqueConstraint("cert_tx_id", "tx_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    cert_tx_id: Mapped[str] = mapped_column(ForeignKey("cert_requests.cert_tx_id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    tx_id: Mapped[str] = mapped_column(String(74))
    consent_title: Mapped[str] = mapped_column(String(300))
    consent: Mapped[str] = mapped_column(Text)
    signed_consent: Mapped[str | None] = mapped_column(Text)


# The tamper-evident audit log (kit.audit): Core tables on the same metadata, created by migration 0002.
audit_log, audit_head = audit_tables(Base.metadata)
