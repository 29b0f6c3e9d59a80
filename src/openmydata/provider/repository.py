"""All SQL of the provider. Functions take the caller's session; none commits (the boundary does)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import case, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from openmydata.kit.audit import AuditChain
from openmydata.kit.clock import as_utc
from openmydata.provider.models import (
    AUTHZ_ISSUED,
    AUTHZ_REDEEMED,
    CONSENT_ACTIVE,
    AccessRecord,
    Authorization,
    Consent,
    Customer,
    CustomerLogin,
    Record,
    RegistryOrg,
    RegistryService,
    RegistrySync,
    ScheduledTransmission,
    Token,
    audit_head,
    audit_log,
)
from openmydata.standard.codes import RspCode

CHUNK = 1000


def _chunks(rows: Sequence[dict[str, Any]], size: int = CHUNK) -> Iterable[Sequence[dict[str, Any]]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


# Customers and records ----------------------------------------------------------------------------------------


async def customer_ids_by_ci(session: AsyncSession, cis: Sequence[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for start in range(0, len(cis), CHUNK):
        result = await session.execute(
            select(Customer.ci, Customer.id).where(Customer.ci.in_(cis[start : start + CHUNK]))
        )
        found.update({ci: customer_id for ci, customer_id in result.all()})
    return found


async def insert_customers(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Bulk insert (executemany) of customer rows: ci, name, birth_date, phone, reg_date, updated_at."""
    for chunk in _chunks(rows):
        await session.execute(insert(Customer), list(chunk))


async def update_customers(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """ORM bulk UPDATE by primary key (executemany); each row has `id` and the columns to set."""
    for chunk in _chunks(rows):
        await session.execute(update(Customer), list(chunk))


async def customer_by_ci(session: AsyncSession, ci: str) -> Customer | None:
    result = await session.execute(select(Customer).where(Customer.ci == ci))
    return result.scalar_one_or_none()


async def get_customer(session: AsyncSession, customer_id: int) -> Customer | None:
    return await session.get(Customer, customer_id)


async def records_of_customers(session: AsyncSession, customer_ids: Sequence[int]) -> list[Record]:
    """Every stored row (tombstones too) of these customers."""
    rows: list[Record] = []
    for start in range(0, len(customer_ids), CHUNK):
        result = await session.execute(
            select(Record).where(Record.customer_id.in_(customer_ids[start : start + CHUNK]))
        )
        rows.extend(result.scalars().all())
    return rows


async def delete_records_of_customers(session: AsyncSession, customer_ids: Sequence[int]) -> None:
    for start in range(0, len(customer_ids), CHUNK):
        await session.execute(delete(Record).where(Record.customer_id.in_(customer_ids[start : start + CHUNK])))


async def insert_records(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Bulk insert (executemany; batched by asyncpg on PostgreSQL)."""
    for chunk in _chunks(rows):
        await session.execute(insert(Record), list(chunk))


async def live_records(session: AsyncSession, customer_id: int) -> list[Record]:
    result = await session.execute(
        select(Record)
        .where(Record.customer_id == customer_id, Record.deleted.is_(False))
        .order_by(Record.api_id, Record.key, Record.seq)
    )
    return list(result.scalars().all())


async def select_records(
    session: AsyncSession,
    customer_id: int,
    api_id: str,
    key: str | None,
    *,
    period_from: str | None = None,
    period_to: str | None = None,
    period: str | None = None,
    from_seq: int | None = None,
    limit: int | None = None,
) -> list[Record]:
    """Live records of one API for one customer, in `seq` order; `key` None means every key."""
    statement = select(Record).where(
        Record.customer_id == customer_id, Record.api_id == api_id, Record.deleted.is_(False)
    )
    if key is not None:
        statement = statement.where(Record.key == key)
    if period_from is not None:
        statement = statement.where(Record.period >= period_from)
    if period_to is not None:
        statement = statement.where(Record.period <= period_to)
    if period is not None:
        statement = statement.where(Record.period == period)
    if from_seq is not None:
        statement = statement.where(Record.seq >= from_seq)
    statement = statement.order_by(Record.seq, Record.id)
    if limit is not None:
        statement = statement.limit(limit)
    result = await session.execute(statement)
    return list(result.scalars().all())


async def last_modified(session: AsyncSession, customer_id: int, api_id: str, key: str | None) -> datetime | None:
    """MT of search_timestamp (digest §2.5): the latest change, removals (tombstones) included."""
    statement = select(func.max(Record.updated_at)).where(Record.customer_id == customer_id, Record.api_id == api_id)
    if key is not None:
        statement = statement.where(Record.key == key)
    value = (await session.execute(statement)).scalar_one_or_none()
    return as_utc(value) if value is not None else None


# Consents and tokens -----------------------------------------------------------------------------------------


async def consent_nonce_used(session: AsyncSession, nonce: str) -> bool:
    result = await session.execute(select(Consent.id).where(Consent.consent_nonce == nonce))
    return result.first() is not None


async def consent_tx_id_used(session: AsyncSession, tx_id: str) -> bool:
    result = await session.execute(select(Consent.id).where(Consent.tx_id == tx_id))
    return result.first() is not None


async def active_consents(session: AsyncSession, customer_id: int, rcv_org_code: str) -> list[Consent]:
    result = await session.execute(
        select(Consent).where(
            Consent.customer_id == customer_id,
            Consent.rcv_org_code == rcv_org_code,
            Consent.status == CONSENT_ACTIVE,
        )
    )
    return list(result.scalars().all())


async def add_consent(session: AsyncSession, consent: Consent) -> None:
    """Insert and flush, so that a reused consent_nonce or tx_id fails here (IntegrityError)."""
    session.add(consent)
    await session.flush()


async def get_consent(session: AsyncSession, consent_id: str) -> Consent | None:
    return await session.get(Consent, consent_id)


async def set_consent_status(session: AsyncSession, consent_ids: Sequence[str], status: str, at: datetime) -> None:
    if consent_ids:
        await session.execute(update(Consent).where(Consent.id.in_(consent_ids)).values(status=status, updated_at=at))


async def add_token(session: AsyncSession, token: Token) -> None:
    session.add(token)
    await session.flush()


async def get_token(session: AsyncSession, jti: str) -> Token | None:
    return await session.get(Token, jti)


async def revoke_tokens(
    session: AsyncSession, consent_ids: Sequence[str], at: datetime, *, kind: str | None = None
) -> None:
    if not consent_ids:
        return
    statement = update(Token).where(Token.consent_id.in_(consent_ids), Token.revoked_at.is_(None))
    if kind is not None:
        statement = statement.where(Token.kind == kind)
    await session.execute(statement.values(revoked_at=at))


# 개별인증: customer logins and authorization requests (provider.authorize) ------------------------------------


async def save_customer_logins(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Set the login rows (customer_id, pin_hash, failures, locked_until, updated_at) of these customers."""
    for chunk in _chunks(rows):
        await session.execute(
            delete(CustomerLogin).where(CustomerLogin.customer_id.in_([row["customer_id"] for row in chunk]))
        )
        await session.execute(insert(CustomerLogin), list(chunk))


async def customer_login(session: AsyncSession, customer_id: int) -> CustomerLogin | None:
    return await session.get(CustomerLogin, customer_id)


async def customers_by_name_and_birth_date(session: AsyncSession, name: str, birth_date: str) -> list[Customer]:
    result = await session.execute(
        select(Customer).where(Customer.name == name, Customer.birth_date == birth_date).order_by(Customer.id)
    )
    return list(result.scalars().all())


async def add_authorization(session: AsyncSession, authorization: Authorization) -> None:
    session.add(authorization)
    await session.flush()


async def get_authorization(session: AsyncSession, authorization_id: str) -> Authorization | None:
    return await session.get(Authorization, authorization_id)


async def authorization_by_code(session: AsyncSession, code_hash: str) -> Authorization | None:
    result = await session.execute(select(Authorization).where(Authorization.code_hash == code_hash))
    return result.scalar_one_or_none()


async def claim_authorization_code(session: AsyncSession, authorization_id: str, at: datetime) -> bool:
    """Mark an issued code redeemed; False when it was not (any more) in the issued state, so that of two
    concurrent redemptions only one wins."""
    result = await session.execute(
        update(Authorization)
        .where(Authorization.id == authorization_id, Authorization.status == AUTHZ_ISSUED)
        .values(status=AUTHZ_REDEEMED, redeemed_at=at)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


async def delete_authorizations_before(session: AsyncSession, moment: datetime) -> None:
    """Forget authorization requests (and their codes) that expired before `moment`."""
    await session.execute(delete(Authorization).where(Authorization.expires_at < moment))


# Registry (지원-002 / 지원-003) --------------------------------------------------------------------------------


async def get_service(session: AsyncSession, client_id: str) -> RegistryService | None:
    return await session.get(RegistryService, client_id)


async def save_service(session: AsyncSession, service: RegistryService) -> None:
    await session.merge(service)


async def delete_service(session: AsyncSession, client_id: str) -> None:
    await session.execute(delete(RegistryService).where(RegistryService.client_id == client_id))


async def save_org(session: AsyncSession, org: RegistryOrg) -> None:
    await session.merge(org)


async def delete_org(session: AsyncSession, org_code: str, industry: str | None) -> None:
    statement = delete(RegistryOrg).where(RegistryOrg.org_code == org_code)
    if industry:
        statement = statement.where(RegistryOrg.industry == industry)
    await session.execute(statement)


async def list_orgs(session: AsyncSession) -> list[RegistryOrg]:
    result = await session.execute(select(RegistryOrg).order_by(RegistryOrg.org_code, RegistryOrg.industry))
    return list(result.scalars().all())


async def published_windows(session: AsyncSession, org_code: str) -> list[str] | None:
    """The scheduled-transmission windows the registry lists for `org_code` (the same on each of its industry
    entries; the latest entry wins should they differ), or None when it publishes none."""
    result = await session.execute(
        select(RegistryOrg.np_time_list)
        .where(RegistryOrg.org_code == org_code)
        .order_by(RegistryOrg.updated_at.desc(), RegistryOrg.industry)
    )
    for (windows,) in result.all():
        if windows:
            return [str(window) for window in windows]
    return None


async def sync_timestamp(session: AsyncSession, name: str) -> str | None:
    state = await session.get(RegistrySync, name)
    return state.search_timestamp if state else None


async def save_sync_timestamp(session: AsyncSession, name: str, search_timestamp: str, at: datetime) -> None:
    await session.merge(RegistrySync(name=name, search_timestamp=search_timestamp, synced_at=at))


# Access records ----------------------------------------------------------------------------------------------


async def add_access_record(session: AsyncSession, record: AccessRecord) -> None:
    """Store who read what, and append it to the audit chain in the same transaction (a Core insert: one row per
    information API call, nothing for the unit of work to track)."""
    columns = AccessRecord.__table__.columns
    await session.execute(
        insert(AccessRecord).values(
            {column.key: getattr(record, column.key) for column in columns if column.key != "id"}
        )
    )
    await audit(
        session,
        "info_api",
        {
            "api_id": record.api_id,
            "api_type": record.api_type,
            "rcv_org_code": record.rcv_org_code,
            "consent_id": record.consent_id,
            "key": record.key,
            "status_code": record.status_code,
            "rsp_code": record.rsp_code,
            "tran_id": record.tran_id,
        },
        at=record.at,
    )


AUDIT = AuditChain(audit_log, audit_head)


async def audit(session: AsyncSession, kind: str, event: Mapping[str, Any], *, at: datetime | None = None) -> None:
    """Append to the provider's tamper-evident audit chain (kit.audit) in the caller's transaction."""
    await AUDIT.append(session, kind, event, at=at)


async def access_records(session: AsyncSession, consent_id: str | None = None) -> list[AccessRecord]:
    statement = select(AccessRecord).order_by(AccessRecord.id)
    if consent_id is not None:
        statement = statement.where(AccessRecord.consent_id == consent_id)
    result = await session.execute(statement)
    return list(result.scalars().all())


# Scheduled transmissions (정기적 전송, digest §10.4) -------------------------------------------------------------


async def claim_scheduled_transmission(
    session: AsyncSession,
    *,
    consent_id: str,
    api_id: str,
    key: str,
    period_start: datetime,
    limit: int,
    at: datetime,
) -> bool:
    """Count one scheduled transmission of (consent, API, key) in the period starting at `period_start`, unless
    `limit` were already counted there: True when counted, False when the period's transmissions are used up.

    One conditional upsert (PostgreSQL and SQLite both have INSERT … ON CONFLICT DO UPDATE … WHERE), so that the
    check and the count cannot be split by a concurrent call: on PostgreSQL the second of two concurrent calls
    waits for the first's row lock and re-evaluates the condition on the committed row; SQLite runs one writer at
    a time. A row of an earlier period starts again at 1. It runs in the caller's transaction: if the call then
    fails, the rollback takes the count back.
    """
    start = as_utc(period_start)  # SQLite compares stored text: every time in a query is UTC
    values = {
        "consent_id": consent_id,
        "api_id": api_id,
        "key": key,
        "period_start": start,
        "transmissions": 1,
        "last_at": as_utc(at),
    }
    dialect = session.get_bind().dialect.name
    upsert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(ScheduledTransmission).values(values)
    row = ScheduledTransmission
    new_period = row.period_start < upsert.excluded.period_start
    statement = upsert.on_conflict_do_update(
        index_elements=[row.consent_id, row.api_id, row.key],
        set_={
            "transmissions": case((new_period, 1), else_=row.transmissions + 1),
            "period_start": case((new_period, upsert.excluded.period_start), else_=row.period_start),
            "last_at": upsert.excluded.last_at,
        },
        # A row ahead of `period_start` (another process's clock already in the next period) is not reset either.
        where=new_period | ((row.period_start == upsert.excluded.period_start) & (row.transmissions < limit)),
    ).returning(row.transmissions)
    result = await session.execute(statement)
    return result.first() is not None


async def scheduled_transmissions(session: AsyncSession, consent_id: str) -> list[ScheduledTransmission]:
    result = await session.execute(
        select(ScheduledTransmission)
        .where(ScheduledTransmission.consent_id == consent_id)
        .order_by(ScheduledTransmission.api_id, ScheduledTransmission.key)
    )
    return list(result.scalars().all())


# Weekly statistics (지원-005) and status (지원-102) -------------------------------------------------------------


async def calls_between(session: AsyncSession, start: datetime, end: datetime) -> list[tuple[Any, ...]]:
    """(at, api_id, api_type, rsp_code, rsp_ms, client_id, rcv_org_code) of every information API call in
    [start, end) whose consent is known (a call refused before its token was read names no operator service)."""
    result = await session.execute(
        select(
            AccessRecord.at,
            AccessRecord.api_id,
            AccessRecord.api_type,
            AccessRecord.rsp_code,
            AccessRecord.rsp_ms,
            Consent.client_id,
            Consent.rcv_org_code,
        )
        .join(Consent, Consent.id == AccessRecord.consent_id)
        .where(AccessRecord.at >= start, AccessRecord.at < end)
        .order_by(AccessRecord.id)
    )
    return [tuple(row) for row in result.all()]


async def consents_between(session: AsyncSession, start: datetime, end: datetime) -> list[Consent]:
    """Consents held at some moment of [start, end): given before `end`, not ended before `start` (by their
    end_at, or by a revocation or replacement, which sets updated_at)."""
    result = await session.execute(
        select(Consent)
        .where(
            Consent.created_at < end,
            Consent.end_at >= start,
            (Consent.status == CONSENT_ACTIVE) | (Consent.updated_at >= start),
        )
        .order_by(Consent.created_at, Consent.id)
    )
    return list(result.scalars().all())


async def call_outcomes_since(session: AsyncSession, since: datetime) -> tuple[int, int]:
    """(calls, calls this side failed: HTTP 5xx) among the information API calls since `since`. A scheduled call
    outside the published windows is answered 50009 at HTTP 500 (the code table) but is the caller's mistake, not a
    failure of this side."""
    failed = (AccessRecord.status_code >= 500) & (AccessRecord.rsp_code != RspCode.OUTSIDE_WINDOW.value)
    result = await session.execute(select(func.count(), func.count().filter(failed)).where(AccessRecord.at >= since))
    calls, failed = result.one()
    return int(calls or 0), int(failed or 0)
