"""Crypto-shredding at the operator, on the whole ecosystem (SQLite files): after sign-up, consent at every provider
and collection, the raw bytes of the operator's database files (operator.db, -wal, -shm) hold none of the person's
CI, name, phone or birth date, nor any account, card, card id, telecom number or management id the providers hold
for them, although the operator serves them back in clear; after withdrawal still none, the person's sealed rows
and wrapped data key are gone (by SQL and from the raw bytes). A negative control shows the scan finds such values
where they are stored in clear (the providers' own database files)."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import make_url

from openmydata.demo import CORE_INSTITUTIONS, Ecosystem, start_ecosystem
from openmydata.kit.db import Database
from openmydata.kit.http import make_client
from openmydata.operator.inspection import holdings
from openmydata.provider.importer import export_customer_records
from openmydata.sandbox.population import Person

pytestmark = [pytest.mark.integration]

IDENTIFIER_FIELDS = ("account_num", "card_num", "card_id", "telecom_num", "mgmt_id")
PERSON_TABLES = ("assets", "records", "sync_marks", "collection_status", "provider_tokens", "web_sessions")


def _files(database: Path) -> list[Path]:
    return [path for path in (database, Path(f"{database}-wal"), Path(f"{database}-shm")) if path.exists()]


def _checkpoint(database: Path) -> None:
    """Move the WAL into the database file and truncate it, so the scan sees the current pages only once."""
    with closing(sqlite3.connect(database)) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def _found(database: Path, values: set[str]) -> set[str]:
    """The values whose UTF-8 bytes occur anywhere in the database's files (database, WAL, shared memory)."""
    raw = b"".join(path.read_bytes() for path in _files(database))
    return {value for value in values if value.encode("utf-8") in raw}


def _query(database: Path, sql: str, *parameters: Any) -> list[tuple[Any, ...]]:
    with closing(sqlite3.connect(database)) as connection:
        return list(connection.execute(sql, parameters))


async def _expect(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code < 400, response.text[:300]
    body: dict[str, Any] = response.json()
    return body


async def _provider_identifiers(eco: Ecosystem, person: Person) -> set[str]:
    values: set[str] = set()
    for provider in eco.providers:
        db = Database(provider.database_url)
        try:
            for record in await export_customer_records(db, person.ci):
                values |= {str(record.payload[name]) for name in IDENTIFIER_FIELDS if record.payload.get(name)}
        finally:
            await db.dispose()
    return values


class TestOperatorCryptoShredding:
    async def test_no_personal_data_in_the_operator_files_before_or_after_withdrawal(self, tmp_path: Path) -> None:
        eco = await start_ecosystem(tmp_path, people=30, seed=9, pin_kdf_cost=2**4, institutions=CORE_INSTITUTIONS)
        try:
            await self._flow(eco, tmp_path / "operator.db")
        finally:
            await eco.stop()

    async def _flow(self, eco: Ecosystem, operator_db: Path) -> None:
        person = eco.customers_of_all()[0]
        api = eco.operator.url
        async with make_client(timeout_s=120) as http:

            async def approve(approval: dict[str, Any]) -> None:
                await _expect(
                    await http.post(
                        f"{eco.certauth.url}/v1/ca/approvals/{approval['cert_tx_id']}",
                        json={"pin": person.pin, "decision": "approve"},
                    )
                )

            signup = await _expect(
                await http.post(
                    f"{api}/api/signup",
                    json={"name": person.name, "birth_date": person.birth_date, "phone": person.phone},
                )
            )
            await approve(signup)
            session = await _expect(
                await http.post(f"{api}/api/signup/complete", json={"cert_tx_id": signup["cert_tx_id"]})
            )
            auth = {"Authorization": f"Bearer {session['session_token']}"}
            org_codes = [p.org_code for p in eco.providers]
            consent = await _expect(await http.post(f"{api}/api/consents", json={"org_codes": org_codes}, headers=auth))
            await approve(consent)
            completed = await _expect(
                await http.post(
                    f"{api}/api/consents/complete", json={"cert_tx_id": consent["cert_tx_id"]}, headers=auth
                )
            )
            assert all(p["ok"] for p in completed["providers"]), completed

            # what must never be in the operator's files, though the operator holds it and serves it in clear
            identifiers = await _provider_identifiers(eco, person)
            assert {v for v in identifiers if len(v) >= 10}, "the providers hold no long identifiers to look for"
            held = (await _expect(await http.get(f"{api}/api/me/records", headers=auth)))["records"]
            served = repr(held) + repr(await _expect(await http.get(f"{api}/api/me/summary", headers=auth)))
            assert identifiers <= {value for value in identifiers if value in served}, "not all collected"
            assert person.name in served
            personal = {person.ci, person.name, person.phone, person.birth_date} | identifiers

            # negative control: the scan finds clear values where they are stored in clear
            for provider in eco.providers:
                provider_db = Path(str(make_url(provider.database_url).database))
                _checkpoint(provider_db)
                assert _found(provider_db, identifiers), provider.org_code
            bank_db = Path(str(make_url(eco.providers[0].database_url).database))
            assert _found(bank_db, {person.ci}) == {person.ci}

            # before withdrawal: nothing personal in clear, though everything is held
            assert _found(operator_db, personal) == set()
            _checkpoint(operator_db)
            assert _found(operator_db, personal) == set()
            person_id = (await holdings(eco.operator_settings, person.ci)).person_id
            assert person_id is not None
            [(wrapped_key, ci_index, identity)] = _query(
                operator_db, "SELECT wrapped_key, ci_index, identity FROM persons WHERE id = ?", person_id
            )
            assert person.ci not in (wrapped_key, ci_index, identity)
            sealed = {
                row[0] for row in _query(operator_db, "SELECT sealed FROM records WHERE person_id = ?", person_id)
            }
            sealed |= {
                row[0] for row in _query(operator_db, "SELECT sealed FROM assets WHERE person_id = ?", person_id)
            }
            assert len(sealed) >= len(held) > 0
            assert _found(operator_db, {wrapped_key, identity}) == {wrapped_key, identity}

            # withdrawal: revoked at the providers, rows deleted, the wrapped data key destroyed
            withdrawal = await _expect(await http.post(f"{api}/api/withdraw", headers=auth))
            assert withdrawal["records_remaining"] == 0
            assert {r["rsp_code"] for r in withdrawal["revoked"]} == {"00000"}

        assert _found(operator_db, personal) == set()
        _checkpoint(operator_db)
        assert _found(operator_db, personal) == set()
        assert _query(operator_db, "SELECT count(*) FROM persons WHERE id = ?", person_id) == [(0,)]
        assert _query(operator_db, "SELECT count(*) FROM persons WHERE ci_index = ?", ci_index) == [(0,)]
        for table in PERSON_TABLES:
            assert _query(operator_db, f"SELECT count(*) FROM {table} WHERE person_id = ?", person_id) == [(0,)], table
        # not even in the files' free pages (secure_delete): the wrapped data key, the sealed identity and rows
        assert _found(operator_db, {wrapped_key, identity, ci_index}) == set()
        assert _found(operator_db, sealed) == set()
        assert (await holdings(eco.operator_settings, person.ci)).person_id is None
