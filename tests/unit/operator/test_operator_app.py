"""The operator app in-process against stand-ins for its peers: sign-up, consent, collection, pages, withdrawal.

Runs on SQLite and PostgreSQL (the `db_url` fixture); assertions are on responses and stored rows.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from operator_fakes import ACCOUNTS, BANK, BANK2, CI, FakeEcosystem, settings_for
from sqlalchemy import func, select, update

from openmydata.kit.clock import as_utc, now_kst, utcnow
from openmydata.kit.db import Database, compare_models
from openmydata.kit.keys import KeyManagerError, LocalKeyFile, VaultTransit
from openmydata.operator import repository as repo
from openmydata.operator.app import create_app
from openmydata.operator.models import (
    Asset,
    Base,
    CollectionStatus,
    Consent,
    DataKey,
    Person,
    ProviderToken,
    Record,
    SyncMark,
    WebSession,
    WithdrawalAudit,
)
from openmydata.operator.personal import Identity, key_manager_for
from openmydata.operator.service import OperatorService
from openmydata.standard.consent import decode_signed_content


@dataclass
class Harness:
    app: FastAPI
    client: httpx.AsyncClient
    fake: FakeEcosystem

    @property
    def db(self) -> Database:
        db: Database = self.app.state.db
        return db

    @property
    def service(self) -> OperatorService:
        service: OperatorService = self.app.state.service
        return service

    async def count(self, model: Any, **where: Any) -> int:
        async with self.db.transaction() as session:
            statement = select(func.count()).select_from(model)
            for name, value in where.items():
                statement = statement.where(getattr(model, name) == value)
            return int(await session.scalar(statement) or 0)


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


async def sign_up(h: Harness) -> str:
    response = await h.client.post(
        "/api/signup", json={"name": "김철수", "birth_date": "19900101", "phone": "010-1234-5678"}
    )
    assert response.status_code == 200, response.text
    cert_tx_id = response.json()["cert_tx_id"]
    h.fake.identity_status = "02"
    response = await h.client.post("/api/signup/complete", json={"cert_tx_id": cert_tx_id})
    assert response.status_code == 200, response.text
    token: str = response.json()["session_token"]
    return token


async def connect(h: Harness, token: str, org_codes: list[str], **flags: bool) -> dict[str, Any]:
    auth = {"Authorization": f"Bearer {token}"}
    response = await h.client.post("/api/consents", json={"org_codes": org_codes, **flags}, headers=auth)
    assert response.status_code == 200, response.text
    h.fake.sign_status = "02"
    response = await h.client.post(
        "/api/consents/complete", json={"cert_tx_id": response.json()["cert_tx_id"]}, headers=auth
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def records(h: Harness, token: str) -> list[dict[str, Any]]:
    response = await h.client.get("/api/me/records", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    items: list[dict[str, Any]] = response.json()["records"]
    return items


class TestMigrations:
    async def test_schema_from_migrations_matches_the_models(self, harness: Harness) -> None:
        async with harness.db.engine.connect() as connection:
            assert await connection.run_sync(compare_models, Base.metadata) == []


class TestSignUp:
    async def test_identity_verification_creates_the_person_and_a_session(self, harness: Harness) -> None:
        response = await harness.client.post(
            "/api/signup", json={"name": "김철수", "birth_date": "19900101", "phone": "01012345678"}
        )
        body = response.json()
        assert body == {"cert_tx_id": "IDTX0001", "approval_url": "http://ca.test/approve/IDTX0001"}
        pending = await harness.client.post("/api/signup/complete", json={"cert_tx_id": "IDTX0001"})
        assert pending.status_code == 403
        assert pending.json()["rsp_code"] == "40301"
        harness.fake.identity_status = "02"
        done = await harness.client.post("/api/signup/complete", json={"cert_tx_id": "IDTX0001"})
        assert done.status_code == 200
        assert set(done.json()) == {"session_token", "person_id"}
        async with harness.db.transaction() as session:
            person = await harness.service.member_by_ci(session, CI)
        assert person is not None
        assert person.name == "김철수"
        assert (person.birth_date, person.phone) == ("19900101", "01012345678")
        assert person.id == done.json()["person_id"]
        again = await harness.client.post("/api/signup/complete", json={"cert_tx_id": "IDTX0001"})
        assert again.status_code == 400
        assert again.json()["rsp_code"] == "40001"

    async def test_login_again_reuses_the_person(self, harness: Harness) -> None:
        await sign_up(harness)
        await sign_up(harness)
        assert await harness.count(Person) == 1
        assert await harness.count(WebSession) == 2

    async def test_rejected_identity_is_an_error(self, harness: Harness) -> None:
        await harness.client.post(
            "/api/signup", json={"name": "김철수", "birth_date": "19900101", "phone": "01012345678"}
        )
        harness.fake.identity_status = "03"
        response = await harness.client.post("/api/signup/complete", json={"cert_tx_id": "IDTX0001"})
        assert response.status_code == 401
        assert response.json()["rsp_code"] == "40103"

    @pytest.mark.parametrize(
        "body",
        [
            {"name": "김철수", "birth_date": "1990-13-01", "phone": "01012345678"},
            {"name": "김철수", "birth_date": "19900101"},
            {"unexpected": 1},
        ],
    )
    async def test_bad_input_is_40001(self, harness: Harness, body: dict[str, Any]) -> None:
        response = await harness.client.post("/api/signup", json=body)
        assert response.status_code == 400
        assert response.json()["rsp_code"] == "40001"

    async def test_api_needs_a_session(self, harness: Harness) -> None:
        response = await harness.client.get("/api/me/summary")
        assert response.status_code == 401
        assert response.json()["rsp_code"] == "40101"
        response = await harness.client.get("/api/me/summary", headers={"Authorization": "Bearer nope"})
        assert response.status_code == 401
        assert (await harness.client.get("/api/nothing")).json()["rsp_code"] == "40401"


class TestConsentAndCollection:
    async def test_providers_come_from_the_portal_registry(self, harness: Harness) -> None:
        response = await harness.client.get("/api/providers")
        assert response.json() == {
            "providers": [
                {"org_code": BANK, "org_name": "가나은행", "industry": "bank", "industries": ["bank"]},
                {"org_code": BANK2, "org_name": "다라은행", "industry": "bank", "industries": ["bank"]},
            ]
        }

    async def test_consent_signature_tokens_and_first_collection(self, harness: Harness) -> None:
        token = await sign_up(harness)
        body = await connect(harness, token, [BANK], is_consent_trans_memo=True)
        assert body["providers"] == [
            {"org_code": BANK, "ok": True, "scope": "bank.list bank.deposit bank.invest bank.loan"}
        ]
        held = await records(harness, token)
        assert body["collected"] == {BANK: len(held)}

        # what was signed is what 통합인증-002 presented
        [sign_request] = harness.fake.sign_requests
        [entry] = sign_request["consent_list"]
        signed = decode_signed_content(entry["consent"].encode())
        assert signed.consent.is_consent_trans_memo is True
        assert signed.consent.scopes == ["bank.list", "bank.deposit", "bank.invest", "bank.loan", "bank.irp"]
        [grant] = harness.fake.tokens_issued
        assert grant["grant_type"] == "password"
        assert grant["username"] == CI
        assert grant["org_code"] == BANK
        assert grant["tx_id"] == entry["tx_id"]
        assert grant["consent_nonce"] == signed.consentNonce
        assert grant["cert_tx_id"] == "SIGNTX0001"
        assert grant["ca_code"] == "CERTAUTH01"
        assert grant["client_id"] == "service"
        assert grant["auth_type"] == "1"

        # collection: every call user-consent, history in one call per account, pages followed
        calls = harness.fake.bank_calls.items
        assert {api_type for _, _, api_type in calls} == {"user-consent"}
        history = harness.fake.bank_calls.to("/v1/bank/accounts/deposit/transactions")
        assert sorted((c["account_num"], c.get("next_page", "")) for c in history) == [
            ("1002123456789", ""),
            ("1002123456789", "page2"),
            ("1002999888777", ""),
        ]
        assert {(c["from_date"], c["to_date"]) for c in history} == {(history[0]["from_date"], history[0]["to_date"])}
        assert history[0]["to_date"] == now_kst().strftime("%Y%m%d")
        assert not harness.fake.bank_calls.to("/v1/bank/accounts/invest/basic")  # not in the consent
        kinds = {(item["api_id"], item["record_key"]) for item in held}
        assert ("은행-001", "1002123456789|") in kinds
        assert {item["record_key"] for item in held if item["api_id"] == "은행-004"} == {
            "20261115093000|T1",
            "20261110180000|T2",
            "20261101120000|T3",
        }
        assert await harness.count(ProviderToken) == 1
        async with harness.db.transaction() as session:
            [stored] = (await session.execute(select(ProviderToken))).scalars().all()
        assert "at-bank.test" not in stored.access_token  # encrypted at rest
        assert harness.service.vault.open(stored.access_token) == "at-bank.test"

    async def test_collecting_twice_keeps_the_same_rows(self, harness: Harness) -> None:
        token = await sign_up(harness)
        await connect(harness, token, [BANK])
        first = await records(harness, token)
        rows = await harness.count(Record)
        marks = await harness.count(SyncMark)
        assert marks > 0
        response = await harness.client.post("/api/me/refresh", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200
        assert response.json()["collected"] == {BANK: len(first)}
        second = await records(harness, token)
        assert second == first
        assert await harness.count(Record) == rows
        # the second run sent search_timestamp back (00001) and still used the stored accounts as sources
        account_lists = harness.fake.bank_calls.to("/v1/bank/accounts")
        assert account_lists[-1].get("search_timestamp") == "20261120090000"
        assert len(harness.fake.bank_calls.to("/v1/bank/accounts/loan/transactions")) == 2

    async def test_an_expired_access_token_is_renewed_before_collecting(self, harness: Harness) -> None:
        token = await sign_up(harness)
        await connect(harness, token, [BANK])
        async with harness.db.transaction() as session:
            await session.execute(update(ProviderToken).values(expires_at=utcnow() - timedelta(minutes=1)))
        response = await harness.client.post("/api/me/refresh", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200
        assert [grant["grant_type"] for grant in harness.fake.tokens_issued] == ["password", "refresh_token"]
        async with harness.db.transaction() as session:
            [stored] = (await session.execute(select(ProviderToken))).scalars().all()
        assert as_utc(stored.expires_at) > utcnow() + timedelta(days=80)
        assert {api_type for _, _, api_type in harness.fake.bank_calls.items[-3:]} == {"user-refresh"}

    async def test_a_failing_provider_does_not_stop_the_others(self, harness: Harness) -> None:
        token = await sign_up(harness)
        body = await connect(harness, token, [BANK, BANK2])
        assert [p["ok"] for p in body["providers"]] == [True, True]
        async with harness.db.transaction() as session:
            statuses = {s.org_code: s for s in (await session.execute(select(CollectionStatus))).scalars()}
        assert statuses[BANK].state == "ok"
        assert statuses[BANK].last_success is not None
        assert statuses[BANK2].state == "failed"
        assert statuses[BANK2].error_code == "50005"
        summary = (await harness.client.get("/api/me/summary", headers={"Authorization": f"Bearer {token}"})).json()
        assert summary["institutions"] == 2
        assert summary["totals"]["deposit"] == "11500000"
        assert summary["totals"]["loan"] == "25000000"
        assert summary["accounts"] == 4
        assert {c["org_code"]: c["state"] for c in summary["collection"]} == {BANK: "ok", BANK2: "failed"}

    async def test_unreachable_provider_fails_only_its_consent(self, harness: Harness) -> None:
        token = await sign_up(harness)
        harness.fake.bank2_down = True
        body = await connect(harness, token, [BANK, BANK2])
        outcome = {p["org_code"]: p for p in body["providers"]}
        assert outcome[BANK]["ok"] is True
        assert outcome[BANK2] == {"org_code": BANK2, "ok": False, "error": "unavailable"}
        assert set(body["collected"]) == {BANK}
        assert await harness.count(Consent, status="failed") == 1

    async def test_unknown_provider_is_refused(self, harness: Harness) -> None:
        token = await sign_up(harness)
        response = await harness.client.post(
            "/api/consents", json={"org_codes": ["NOPE000001"]}, headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 400
        assert response.json()["rsp_code"] == "40001"
        assert harness.fake.sign_requests == []


class TestWithdrawal:
    async def _other_person(self, h: Harness) -> int:
        async with h.db.transaction() as session:
            row, key = await h.service.keyring.new_person(
                Identity(ci="OTHERCI", name="이영희", birth_date="19850505", phone="01099998888"), utcnow()
            )
            other = await repo.add_person(session, row)
            now = utcnow()
            await repo.save_token(
                session,
                {
                    "person_id": other.id,
                    "org_code": BANK,
                    "access_token": h.service.vault.seal("other-at"),
                    "refresh_token": h.service.vault.seal("other-rt"),
                    "expires_at": now + timedelta(days=1),
                    "refresh_expires_at": now + timedelta(days=300),
                    "scope": "bank.list",
                    "issued_at": now,
                },
            )
            await repo.save_assets(session, other.id, key, BANK, "은행-001", [("999|", {"account_num": "999"})], now)
            await repo.save_records(session, other.id, key, BANK, "은행-004", [("999|", "x|1", {"trans_no": "1"})], now)
            return other.id

    async def test_withdrawal_revokes_and_deletes_only_that_person(self, harness: Harness) -> None:
        token = await sign_up(harness)
        await connect(harness, token, [BANK])
        other = await self._other_person(harness)
        async with harness.db.transaction() as session:
            person = await harness.service.member_by_ci(session, CI)
            assert person is not None
            person_id = person.id
        assert await harness.count(Record, person_id=person_id) > 0

        response = await harness.client.post("/api/withdraw", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200
        assert response.json() == {"revoked": [{"org_code": BANK, "rsp_code": "00000"}], "records_remaining": 0}
        assert [r["token"] for r in harness.fake.revoked] == ["at-bank.test"]

        for model in (Record, Asset, ProviderToken, SyncMark, CollectionStatus, WebSession):
            assert await harness.count(model, person_id=person_id) == 0, model
        assert await harness.count(Person, id=person_id) == 0
        async with harness.db.transaction() as session:
            consents = (await session.execute(select(Consent))).scalars().all()
            [audit] = (await session.execute(select(WithdrawalAudit))).scalars().all()
        assert consents
        assert all(
            c.status == "withdrawn"
            and c.consent is None
            and c.consent_nonce is None
            and c.person_id is None
            and c.withdrawn_at is not None
            for c in consents
        )
        assert audit.revoked == [{"org_code": BANK, "rsp_code": "00000"}]
        assert audit.records_deleted > 0
        assert CI not in json.dumps(audit.revoked)

        # the other person keeps everything
        assert await harness.count(Person, id=other) == 1
        assert await harness.count(Record, person_id=other) == 1
        assert await harness.count(Asset, person_id=other) == 1
        assert await harness.count(ProviderToken, person_id=other) == 1
        # the old session is gone
        response = await harness.client.get("/api/me/summary", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401


class TestPages:
    async def test_home_and_redirects_without_a_session(self, harness: Harness) -> None:
        home = await harness.client.get("/")
        assert home.status_code == 200
        assert 'lang="ko"' in home.text
        assert '<label for="birth_date">' in home.text
        assert home.headers["content-security-policy"].startswith("default-src 'self'")
        for path in ("/dashboard", "/connect", "/consents"):
            response = await harness.client.get(path)
            assert response.status_code == 303
            assert response.headers["location"] == "/"
        css = await harness.client.get("/static/operator.css")
        assert css.status_code == 200
        assert ".table .num" in css.text
        missing = await harness.client.get("/nowhere")
        assert missing.status_code == 404
        assert "페이지를 찾을 수 없습니다" in missing.text

    async def test_sign_up_form_shows_the_approval_step(self, harness: Harness) -> None:
        bad = await harness.client.post("/signup", data={"name": "김철수", "birth_date": "1990", "phone": "010"})
        assert bad.status_code == 400
        assert "생년월일" in bad.text
        page = await harness.client.post(
            "/signup", data={"name": "김철수", "birth_date": "19900101", "phone": "01012345678"}
        )
        assert page.status_code == 200
        assert 'href="http://ca.test/approve/IDTX0001"' in page.text
        assert 'value="IDTX0001"' in page.text
        waiting = await harness.client.post("/signup/complete", data={"cert_tx_id": "IDTX0001"})
        assert waiting.status_code == 409
        assert "아직 승인되지 않았습니다" in waiting.text
        harness.fake.identity_status = "02"
        done = await harness.client.post("/signup/complete", data={"cert_tx_id": "IDTX0001"})
        assert done.status_code == 303
        assert done.headers["location"] == "/connect"
        assert "omd_session" in done.headers["set-cookie"]
        assert "httponly" in done.headers["set-cookie"].lower()

    async def test_pages_render_the_stored_data(self, harness: Harness) -> None:
        token = await sign_up(harness)
        await connect(harness, token, [BANK, BANK2])
        harness.client.cookies.set("omd_session", token)
        dashboard = await harness.client.get("/dashboard")
        assert dashboard.status_code == 200
        text = dashboard.text
        for expected in (
            "김철수님의 자산",
            "자유입출금 통장",
            "₩1,500,000",
            "₩11,500,000",
            "직장인 신용대출",
            "₩25,000,000",
            "4.5%",
            "2026.11.15 09:30",
            "₩45,000",
            "가나은행",
            "다라은행",
            "오래됨",  # the second bank answered 50005: its data is stale, and the page says why
            "기관 서버에 연결할 수 없습니다",
        ):
            assert expected in text, expected
        assert '<td class="num">₩1,500,000</td>' in text

        consents = await harness.client.get("/consents")
        assert consents.status_code == 200
        assert "유효" in consents.text
        assert 'action="/withdraw"' in consents.text
        connect_page = await harness.client.get("/connect")
        assert connect_page.status_code == 200
        assert 'name="org_code" value="BANK000001"' in connect_page.text
        assert "연결됨" in connect_page.text
        assert 'for="memo"' in connect_page.text

    async def test_page_forms_need_the_csrf_token(self, harness: Harness) -> None:
        token = await sign_up(harness)
        harness.client.cookies.set("omd_session", token)
        refused = await harness.client.post("/withdraw", data={"csrf": "forged"})
        assert refused.status_code == 403
        assert await harness.count(Person) == 1
        page = await harness.client.get("/consents")
        csrf = page.text.split('name="csrf" value="')[1].split('"')[0]
        done = await harness.client.post("/withdraw", data={"csrf": csrf})
        assert done.status_code == 200
        assert "철회가 완료되었습니다" in done.text
        assert await harness.count(Person) == 0


class TestDashboardWithCardAndTelecom:
    async def test_cards_bills_approvals_and_telecom_render(self, harness: Harness) -> None:
        token = await sign_up(harness)
        now = utcnow()
        async with harness.db.transaction() as session:
            person = await harness.service.member_by_ci(session, CI)
            assert person is not None
            pid, key = person.id, person.key
            card, telco = "CARD000001", "TELCO00001"
            await repo.save_assets(
                session,
                pid,
                key,
                card,
                "카드-001",
                [
                    (
                        "C1",
                        {
                            "card_id": "C1",
                            "card_num": "1234-****-****-5678",
                            "is_consent": "true",
                            "card_name": "가나 체크카드",
                            "card_member": "1",
                        },
                    )
                ],
                now,
            )
            await repo.save_records(
                session,
                pid,
                key,
                card,
                "카드-002",
                [
                    (
                        "C1",
                        "",
                        {
                            "card_type": "02",
                            "is_trans_payable": "true",
                            "is_cash_card": "false",
                            "card_brand": "I01",
                            "issue_date": "20240101",
                        },
                    )
                ],
                now,
            )
            await repo.save_records(
                session,
                pid,
                key,
                card,
                "카드-004",
                [
                    (
                        "",
                        "202610|0001",
                        {
                            "seqno": "0001",
                            "charge_amt": "320000",
                            "charge_day": "15",
                            "charge_month": "202610",
                            "paid_out_date": "20261015",
                            "card_type": "02",
                        },
                    ),
                    (
                        "",
                        "202611|0001",
                        {
                            "seqno": "0001",
                            "charge_amt": "410500",
                            "charge_day": "15",
                            "charge_month": "202611",
                            "paid_out_date": "20261115",
                            "card_type": "02",
                        },
                    ),
                ],
                now,
            )
            await repo.save_records(
                session,
                pid,
                key,
                card,
                "카드-008",
                [
                    (
                        "C1",
                        "20261120123000|A1",
                        {
                            "approved_num": "A1",
                            "approved_dtime": "20261120123000",
                            "status": "01",
                            "pay_type": "02",
                            "merchant_name": "가나마트",
                            "approved_amt": "23800",
                        },
                    )
                ],
                now,
            )
            await repo.save_assets(
                session,
                pid,
                key,
                telco,
                "통신-001",
                [
                    (
                        "M1",
                        {
                            "mgmt_id": "M1",
                            "is_consent": "true",
                            "telecom_num": "010-****-5678",
                            "type": "01",
                            "status": "01",
                        },
                    )
                ],
                now,
            )
            await repo.save_records(
                session,
                pid,
                key,
                telco,
                "통신-002",
                [("202611", "M1|20261125", {"mgmt_id": "M1", "charge_amt": "65000", "charge_date": "20261125"})],
                now,
            )
            for org in (card, telco):
                await repo.save_status(
                    session,
                    {
                        "person_id": pid,
                        "org_code": org,
                        "state": "ok",
                        "last_attempt": now,
                        "last_success": now,
                        "error_code": None,
                        "record_count": 3,
                    },
                )
        harness.client.cookies.set("omd_session", token)
        text = (await harness.client.get("/dashboard")).text
        for expected in (
            "가나 체크카드",
            "체크",
            "2026.11",
            "₩410,500",
            "가나마트",
            "₩23,800",
            "승인",
            "010-****-5678",
            "₩65,000",
            "2026.11.25",
        ):
            assert expected in text, expected
        summary = (await harness.client.get("/api/me/summary", headers={"Authorization": f"Bearer {token}"})).json()
        assert summary["cards"] == 1
        assert summary["telecom_lines"] == 1
        assert summary["totals"]["card_bills"] == "410500"
        assert summary["totals"]["telecom_bills"] == "65000"


class TestEncryptionAtRest:
    async def test_stored_rows_hold_no_clear_personal_data(self, harness: Harness) -> None:
        token = await sign_up(harness)
        await connect(harness, token, [BANK])
        served = json.dumps(await records(harness, token), ensure_ascii=False)
        accounts = [account["account_num"] for account in ACCOUNTS[:3]]
        assert all(number in served for number in accounts)  # held and served in clear
        clear = [CI, "김철수", "19900101", "01012345678", *accounts]
        stored = []
        async with harness.db.transaction() as session:
            for model in (Person, Asset, Record, SyncMark, DataKey):
                for row in (await session.execute(select(model))).scalars():
                    stored.append({column.name: str(getattr(row, column.key)) for column in model.__mapper__.columns})
        text = json.dumps(stored, ensure_ascii=False)
        assert await harness.count(Record) > 0
        assert await harness.count(SyncMark) > 0
        for value in clear:
            assert value not in text, value

    async def test_a_wrapped_key_or_sealed_identity_does_not_open_on_another_row(self, harness: Harness) -> None:
        await sign_up(harness)
        keyring = harness.service.keyring
        async with harness.db.transaction() as session:
            [person] = (await session.execute(select(Person))).scalars().all()
            other, _ = await keyring.new_person(Identity("OTHERCI", "이영희", "19850505", "01099998888"), utcnow())
            assert (await keyring.open(person)).ci == CI
            assert other.ci_index != person.ci_index
            assert person.ci_index == keyring.ci_index(CI)
            moved_key = Person(id=99, uid=other.uid, ci_index="x", wrapped_key=person.wrapped_key, identity="")
            with pytest.raises(KeyManagerError):
                await keyring.open(moved_key)
            moved_identity = Person(
                id=99, uid=other.uid, ci_index="x", wrapped_key=other.wrapped_key, identity=person.identity
            )
            with pytest.raises(KeyManagerError):
                await keyring.open(moved_identity)

    async def test_the_local_key_file_is_created_private(self, harness: Harness, tmp_path: Path) -> None:
        key_file = tmp_path / "operator-keys.json"
        assert key_file.exists()
        assert key_file.stat().st_mode & 0o077 == 0
        assert isinstance(harness.service.keyring.manager, LocalKeyFile)

    def test_settings_choose_the_key_manager(self, tmp_path: Path) -> None:
        sqlite = settings_for(f"sqlite+aiosqlite:///{tmp_path / 'x' / 'operator.db'}")
        assert sqlite.key_file_path() == tmp_path / "x" / "operator-keys.json"
        vault = settings_for("postgresql+asyncpg://u@h/db").model_copy(
            update={"key_manager": "vault", "vault_url": "http://vault.test", "vault_token": "t"}
        )
        manager = key_manager_for(vault)
        assert isinstance(manager, VaultTransit)
        assert manager.name == "vault:transit/openmydata-operator"
