"""Bulk import of an institution's customers and their records (`standard.dataset.CustomerData`).

`openmydata provider import` reads JSON lines and calls `import_customers`; a real institution would feed it
from its ledger. Each batch is one transaction. Re-importing a customer replaces their data idempotently: rows
that did not change keep their `updated_at` (so search_timestamp still answers 00001), changed rows get a new
one, and objects that disappeared leave a tombstone that moves the MT of their list (digest §2.5).
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from openmydata.kit.clock import as_utc, utcnow
from openmydata.kit.db import Database
from openmydata.provider import repository
from openmydata.provider.authorize import DEFAULT_PIN_KDF_COST, hash_login_pin
from openmydata.standard.apis import CATALOGUE
from openmydata.standard.catalogue import ApiSpec, Catalogue, Kind
from openmydata.standard.dataset import CustomerData, StoredRecord

__all__ = [
    "InvalidImportError",
    "export_customer_records",
    "import_customers",
    "import_login_hashes",
    "import_login_pins",
    "record_period",
]


class InvalidImportError(ValueError):
    """A customer's data does not fit the catalogue (unknown API, or a record its model refuses)."""


def record_period(spec: ApiSpec, payload: dict[str, Any]) -> str:
    """The stored period: record_period_field's first 6 (month-ranged APIs) or 8 characters, or period_field."""
    if spec.record_period_field:
        value = str(payload.get(spec.record_period_field) or "")
        return value[:6] if spec.range_unit == "month" else value[:8]
    if spec.period_field:
        return str(payload.get(spec.period_field) or "")
    return ""


def _order_value(spec: ApiSpec, record: StoredRecord) -> str:
    if spec.record_period_field:
        return str(record.payload.get(spec.record_period_field) or record.period)
    return record.period


def _validate(spec: ApiSpec, payload: dict[str, Any]) -> None:
    """Refuse at import what the provider could not serve: each record must fit its response model."""
    if spec.kind is Kind.ASSET_INFO:
        spec.response.model_validate({**payload, "rsp_code": "00000", "rsp_msg": "ok"})
        return
    if spec.record_model is None:
        raise InvalidImportError(f"{spec.id} does not serve stored records")
    candidate = payload
    if "is_consent" in spec.record_model.model_fields and "is_consent" not in payload:
        candidate = {**payload, "is_consent": False}  # computed per consent when served
    spec.record_model.model_validate(candidate)


@dataclass
class _Row:
    api_id: str
    key: str
    period: str
    seq: int
    payload: dict[str, Any]


def _prepare(customer: CustomerData, position: int, catalogue: Catalogue) -> list[_Row]:
    groups: dict[tuple[str, str], list[StoredRecord]] = defaultdict(list)
    specs: dict[str, ApiSpec] = {}
    for record in customer.records:
        if record.api_id not in catalogue:
            raise InvalidImportError(f"customer #{position}: unknown API {record.api_id}")
        spec = specs.setdefault(record.api_id, catalogue[record.api_id])
        if spec.kind not in {Kind.ASSET_LIST, Kind.ASSET_INFO, Kind.RECORDS}:
            raise InvalidImportError(f"customer #{position}: {spec.id} does not serve stored records")
        try:
            _validate(spec, record.payload)
        except ValidationError as exc:
            raise InvalidImportError(
                f"customer #{position}: a {spec.id} record does not fit the model ({exc.error_count()} errors)"
            ) from exc
        period = record.period or record_period(spec, record.payload)
        groups[(record.api_id, record.key)].append(record.model_copy(update={"period": period}))
    rows: list[_Row] = []
    for (api_id, key), records in groups.items():
        spec = specs[api_id]
        if spec.kind is Kind.ASSET_INFO and len(records) > 1:
            raise InvalidImportError(f"customer #{position}: {api_id} holds one object per key")
        ordered = sorted(records, key=lambda r: _order_value(spec, r))  # stable: equal times keep input order
        rows.extend(_Row(api_id, key, r.period, seq, r.payload) for seq, r in enumerate(ordered, start=1))
    return rows


async def import_customers(
    db: Database,
    customers: Iterable[CustomerData],
    *,
    catalogue: Catalogue = CATALOGUE,
    batch_size: int = 1000,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Insert or replace customers and their records; returns how many customers were imported.

    `progress` is called with the number of customers imported so far after every batch."""
    if batch_size < 1:
        raise ValueError("batch_size must be positive")
    count = 0
    batch: list[CustomerData] = []
    position = 0
    for customer in customers:
        position += 1
        batch.append(customer)
        if len(batch) >= batch_size:
            count += await _import_batch(db, batch, position - len(batch) + 1, catalogue)
            batch = []
            if progress:
                progress(count)
    if batch:
        count += await _import_batch(db, batch, position - len(batch) + 1, catalogue)
        if progress:
            progress(count)
    return count


async def _import_batch(db: Database, batch: list[CustomerData], first: int, catalogue: Catalogue) -> int:
    latest: dict[str, tuple[CustomerData, list[_Row]]] = {}
    for offset, customer in enumerate(batch):
        latest[customer.ci] = (customer, _prepare(customer, first + offset, catalogue))  # a later line wins
    now = utcnow()
    cis = list(latest)
    async with db.transaction() as session:
        known = await repository.customer_ids_by_ci(session, cis)
        fresh = [_customer_row(latest[ci][0], now) for ci in cis if ci not in known]
        if fresh:
            await repository.insert_customers(session, fresh)
        existing = [{"id": known[ci], **_customer_row(latest[ci][0], now)} for ci in cis if ci in known]
        for row in existing:
            row.pop("ci")
        if existing:
            await repository.update_customers(session, existing)
        ids = {**known, **(await repository.customer_ids_by_ci(session, [ci for ci in cis if ci not in known]))}

        previous = await repository.records_of_customers(session, list(known.values()))
        by_customer: dict[int, list[Any]] = defaultdict(list)
        for old in previous:
            by_customer[old.customer_id].append(old)
        await repository.delete_records_of_customers(session, list(known.values()))

        rows: list[dict[str, Any]] = []
        for ci in cis:
            customer_id = ids[ci]
            rows.extend(_merge(customer_id, latest[ci][1], by_customer.get(customer_id, []), now))
        await repository.insert_records(session, rows)
    return len(cis)


def _customer_row(customer: CustomerData, now: Any) -> dict[str, Any]:
    return {
        "ci": customer.ci,
        "name": customer.name,
        "birth_date": customer.birth_date,
        "phone": customer.phone,
        "reg_date": customer.reg_date,
        "updated_at": now,
    }


def _merge(customer_id: int, new_rows: list[_Row], old_rows: list[Any], now: Any) -> list[dict[str, Any]]:
    """New rows keep the old `updated_at` when identical; vanished rows become tombstones; old tombstones stay."""
    live = {(old.api_id, old.key, old.seq): old for old in old_rows if not old.deleted}
    rows: list[dict[str, Any]] = []
    taken: set[tuple[str, str, int]] = set()
    for row in new_rows:
        position = (row.api_id, row.key, row.seq)
        old = live.get(position)
        unchanged = old is not None and old.period == row.period and old.payload == row.payload
        taken.add(position)
        rows.append(
            {
                "customer_id": customer_id,
                "api_id": row.api_id,
                "key": row.key,
                "period": row.period,
                "seq": row.seq,
                "payload": row.payload,
                "updated_at": as_utc(old.updated_at) if unchanged and old is not None else now,
                "deleted": False,
            }
        )
    for old in old_rows:
        position = (old.api_id, old.key, old.seq)
        if old.deleted or position not in taken:
            rows.append(
                {
                    "customer_id": customer_id,
                    "api_id": old.api_id,
                    "key": old.key,
                    "period": old.period,
                    "seq": old.seq,
                    "payload": old.payload,
                    "updated_at": as_utc(old.updated_at) if old.deleted else now,
                    "deleted": True,
                }
            )
    return rows


async def export_customer_records(db: Database, ci: str) -> list[StoredRecord]:
    """The live records of one customer, as `StoredRecord`s in (api_id, key, seq) order."""
    async with db.transaction() as session:
        customer = await repository.customer_by_ci(session, ci)
        if customer is None:
            return []
        rows = await repository.live_records(session, customer.id)
    return [StoredRecord(api_id=row.api_id, key=row.key, period=row.period, payload=row.payload) for row in rows]


async def import_login_pins(
    db: Database, pins: Mapping[str, str], *, kdf_cost: int = DEFAULT_PIN_KDF_COST, batch_size: int = 500
) -> int:
    """Set the six-digit PIN customers sign in with on the provider's own login page (개별인증-001), by CI; kept as
    scrypt hashes (cost `kdf_cost`). CIs that are not customers are skipped; returns how many logins were set. The
    sandbox gives each person one PIN (`Person.pin`); a real institution would hand over its customers' existing
    credentials instead (`import_login_hashes`)."""
    for pin in pins.values():
        if len(pin) != 6 or not pin.isdigit():
            raise InvalidImportError("a login PIN is six digits")
    hashes = await asyncio.to_thread(_hash_pins, pins, kdf_cost)
    return await import_login_hashes(db, hashes, batch_size=batch_size)


async def import_login_hashes(db: Database, hashes: Mapping[str, str], *, batch_size: int = 500) -> int:
    """Set customers' login PIN hashes (`provider.authorize.hash_login_pin` format) by CI, which also clears any
    failed attempts and lock. CIs that are not customers are skipped; returns how many logins were set."""
    if batch_size < 1:
        raise ValueError("batch_size must be positive")
    cis = list(hashes)
    count = 0
    for start in range(0, len(cis), batch_size):
        now = utcnow()
        async with db.transaction() as session:
            known = await repository.customer_ids_by_ci(session, cis[start : start + batch_size])
            rows = [
                {
                    "customer_id": known[ci],
                    "pin_hash": hashes[ci],
                    "failures": 0,
                    "locked_until": None,
                    "updated_at": now,
                }
                for ci in known
            ]
            await repository.save_customer_logins(session, rows)
        count += len(rows)
    return count


def _hash_pins(pins: Mapping[str, str], cost: int) -> dict[str, str]:
    return {ci: hash_login_pin(pin, cost) for ci, pin in pins.items()}
