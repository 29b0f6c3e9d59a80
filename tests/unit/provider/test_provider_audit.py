"""The provider's audit chain records consents and every information API access, and stays intact."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from openmydata.kit.db import Database
from openmydata.provider.models import audit_log
from openmydata.provider.repository import AUDIT
from openmydata.standard.formats import Party, new_tran_id

from .conftest import CLIENT_ID, CLIENT_SECRET, OPERATOR, PROVIDER, Harness


async def _entries(db: Database) -> list[Any]:
    async with db.engine.connect() as connection:
        return list((await connection.execute(select(audit_log).order_by(audit_log.c.seq))).all())


async def _verify(db: Database) -> Any:
    async with db.engine.connect() as connection:
        return await connection.run_sync(AUDIT.verify)


class TestProviderAuditChain:
    async def test_consents_and_accesses_are_chained_and_verify(self, harness: Harness) -> None:
        tokens = await harness.grant()
        ok = await harness.call("은행-001", {"limit": 10}, token=tokens["access_token"])
        assert ok.status_code == 200
        refused = await harness.call("은행-001", {"limit": 10}, token="forged")
        assert refused.status_code == 401
        revoke = await harness.http.post(
            "/oauth/2.0/revoke",
            data={
                "org_code": PROVIDER,
                "token": tokens["access_token"],
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
            },
            headers={"x-api-tran-id": new_tran_id(OPERATOR, Party.OPERATOR)},
        )
        assert revoke.json()["rsp_code"] == "00000"

        entries = await _entries(harness.db)
        kinds = [entry.kind for entry in entries]
        assert kinds[0] == "consent_granted"
        assert kinds.count("info_api") == 2
        assert kinds[-1] == "consent_revoked"
        accesses = [entry.event for entry in entries if entry.kind == "info_api"]
        assert {(event["api_id"], event["status_code"]) for event in accesses} == {("은행-001", 200), ("은행-001", 401)}
        assert all(event["tran_id"] for event in accesses)
        result = await _verify(harness.db)
        assert (result.ok, result.entries) == (True, len(entries))

    async def test_an_altered_access_entry_breaks_the_chain(self, harness: Harness) -> None:
        tokens = await harness.grant()
        await harness.call("은행-001", {"limit": 10}, token=tokens["access_token"])
        entries = await _entries(harness.db)
        target = next(entry for entry in entries if entry.kind == "info_api")
        async with harness.db.transaction() as session:
            forged = {**target.event, "rcv_org_code": "M1OTHER000"}
            await session.execute(update(audit_log).where(audit_log.c.seq == target.seq).values(event=forged))
        result = await _verify(harness.db)
        assert (result.ok, result.seq) == (False, target.seq)
