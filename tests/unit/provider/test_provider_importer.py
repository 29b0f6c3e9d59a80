"""import_customers / export_customer_records on both dialects."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from openmydata.kit.clock import now_kst, to_dtime
from openmydata.kit.db import Database
from openmydata.provider.app import MIGRATIONS
from openmydata.provider.importer import InvalidImportError, export_customer_records, import_customers
from openmydata.provider.models import Customer, Record
from openmydata.standard.dataset import CustomerData, StoredRecord

from .conftest import ALICE, BOB, DEPOSIT, TRANSACTIONS, alice, bob


@pytest.fixture
async def db(db_url: str) -> Database:
    database = Database(db_url)
    await database.upgrade(MIGRATIONS)
    yield database
    await database.dispose()


async def _rows(db: Database, api_id: str) -> list[Record]:
    async with db.transaction() as session:
        result = await session.execute(select(Record).where(Record.api_id == api_id).order_by(Record.seq, Record.id))
        return list(result.scalars().all())


class TestImportCustomers:
    async def test_round_trip_fills_periods_and_orders_chronologically(self, db: Database) -> None:
        assert await import_customers(db, [alice(), bob()], batch_size=1) == 2
        exported = await export_customer_records(db, ALICE)
        original = alice().records
        assert len(exported) == len(original)
        transactions = [record for record in exported if record.api_id == "은행-004"]
        assert len(transactions) == TRANSACTIONS
        times = [record.payload["trans_dtime"] for record in transactions]
        assert times == sorted(times)
        assert all(record.period == record.payload["trans_dtime"][:8] for record in transactions)
        assert all(record.key == f"{DEPOSIT}|" for record in transactions)
        by_identity = {(r.api_id, r.key, r.payload.get("trans_no"), r.payload.get("account_num")) for r in exported}
        assert by_identity == {
            (r.api_id, r.key, r.payload.get("trans_no"), r.payload.get("account_num")) for r in original
        }
        assert [r.payload for r in await export_customer_records(db, BOB)] == [bob().records[0].payload]
        assert await export_customer_records(db, "unknown") == []

    async def test_reimport_is_idempotent_and_keeps_change_times(self, db: Database) -> None:
        await import_customers(db, [alice()])
        before = {(row.seq, row.key): row.updated_at for row in await _rows(db, "은행-001")}
        await import_customers(db, [alice()])
        rows = await _rows(db, "은행-001")
        assert {(row.seq, row.key): row.updated_at for row in rows} == before
        assert not any(row.deleted for row in rows)
        async with db.transaction() as session:
            customers = (await session.execute(select(Customer))).scalars().all()
        assert [customer.ci for customer in customers] == [ALICE]
        assert len(await _rows(db, "은행-004")) == TRANSACTIONS

    async def test_reimport_replaces_data_and_leaves_tombstones(self, db: Database) -> None:
        await import_customers(db, [alice()])
        changed = alice()
        changed.name = "김앨리스2"
        changed.records = [record for record in changed.records if record.api_id != "은행-004"][:2]
        await import_customers(db, [changed])
        exported = await export_customer_records(db, ALICE)
        assert [record.api_id for record in exported] == ["은행-001", "은행-001"]
        rows = await _rows(db, "은행-001")
        assert sum(row.deleted for row in rows) == 1
        assert sum(row.deleted for row in await _rows(db, "은행-004")) == TRANSACTIONS
        async with db.transaction() as session:
            customer = (await session.execute(select(Customer).where(Customer.ci == ALICE))).scalar_one()
        assert customer.name == "김앨리스2"

    async def test_refuses_records_the_catalogue_does_not_know_or_model(self, db: Database) -> None:
        unknown = CustomerData(
            ci=BOB,
            name="b",
            birth_date="19800101",
            phone="+8210",
            records=[StoredRecord(api_id="없는-001", payload={})],
        )
        with pytest.raises(InvalidImportError):
            await import_customers(db, [unknown])
        invalid = CustomerData(
            ci=BOB,
            name="b",
            birth_date="19800101",
            phone="+8210",
            records=[StoredRecord(api_id="은행-004", key="1|", payload={"trans_dtime": "not a time"})],
        )
        with pytest.raises(InvalidImportError):
            await import_customers(db, [invalid])
        assert await export_customer_records(db, BOB) == []

    async def test_explicit_period_is_kept(self, db: Database, tmp_path: Path) -> None:
        moment = to_dtime(now_kst() - timedelta(days=3))
        record = StoredRecord(
            api_id="은행-004",
            key="1|",
            period="20000101",
            payload={
                "trans_dtime": moment,
                "trans_type": "01",
                "trans_class": "x",
                "currency_code": "KRW",
                "trans_amt": "1",
                "balance_amt": "1",
            },
        )
        await import_customers(db, [CustomerData(ci=BOB, name="b", birth_date="19800101", phone="1", records=[record])])
        assert [r.period for r in await export_customer_records(db, BOB)] == ["20000101"]
