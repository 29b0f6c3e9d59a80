"""The portal's tables: organisations, their credentials, operator services, the change log behind
search_timestamp deltas, issued support tokens, statistics reports and the audit hash chain."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from openmydata.kit.audit import audit_tables
from openmydata.kit.db import NAMING_CONVENTION


class Base(DeclarativeBase):
    """The portal's declarative base (what `kit.db.make_base()` builds, spelled as a class for mypy)."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


BigId = BigInteger().with_variant(Integer(), "sqlite")


class Org(Base):
    """A registered organisation (one org_code; it may serve several industries)."""

    __tablename__ = "orgs"

    org_code: Mapped[str] = mapped_column(String(10), primary_key=True)
    org_type: Mapped[str] = mapped_column(String(2))
    org_name: Mapped[str] = mapped_column(String(300))
    org_regno: Mapped[str] = mapped_column(String(12))
    domain: Mapped[str] = mapped_column(String(256))
    auth_type: Mapped[str] = mapped_column(String(2))
    relay_org_code: Mapped[str | None] = mapped_column(String(10))
    industries: Mapped[list[str]] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # The registered TLS certificate: its subject SERIALNUMBER, the SHA-256 fingerprints (hex, newest first, at
    # most 3: old ones stay valid during a rotation), the issuer and the newest certificate's expiry.
    serial_num: Mapped[str | None] = mapped_column(String(64), nullable=True)
    cert_fingerprints: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    cert_issuer_dn: Mapped[str | None] = mapped_column(String(256), nullable=True)
    cert_not_after: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # An information provider's scheduled-transmission windows ("hhmm:hhmm", Asia/Seoul; digest §10.4), published
    # in 지원-002 as np_time_cnt / np_time_list; None when it registered none.
    np_time_list: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)


class Credential(Base):
    """A client_id/secret pair the portal issued to an organisation.

    purpose `support` calls the portal's 지원 APIs: only its SHA-256 hash is kept. purpose `ca` calls the
    certification authorities: the portal must hand it to every CA through 지원-006, so it is also kept
    encrypted (Fernet, `credentials_key`).
    """

    __tablename__ = "credentials"
    __table_args__ = (UniqueConstraint("org_code", "purpose"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    org_code: Mapped[str] = mapped_column(ForeignKey("orgs.org_code"))
    purpose: Mapped[str] = mapped_column(String(10))
    client_id: Mapped[str] = mapped_column(String(50), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    secret_encrypted: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Service(Base):
    """An operator's service (its OAuth client at every provider), distributed by 지원-003."""

    __tablename__ = "services"

    client_id: Mapped[str] = mapped_column(String(50), primary_key=True)
    org_code: Mapped[str] = mapped_column(ForeignKey("orgs.org_code"), index=True)
    service_name: Mapped[str] = mapped_column(String(300))
    secret_encrypted: Mapped[str] = mapped_column(Text)
    redirect_uri: Mapped[str] = mapped_column(String(100))
    app_scheme: Mapped[str | None] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Change(Base):
    """One change of the registry: entity `org` (item = industry) or `service` (item = client_id)."""

    __tablename__ = "changes"
    __table_args__ = (Index("ix_changes_entity_at", "entity", "changed_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    entity: Mapped[str] = mapped_column(String(10))
    org_code: Mapped[str] = mapped_column(String(10))
    item: Mapped[str] = mapped_column(String(50))
    op_type: Mapped[str] = mapped_column(String(1))
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class IssuedToken(Base):
    """A support-API access token (지원-001); a token whose row is gone or whose org left is refused."""

    __tablename__ = "issued_tokens"

    jti: Mapped[str] = mapped_column(String(32), primary_key=True)
    org_code: Mapped[str] = mapped_column(ForeignKey("orgs.org_code"), index=True)
    client_id: Mapped[str] = mapped_column(String(50))
    scope: Mapped[str] = mapped_column(String(20))
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class StatisticsReport(Base):
    """A weekly statistics report (지원-004 from an operator, 지원-005 from a provider), stored as sent."""

    __tablename__ = "statistics_reports"
    __table_args__ = (UniqueConstraint("api_id", "org_code", "client_id", "stat_type", "inquiry_date"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    api_id: Mapped[str] = mapped_column(String(10))
    org_code: Mapped[str] = mapped_column(String(10))
    mydata_org_code: Mapped[str] = mapped_column(String(10))
    client_id: Mapped[str] = mapped_column(String(50))
    stat_type: Mapped[str] = mapped_column(String(1))
    inquiry_date: Mapped[str] = mapped_column(String(8))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


# The tamper-evident audit log (kit.audit): Core tables on the same metadata, created by migration 0002.
audit_log, audit_head = audit_tables(Base.metadata)
