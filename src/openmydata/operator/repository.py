"""All SQL of the operator. Functions take the caller's session and never commit."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from openmydata.kit.audit import AuditChain
from openmydata.kit.clock import as_utc
from openmydata.operator.collector import Mark
from openmydata.operator.models import (
    ApiCall,
    Asset,
    CollectionStatus,
    Consent,
    DataKey,
    PendingRequest,
    Person,
    Provider,
    ProviderToken,
    Record,
    SyncMark,
    SyncState,
    WebSession,
    WithdrawalAudit,
)
from openmydata.operator.personal import HeldAsset, HeldRecord, open_row, row_aad, row_indexer, seal_row

_CHUNK = 500


async def _upsert(
    session: AsyncSession,
    table: Any,
    rows: Sequence[Mapping[str, Any]],
    keys: Sequence[str],
    update_columns: Sequence[str],
) -> None:
    """INSERT … ON CONFLICT (keys) DO UPDATE on both dialects, in chunks."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(table)
    statement = statement.on_conflict_do_update(
        index_elements=list(keys), set_={name: statement.excluded[name] for name in update_columns}
    )
    # One statement for any number of rows: compiled once and cached, batched by the driver ("insertmanyvalues").
    for start in range(0, len(rows), _CHUNK):
        await session.execute(statement, [dict(row) for row in rows[start : start + _CHUNK]])


# operator-wide data keys (stored wrapped)


async def data_key(session: AsyncSession, name: str) -> str | None:
    statement = select(DataKey.wrapped_key).where(DataKey.name == name)
    return (await session.execute(statement)).scalar_one_or_none()


async def add_data_key(session: AsyncSession, name: str, wrapped_key: str, now: datetime) -> None:
    """Store a wrapped data key unless one of that name exists (concurrent first starts keep the first)."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(DataKey).values(name=name, wrapped_key=wrapped_key, created_at=now)
    await session.execute(statement.on_conflict_do_nothing(index_elements=["name"]))


# persons and sessions


async def person_by_ci_index(session: AsyncSession, ci_index: str) -> Person | None:
    return (await session.execute(select(Person).where(Person.ci_index == ci_index))).scalar_one_or_none()


async def person_by_id(session: AsyncSession, person_id: int) -> Person | None:
    return await session.get(Person, person_id)


async def add_person(session: AsyncSession, person: Person) -> Person:
    session.add(person)
    await session.flush()
    return person


async def add_session(session: AsyncSession, web_session: WebSession) -> None:
    session.add(web_session)
    await session.flush()


async def person_for_session(session: AsyncSession, token_hash: str, now: datetime) -> Person | None:
    statement = (
        select(Person)
        .join(WebSession, WebSession.person_id == Person.id)
        .where(WebSession.token_hash == token_hash, WebSession.expires_at > now)
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def delete_session(session: AsyncSession, token_hash: str) -> None:
    await session.execute(delete(WebSession).where(WebSession.token_hash == token_hash))


async def delete_expired_sessions(session: AsyncSession, now: datetime) -> None:
    await session.execute(delete(WebSession).where(WebSession.expires_at <= now))


# pending identity / sign requests


async def add_pending(session: AsyncSession, pending: PendingRequest) -> None:
    session.add(pending)
    await session.flush()


async def pending(session: AsyncSession, cert_tx_id: str, kind: str) -> PendingRequest | None:
    statement = select(PendingRequest).where(PendingRequest.cert_tx_id == cert_tx_id, PendingRequest.kind == kind)
    return (await session.execute(statement)).scalar_one_or_none()


# consents and tokens


async def add_consent(session: AsyncSession, consent: Consent) -> None:
    session.add(consent)
    await session.flush()


async def supersede_consents(session: AsyncSession, person_id: int, org_code: str) -> None:
    await session.execute(
        update(Consent)
        .where(
            Consent.person_id == person_id,
            Consent.org_code == org_code,
            Consent.status.in_(("active", "ended")),
        )
        .values(status="superseded")
    )


async def consents_of(session: AsyncSession, person_id: int) -> list[Consent]:
    statement = select(Consent).where(Consent.person_id == person_id).order_by(Consent.signed_at.desc(), Consent.id)
    return list((await session.execute(statement)).scalars())


async def active_consents(session: AsyncSession, person_id: int, now: datetime | None = None) -> list[Consent]:
    """The person's active consents; with `now`, only those whose end_date is still ahead."""
    statement = select(Consent).where(Consent.person_id == person_id, Consent.status == "active")
    if now is not None:
        statement = statement.where(Consent.end_date > now)
    return list((await session.execute(statement.order_by(Consent.org_code))).scalars())


async def end_consents(session: AsyncSession, now: datetime, person_id: int | None = None) -> int:
    """Mark active consents whose end_date has passed (end_date <= now) "ended"; returns how many."""
    statement = update(Consent).where(
        Consent.status == "active", Consent.person_id.is_not(None), Consent.end_date <= now
    )
    if person_id is not None:
        statement = statement.where(Consent.person_id == person_id)
    result = await session.execute(statement.values(status="ended").execution_options(synchronize_session=False))
    return int(getattr(result, "rowcount", 0) or 0)


async def ended_consents(session: AsyncSession, now: datetime, *, after_id: int, limit: int) -> list[Consent]:
    """One page (by id, after `after_id`) of ended consents of persons still signed up."""
    statement = (
        select(Consent)
        .where(
            Consent.status == "ended",
            Consent.person_id.is_not(None),
            Consent.end_date <= now,
            Consent.id > after_id,
        )
        .order_by(Consent.id)
        .limit(limit)
    )
    return list((await session.execute(statement)).scalars())


async def has_active_consent(session: AsyncSession, person_id: int, org_code: str) -> bool:
    statement = (
        select(func.count())
        .select_from(Consent)
        .where(Consent.person_id == person_id, Consent.org_code == org_code, Consent.status == "active")
    )
    return bool(await session.scalar(statement))


async def set_consent_status(session: AsyncSession, consent_id: int, status: str) -> None:
    await session.execute(
        update(Consent)
        .where(Consent.id == consent_id)
        .values(status=status)
        .execution_options(synchronize_session=False)
    )


async def withdraw_consents(session: AsyncSession, person_id: int, now: datetime, org_code: str | None = None) -> int:
    """Mark every consent of the person (at one provider, with `org_code`) withdrawn and strip what identifies
    them (payload, nonce, person)."""
    statement = update(Consent).where(Consent.person_id == person_id)
    if org_code is not None:
        statement = statement.where(Consent.org_code == org_code)
    result = await session.execute(
        statement.values(
            status="withdrawn",
            withdrawn_at=now,
            consent=None,
            consent_nonce=None,
            person_id=None,
        ).execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def active_consent(session: AsyncSession, person_id: int, org_code: str, now: datetime) -> Consent | None:
    """The person's active consent at one provider whose end_date is still ahead."""
    statement = select(Consent).where(
        Consent.person_id == person_id,
        Consent.org_code == org_code,
        Consent.status == "active",
        Consent.end_date > now,
    )
    return (await session.execute(statement.order_by(Consent.id.desc()).limit(1))).scalar_one_or_none()


async def scheduled_consents(session: AsyncSession, now: datetime, *, after_id: int, limit: int) -> list[Consent]:
    """One page (by id, after `after_id`) of live consents with scheduled transmission (정기적 전송)."""
    statement = (
        select(Consent)
        .where(
            Consent.status == "active",
            Consent.is_scheduled.is_(True),
            Consent.person_id.is_not(None),
            Consent.end_date > now,
            Consent.id > after_id,
        )
        .order_by(Consent.id)
        .limit(limit)
    )
    return list((await session.execute(statement)).scalars())


async def set_scheduled_through(session: AsyncSession, consent_ids: Sequence[int], slot: datetime) -> None:
    if consent_ids:
        await session.execute(
            update(Consent)
            .where(Consent.id.in_(list(consent_ids)))
            .values(scheduled_through=slot)
            .execution_options(synchronize_session=False)
        )


async def live_consents(session: AsyncSession, now: datetime, *, after_id: int, limit: int) -> list[Consent]:
    """One page (by id) of every person's live consents (for `openmydata operator collect --all`)."""
    statement = (
        select(Consent)
        .where(
            Consent.status == "active",
            Consent.person_id.is_not(None),
            Consent.end_date > now,
            Consent.id > after_id,
        )
        .order_by(Consent.id)
        .limit(limit)
    )
    return list((await session.execute(statement)).scalars())


async def token_of(session: AsyncSession, person_id: int, org_code: str) -> ProviderToken | None:
    statement = select(ProviderToken).where(ProviderToken.person_id == person_id, ProviderToken.org_code == org_code)
    return (await session.execute(statement)).scalar_one_or_none()


async def person_exists(session: AsyncSession, person_id: int) -> bool:
    return bool(await session.scalar(select(func.count()).select_from(Person).where(Person.id == person_id)))


async def save_token(session: AsyncSession, values: Mapping[str, Any]) -> None:
    await _upsert(
        session,
        ProviderToken.__table__,
        [values],
        ("person_id", "org_code"),
        ("access_token", "refresh_token", "expires_at", "refresh_expires_at", "scope", "issued_at", "cert_thumbprint"),
    )


async def tokens_of(session: AsyncSession, person_id: int) -> list[ProviderToken]:
    statement = select(ProviderToken).where(ProviderToken.person_id == person_id).order_by(ProviderToken.org_code)
    return list((await session.execute(statement)).scalars())


async def update_access_token(
    session: AsyncSession,
    person_id: int,
    org_code: str,
    access_token: str,
    expires_at: datetime,
    cert_thumbprint: str | None = None,
) -> None:
    await session.execute(
        update(ProviderToken)
        .where(ProviderToken.person_id == person_id, ProviderToken.org_code == org_code)
        .values(access_token=access_token, expires_at=expires_at, cert_thumbprint=cert_thumbprint)
    )


# collected data: sealed with the person's data key, looked up through person-keyed HMACs


def asset_rows(
    person_id: int, person_key: bytes, org_code: str, api_id: str, items: Iterable[tuple[str, Any]], now: datetime
) -> list[dict[str, Any]]:
    """Rows of `assets`, sealed under the person's data key (CPU work, done before the writing transaction)."""
    index = row_indexer(person_key)
    aad = row_aad("assets", person_id, org_code, api_id)
    return [
        {
            "person_id": person_id,
            "org_code": org_code,
            "api_id": api_id,
            "asset_index": index(asset_key),
            "sealed": seal_row(person_key, {"record_key": asset_key, "payload": payload}, aad),
            "collected_at": now,
        }
        for asset_key, payload in items
    ]


def record_rows(
    person_id: int,
    person_key: bytes,
    org_code: str,
    api_id: str,
    items: Iterable[tuple[str, str, Any]],
    now: datetime,
) -> list[dict[str, Any]]:
    """Rows of `records`, sealed under the person's data key."""
    index = row_indexer(person_key)
    aad = row_aad("records", person_id, org_code, api_id)
    return [
        {
            "person_id": person_id,
            "org_code": org_code,
            "api_id": api_id,
            "key_index": index(key),
            "natural_index": index(natural),
            "sealed": seal_row(person_key, {"key": key, "record_key": natural, "payload": payload}, aad),
            "collected_at": now,
        }
        for key, natural, payload in items
    ]


async def write_assets(session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> None:
    await _upsert(
        session, Asset.__table__, rows, ("person_id", "org_code", "api_id", "asset_index"), ("sealed", "collected_at")
    )


async def write_records(session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> None:
    await _upsert(
        session,
        Record.__table__,
        rows,
        ("person_id", "org_code", "api_id", "key_index", "natural_index"),
        ("sealed", "collected_at"),
    )


async def save_assets(
    session: AsyncSession,
    person_id: int,
    person_key: bytes,
    org_code: str,
    api_id: str,
    items: Iterable[tuple[str, Any]],
    now: datetime,
) -> None:
    await write_assets(session, asset_rows(person_id, person_key, org_code, api_id, items, now))


async def save_records(
    session: AsyncSession,
    person_id: int,
    person_key: bytes,
    org_code: str,
    api_id: str,
    items: Iterable[tuple[str, str, Any]],
    now: datetime,
) -> None:
    await write_records(session, record_rows(person_id, person_key, org_code, api_id, items, now))


async def assets_of(
    session: AsyncSession, person_id: int, person_key: bytes, org_code: str | None = None
) -> list[HeldAsset]:
    """The person's assets, opened, in (org_code, api_id, asset key) order."""
    statement = select(Asset).where(Asset.person_id == person_id)
    if org_code is not None:
        statement = statement.where(Asset.org_code == org_code)
    held = []
    for row in (await session.execute(statement)).scalars():
        opened = open_row(person_key, row.sealed, row_aad("assets", person_id, row.org_code, row.api_id))
        held.append(HeldAsset(row.org_code, row.api_id, str(opened["record_key"]), opened["payload"]))
    return sorted(held, key=lambda a: (a.org_code, a.api_id, a.asset_key))


async def records_of(
    session: AsyncSession,
    person_id: int,
    person_key: bytes,
    *,
    org_code: str | None = None,
    api_ids: Iterable[str] | None = None,
) -> list[HeldRecord]:
    """The person's records, opened, in (org_code, api_id, key, natural key) order."""
    statement = select(Record).where(Record.person_id == person_id)
    if org_code is not None:
        statement = statement.where(Record.org_code == org_code)
    if api_ids is not None:
        statement = statement.where(Record.api_id.in_(list(api_ids)))
    held = []
    for row in (await session.execute(statement)).scalars():
        opened = open_row(person_key, row.sealed, row_aad("records", person_id, row.org_code, row.api_id))
        held.append(
            HeldRecord(row.org_code, row.api_id, str(opened["key"]), str(opened["record_key"]), opened["payload"])
        )
    return sorted(held, key=lambda r: (r.org_code, r.api_id, r.key, r.natural_key))


async def count_held(session: AsyncSession, person_id: int) -> int:
    records = await session.scalar(select(func.count()).select_from(Record).where(Record.person_id == person_id))
    assets = await session.scalar(select(func.count()).select_from(Asset).where(Asset.person_id == person_id))
    return int(records or 0) + int(assets or 0)


async def count_held_at(session: AsyncSession, person_id: int, org_code: str) -> int:
    """Records and assets held for the person from one provider."""
    total = 0
    for table in (Record, Asset):
        statement = (
            select(func.count())
            .select_from(table)
            .where(
                table.person_id == person_id,
                table.org_code == org_code,  # type: ignore[attr-defined]
            )
        )
        total += int(await session.scalar(statement) or 0)
    return total


async def count_held_by_org(session: AsyncSession, person_id: int) -> dict[str, int]:
    counts: dict[str, int] = {}
    for table in (Record, Asset):
        statement = select(table.org_code, func.count()).where(table.person_id == person_id).group_by(table.org_code)
        for org_code, count in (await session.execute(statement)).all():
            counts[org_code] = counts.get(org_code, 0) + int(count)
    return counts


async def marks_of(
    session: AsyncSession, person_id: int, person_key: bytes, org_code: str
) -> dict[tuple[str, str], Mark]:
    """(API, key) -> what is remembered of it at the provider (search_timestamp, scheduled_at, fetched_to)."""
    statement = select(SyncMark).where(SyncMark.person_id == person_id, SyncMark.org_code == org_code)
    marks = {}
    for mark in (await session.execute(statement)).scalars():
        key = open_row(person_key, mark.sealed_key, row_aad("sync_marks", person_id, org_code, mark.api_id))
        marks[(mark.api_id, str(key))] = Mark(
            search_timestamp=mark.search_timestamp,
            scheduled_at=as_utc(mark.scheduled_at) if mark.scheduled_at is not None else None,
            fetched_to=mark.fetched_to,
        )
    return marks


def mark_rows(
    person_id: int, person_key: bytes, org_code: str, marks: Mapping[tuple[str, str], Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """Rows of `sync_marks` per (API, key) with the values given ("search_timestamp", "scheduled_at",
    "fetched_to"); the key sealed under the person's data key."""
    index = row_indexer(person_key)
    return [
        {
            "person_id": person_id,
            "org_code": org_code,
            "api_id": api_id,
            "key_index": index(key),
            "sealed_key": seal_row(person_key, key, row_aad("sync_marks", person_id, org_code, api_id)),
            "search_timestamp": values.get("search_timestamp"),
            "scheduled_at": values.get("scheduled_at"),
            "fetched_to": values.get("fetched_to"),
        }
        for (api_id, key), values in marks.items()
    ]


async def write_marks(session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> None:
    """Upsert mark rows; a value not given (None) keeps what is stored."""
    if not rows:
        return
    table = cast(Table, SyncMark.__table__)
    dialect = session.get_bind().dialect.name
    insert_ = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert_(table)
    statement = statement.on_conflict_do_update(
        index_elements=["person_id", "org_code", "api_id", "key_index"],
        set_={
            name: func.coalesce(statement.excluded[name], table.c[name])
            for name in ("search_timestamp", "scheduled_at", "fetched_to")
        },
    )
    for start in range(0, len(rows), _CHUNK):
        await session.execute(statement, [dict(row) for row in rows[start : start + _CHUNK]])


async def save_status(session: AsyncSession, values: Mapping[str, Any], *, failed: bool = False) -> None:
    """Upsert the person's collection status at one provider; `failed` counts one more failure in a row, a success
    resets the count."""
    table = cast(Table, CollectionStatus.__table__)
    row = {**values, "failures": 1 if failed else 0}
    dialect = session.get_bind().dialect.name
    insert_ = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert_(table).values([row])
    set_: dict[str, Any] = {
        name: statement.excluded[name] for name in ("state", "last_attempt", "error_code", "record_count", "api_type")
    }
    if values.get("last_success") is not None:
        set_["last_success"] = statement.excluded["last_success"]
    set_["failures"] = table.c.failures + 1 if failed else 0
    await session.execute(statement.on_conflict_do_update(index_elements=["person_id", "org_code"], set_=set_))


async def status_of(session: AsyncSession, person_id: int, org_code: str) -> CollectionStatus | None:
    statement = select(CollectionStatus).where(
        CollectionStatus.person_id == person_id, CollectionStatus.org_code == org_code
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def statuses_of(session: AsyncSession, person_id: int) -> list[CollectionStatus]:
    statement = (
        select(CollectionStatus).where(CollectionStatus.person_id == person_id).order_by(CollectionStatus.org_code)
    )
    return list((await session.execute(statement)).scalars())


async def delete_person_data(session: AsyncSession, person_id: int) -> int:
    """Delete everything held for a person except consent rows (withdrawn separately), then the person row with
    the only copy of the person's wrapped data key (crypto-shredding); returns the records+assets deleted."""
    held = await count_held(session, person_id)
    for table in (Record, Asset, SyncMark, CollectionStatus, ProviderToken, WebSession, PendingRequest):
        await session.execute(delete(table).where(table.person_id == person_id))  # type: ignore[attr-defined]
    await session.execute(delete(Person).where(Person.id == person_id))
    return held


async def delete_provider_data(session: AsyncSession, person_id: int, org_code: str) -> int:
    """Delete what was collected for a person from one provider (records, assets, sync marks, collection status,
    the provider's tokens); the person and their other providers stay. Returns the records+assets deleted."""
    deleted = 0
    for table in (Record, Asset, SyncMark, CollectionStatus, ProviderToken):
        result = await session.execute(
            delete(table)
            .where(table.person_id == person_id, table.org_code == org_code)  # type: ignore[attr-defined]
            .execution_options(synchronize_session=False)
        )
        if table in (Record, Asset):
            deleted += int(getattr(result, "rowcount", 0) or 0)
    return deleted


async def add_withdrawal_audit(session: AsyncSession, audit: WithdrawalAudit) -> None:
    session.add(audit)
    await session.flush()


# provider registry


async def save_providers(session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> None:
    await _upsert(
        session,
        Provider.__table__,
        rows,
        ("org_code", "industry"),
        ("org_name", "org_type", "domain", "auth_type", "np_times", "synced_at"),
    )


async def delete_provider(session: AsyncSession, org_code: str, industry: str | None) -> None:
    statement = delete(Provider).where(Provider.org_code == org_code)
    if industry:
        statement = statement.where(Provider.industry == industry)
    await session.execute(statement)


async def providers(session: AsyncSession) -> list[Provider]:
    statement = select(Provider).order_by(Provider.industry, Provider.org_name, Provider.org_code)
    return list((await session.execute(statement)).scalars())


async def sync_state(session: AsyncSession, name: str) -> SyncState | None:
    return await session.get(SyncState, name)


async def save_sync_state(session: AsyncSession, name: str, value: str, now: datetime) -> None:
    await _upsert(
        session,
        SyncState.__table__,
        [{"name": name, "value": value, "updated_at": now}],
        ("name",),
        ("value", "updated_at"),
    )


# audit chain


async def collection_history(
    session: AsyncSession, chain: AuditChain, person_id: int, *, since: datetime, limit: int
) -> list[tuple[datetime, dict[str, Any]]]:
    """(time, event) of the person's collection entries at or after `since`, newest first."""
    log = chain.log
    statement = (
        select(log.c.at, log.c.event)
        .where(log.c.kind == "collection", log.c.event["person_id"].as_integer() == person_id, log.c.at >= since)
        .order_by(log.c.seq.desc())
        .limit(limit)
    )
    return [(as_utc(at), dict(event)) for at, event in (await session.execute(statement)).all()]


# weekly statistics (지원-004)


async def add_api_calls(session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> None:
    """Bulk insert of api_calls rows (at, org_code, api_id, api_type, status_code, rsp_code, rsp_ms)."""
    if rows:
        await session.execute(insert(ApiCall), [dict(row) for row in rows])


async def api_calls_between(session: AsyncSession, start: datetime, end: datetime) -> list[ApiCall]:
    statement = select(ApiCall).where(ApiCall.at >= start, ApiCall.at < end).order_by(ApiCall.id)
    return list((await session.execute(statement)).scalars())


async def consents_for_statistics(session: AsyncSession, start: datetime, end: datetime) -> list[Consent]:
    """Consents that were given (no 통합인증-002 failure) before `end` and whose end_date is not before `start`:
    every consent that may have been held during [start, end), with the ones that superseded them."""
    statement = (
        select(Consent)
        .where(Consent.error_code.is_(None), Consent.status != "failed", Consent.signed_at < end)
        .where(Consent.end_date >= start)
        .order_by(Consent.signed_at, Consent.id)
    )
    return list((await session.execute(statement)).scalars())
