"""The operator appends audit entries for sign-up, each provider's 통합인증-002 result and consent, each
collection run and withdrawal, in the same transaction as the change; never a CI, name, phone, birth date or
account number. The person's 전송 기록 comes from the chain; the chain verifies and an altered entry is found."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from operator_fakes import ACCOUNTS, BANK, BANK2, CI, FakeEcosystem, settings_for
from sqlalchemy import update
from test_operator_app import Harness, connect, sign_up

from openmydata.kit.audit import AuditChain, AuditEntry, Verification
from openmydata.operator.app import create_app
from openmydata.operator.models import audit_log
from openmydata.standard.apis import CATALOGUE


@pytest.fixture
async def harness(db_url: str, tmp_path: Path) -> AsyncIterator[Harness]:
    fake = FakeEcosystem()
    async with httpx.AsyncClient(transport=httpx.MockTransport(fake.handle)) as peers:
        app = create_app(settings_for(db_url, tmp_path / "operator-keys.json"), http_client=peers)
        transport = httpx.ASGITransport(app=app)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=transport, base_url="http://test") as client,
        ):
            yield Harness(app, client, fake)


async def _entries(h: Harness) -> list[AuditEntry]:
    chain: AuditChain = h.service.audit
    async with h.db.transaction() as session:
        return list(reversed(await chain.entries(session)))


async def _verify(h: Harness) -> Verification:
    chain: AuditChain = h.service.audit
    async with h.db.engine.connect() as connection:
        return await connection.run_sync(chain.verify)


def _no_personal_data(entries: list[AuditEntry]) -> None:
    text = json.dumps([entry.event for entry in entries], ensure_ascii=False)
    for value in (CI, "김철수", "19900101", "01012345678", "010-1234-5678", "at-bank.test"):
        assert value not in text, value
    for account in ACCOUNTS:
        assert account["account_num"] not in text


class TestOperatorAudit:
    async def test_sign_up_consent_and_collection_are_recorded(self, harness: Harness) -> None:
        token = await sign_up(harness)
        await connect(harness, token, [BANK, BANK2])
        entries = await _entries(harness)
        kinds = [entry.kind for entry in entries]
        assert kinds == [
            "signup",
            "integrated_auth",
            "consent",
            "integrated_auth",
            "consent",
            "collection",
            "collection",
        ]
        person_id = entries[0].event["person_id"]
        assert {entry.event["person_id"] for entry in entries} == {person_id}
        auth = {e.event["org_code"]: e.event for e in entries if e.kind == "integrated_auth"}
        assert auth[BANK]["ok"] is True
        assert auth[BANK]["rsp_code"] == "00000"
        assert auth[BANK]["tran_id"].startswith("OPERATOR01M")
        consent = next(e.event for e in entries if e.kind == "consent" and e.event["org_code"] == BANK)
        assert consent["scopes"] == ["bank.list", "bank.deposit", "bank.invest", "bank.loan"]
        assert len(consent["end_date"]) == 14
        assert consent["tx_id"]
        collected = {e.event["org_code"]: e.event for e in entries if e.kind == "collection"}
        assert collected[BANK]["state"] == "ok"
        assert collected[BANK]["api_type"] == "user-consent"
        assert collected[BANK]["records"]["은행-004"] == 3
        assert collected[BANK2]["state"] == "failed"
        assert collected[BANK2]["errors"][0]["code"] == "50005"
        _no_personal_data(entries)
        result = await _verify(harness)
        assert (result.ok, result.entries) == (True, 7)

    async def test_a_failed_integrated_auth_is_recorded(self, harness: Harness) -> None:
        token = await sign_up(harness)
        harness.fake.bank2_down = True
        await connect(harness, token, [BANK, BANK2])
        failed = [e.event for e in await _entries(harness) if e.kind == "integrated_auth" and not e.event["ok"]]
        assert [(event["org_code"], event["rsp_code"]) for event in failed] == [(BANK2, "unavailable")]
        assert failed[0]["tran_id"]
        assert (await _verify(harness)).ok

    async def test_history_lists_what_each_institution_sent_newest_first(self, harness: Harness) -> None:
        token = await sign_up(harness)
        auth = {"Authorization": f"Bearer {token}"}
        await connect(harness, token, [BANK])
        assert (await harness.client.post("/api/me/refresh", headers=auth)).status_code == 200
        response = await harness.client.get("/api/me/history", headers=auth)
        assert response.status_code == 200
        history = response.json()["history"]
        collections = [e for e in await _entries(harness) if e.kind == "collection"]
        assert len(collections) == 2
        expected = [
            (api_id, count)
            for entry in reversed(collections)
            for api_id, count in sorted(entry.event["records"].items())
            if count
        ]
        assert [(item["api_id"], item["records"]) for item in history] == expected
        assert all(item["org_code"] == BANK and item["org_name"] == "가나은행" for item in history)
        assert all(item["title"] == CATALOGUE[item["api_id"]].title for item in history)
        assert all(len(item["at"]) == 14 and item["at"].isdigit() for item in history)
        assert [item["at"] for item in history] == sorted((item["at"] for item in history), reverse=True)

        harness.client.cookies.set("omd_session", token)
        page = await harness.client.get("/consents")
        assert page.status_code == 200
        assert "전송 기록" in page.text
        assert "<caption>기관별 정보 전송 기록 (최근 순)</caption>" in page.text
        assert CATALOGUE["은행-004"].title in page.text
        assert "3건" in page.text

    async def test_withdrawal_is_recorded_and_the_history_is_no_longer_reachable(self, harness: Harness) -> None:
        token = await sign_up(harness)
        auth = {"Authorization": f"Bearer {token}"}
        await connect(harness, token, [BANK])
        response = await harness.client.post("/api/withdraw", headers=auth)
        assert response.status_code == 200
        assert (await harness.client.get("/api/me/history", headers=auth)).status_code == 401
        entries = await _entries(harness)
        withdrawal = entries[-1]
        assert withdrawal.kind == "withdrawal"
        assert withdrawal.event["revoked"] == [{"org_code": BANK, "rsp_code": "00000"}]
        assert withdrawal.event["records_deleted"] > 0
        assert withdrawal.event["consents_withdrawn"] == 1
        assert "collection" in [entry.kind for entry in entries]  # the chain keeps the non-identifying entries
        _no_personal_data(entries)
        assert (await _verify(harness)).ok

        # signing up again (possibly under the same, reused person id) starts with an empty history
        again = await sign_up(harness)
        response = await harness.client.get("/api/me/history", headers={"Authorization": f"Bearer {again}"})
        assert response.json() == {"history": []}

    async def test_an_altered_entry_fails_verification(self, harness: Harness) -> None:
        token = await sign_up(harness)
        await connect(harness, token, [BANK])
        async with harness.db.transaction() as session:
            await session.execute(update(audit_log).where(audit_log.c.seq == 4).values(event={"records": {}}))
        result = await _verify(harness)
        assert (result.ok, result.seq) == (False, 4)
        assert "altered" in (result.problem or "")
