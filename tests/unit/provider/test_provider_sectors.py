"""One provider serving two sectors (bank and card): path parameters, GET queries, month ranges, sensitive
merchant fields and 공통-002 under each industry."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from openmydata.kit.clock import now_kst, to_dtime, today_kst
from openmydata.kit.pki import CertificateAuthority
from openmydata.provider.app import create_app
from openmydata.provider.importer import import_customers
from openmydata.provider.registry import register_service
from openmydata.provider.settings import ProviderSettings
from openmydata.standard.consent import ConsentAsset, TargetInfo, TransmissionCycle
from openmydata.standard.dataset import StoredRecord
from openmydata.standard.formats import Party, new_tran_id

from .conftest import ALICE, CLIENT_ID, CLIENT_SECRET, OPERATOR, PROVIDER, Harness, alice

CARD = "C-0001"


def _months_ago(months: int) -> str:
    today = today_kst()
    index = today.year * 12 + today.month - 1 - months
    return f"{index // 12:04d}{index % 12 + 1:02d}"


def card_records() -> list[StoredRecord]:
    records = [
        StoredRecord(
            api_id="카드-001",
            payload={
                "card_id": CARD,
                "card_num": "1234-****-****-5678",
                "card_name": "테스트카드",
                "card_member": "1",
            },
        ),
        StoredRecord(
            api_id="카드-002",
            key=CARD,
            payload={
                "card_type": "01",
                "is_trans_payable": "true",
                "is_cash_card": "false",
                "card_brand": "I01",
                "issue_date": "20200101",
            },
        ),
    ]
    for day in range(5):
        records.append(
            StoredRecord(
                api_id="카드-008",
                key=CARD,
                payload={
                    "approved_num": f"A{day:05d}",
                    "approved_dtime": to_dtime(now_kst() - timedelta(days=day)),
                    "status": "01",
                    "pay_type": "01",
                    "merchant_name": "카페",
                    "merchant_regno": "123-45-67890",
                    "approved_amt": "4500",
                },
            )
        )
    for months in range(6):
        month = _months_ago(months)
        records.append(
            StoredRecord(
                api_id="카드-004",
                payload={
                    "seqno": "1",
                    "charge_amt": "100000",
                    "charge_day": "15",
                    "charge_month": month,
                    "paid_out_date": f"{month}15",
                    "card_type": "01",
                },
            )
        )
    return records


@pytest.fixture
async def harness(db_url: str, trust_file: Path, test_ca: CertificateAuthority) -> AsyncIterator[Harness]:
    settings = ProviderSettings(
        insecure_plain_http=True,
        org_code=PROVIDER,
        industries=["bank", "card"],
        database_url=db_url,
        token_secret="t",
        cursor_secret="c",
        consent_verifier="local",
        consent_trust_roots_file=trust_file,
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        db = app.state.provider.db
        await register_service(db, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, org_code=OPERATOR)
        customer = alice()
        customer.records = [*customer.records[:3], *card_records()]
        await import_customers(db, [customer])
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
            yield Harness(app=app, http=http, db=db, ca=test_ca)


class TestMultiSectorProvider:
    async def test_card_apis_with_path_parameters_and_sensitive_fields(self, harness: Harness) -> None:
        consent = harness.consent([TargetInfo(scope="card.card"), TargetInfo(scope="bank.deposit")])
        tokens = await harness.grant(ALICE, consent)
        assert tokens["scope"] == "card.list bank.list card.card bank.deposit"
        token = tokens["access_token"]
        cards = (await harness.call("카드-001", {}, token=token)).json()
        assert cards["card_list"][0]["is_consent"] == "true"
        basic = await harness.call("카드-002", {"card_id": CARD}, token=token)
        assert (basic.status_code, basic.json()["card_brand"]) == (200, "I01")
        today = today_kst().strftime("%Y%m%d")
        week_ago = (today_kst() - timedelta(days=7)).strftime("%Y%m%d")
        approvals = await harness.call(
            "카드-008", {"card_id": CARD, "from_date": week_ago, "to_date": today}, token=token
        )
        body = approvals.json()
        assert (approvals.status_code, body["approved_cnt"]) == (200, "5")
        assert all("merchant_name" not in item and "merchant_regno" not in item for item in body["approved_list"])
        missing = await harness.call("카드-002", {"card_id": "C-9999"}, token=token)
        assert (missing.status_code, missing.json()["rsp_code"]) == (404, "40402")
        bills = await harness.call("카드-004", {"from_month": _months_ago(2), "to_month": _months_ago(0)}, token=token)
        assert (bills.status_code, bills.json()["rsp_code"]) == (401, "40104")

    async def test_month_ranges_and_consent_under_each_industry(self, harness: Harness) -> None:
        consent = harness.consent([TargetInfo(scope="card.bill")])
        token = (await harness.grant(ALICE, consent))["access_token"]
        three = {"from_month": _months_ago(2), "to_month": _months_ago(0)}
        bills = await harness.call("카드-004", three, token=token, api_type="scheduled")
        assert (bills.status_code, bills.json()["bill_cnt"]) == (200, "3")
        four = {"from_month": _months_ago(3), "to_month": _months_ago(0)}
        refused = await harness.call("카드-004", four, token=token, api_type="scheduled")
        assert (refused.status_code, refused.json()["rsp_code"]) == (400, "40004")
        assert (await harness.call("카드-004", four, token=token, api_type="user-refresh")).json()["bill_cnt"] == "4"
        for industry in ("bank", "card"):
            response = await harness.http.get(
                f"/v1/{industry}/consents",
                params={"org_code": PROVIDER},
                headers={
                    "x-api-tran-id": new_tran_id(OPERATOR, Party.OPERATOR),
                    "x-api-type": "user-refresh",
                    "Authorization": f"Bearer {token}",
                },
            )
            assert response.status_code == (200 if industry == "card" else 401), response.text


def telecom_records() -> list[StoredRecord]:
    month = _months_ago(1)
    records = [
        StoredRecord(
            api_id="통신-001", payload={"mgmt_id": mgmt, "telecom_num": "010-****-1234", "type": "01", "status": "01"}
        )
        for mgmt in ("M1", "M2")
    ]
    records += [
        StoredRecord(
            api_id="통신-002",
            period=month,
            payload={"mgmt_id": mgmt, "charge_amt": "55000", "charge_date": f"{month}25"},
        )
        for mgmt in ("M1", "M2")
    ]
    records.append(
        StoredRecord(
            api_id="통신-003", key="M2", payload={"trans_month": month, "paid_amt": "55000", "pay_method": "01"}
        )
    )
    return records


class TestTelecomProvider:
    async def test_customer_level_bills_carry_only_consented_contracts(
        self, db_url: str, trust_file: Path, test_ca: CertificateAuthority
    ) -> None:
        settings = ProviderSettings(
            insecure_plain_http=True,
            org_code=PROVIDER,
            industries=["telecom"],
            database_url=db_url,
            token_secret="t",
            cursor_secret="c",
            consent_verifier="local",
            consent_trust_roots_file=trust_file,
        )
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            db = app.state.provider.db
            await register_service(db, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, org_code=OPERATOR)
            customer = alice()
            customer.records = telecom_records()
            await import_customers(db, [customer])
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
                harness = Harness(app=app, http=http, db=db, ca=test_ca)
                consent = harness.consent([TargetInfo(scope="telecom.mgmt", asset_list=[ConsentAsset(asset="M1")])])
                token = (await harness.grant(ALICE, consent))["access_token"]
                contracts = (await harness.call("통신-001", {}, token=token)).json()
                assert {c["mgmt_id"]: c["is_consent"] for c in contracts["telecom_list"]} == {
                    "M1": "true",
                    "M2": "false",
                }
                bills = (await harness.call("통신-002", {"charge_month": _months_ago(1)}, token=token)).json()
                assert [bill["mgmt_id"] for bill in bills["bill_list"]] == ["M1"]
                assert bills["bill_cnt"] == "1"
                empty = (await harness.call("통신-002", {"charge_month": _months_ago(2)}, token=token)).json()
                assert empty["bill_cnt"] == "0"
                months = {"from_month": _months_ago(2), "to_month": _months_ago(0)}
                refused = await harness.call("통신-003", {"mgmt_id": "M2", **months}, token=token)
                assert (refused.status_code, refused.json()["rsp_code"]) == (401, "40105")

    async def test_each_charge_month_is_its_own_scheduled_transmission(
        self, db_url: str, trust_file: Path, test_ca: CertificateAuthority
    ) -> None:
        """통신-002 selects a bill by month: this month's and last month's bills may both move on scheduled calls
        in one week, while the same month asked twice is beyond the weekly cycle (42901)."""
        settings = ProviderSettings(
            insecure_plain_http=True,
            org_code=PROVIDER,
            industries=["telecom"],
            database_url=db_url,
            token_secret="t",
            cursor_secret="c",
            consent_verifier="local",
            consent_trust_roots_file=trust_file,
        )
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            db = app.state.provider.db
            await register_service(db, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, org_code=OPERATOR)
            customer = alice()
            customer.records = telecom_records()
            await import_customers(db, [customer])
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
                harness = Harness(app=app, http=http, db=db, ca=test_ca)
                consent = harness.consent([TargetInfo(scope="telecom.mgmt")]).model_copy(
                    update={"cycle": TransmissionCycle(fnd_cycle="1/w", add_cycle="1/w"), "is_scheduled": True}
                )
                token = (await harness.grant(ALICE, consent))["access_token"]

                async def bills(month: str) -> tuple[int, str]:
                    response = await harness.call(
                        "통신-002", {"charge_month": month}, token=token, api_type="scheduled"
                    )
                    return response.status_code, response.json()["rsp_code"]

                assert await bills(_months_ago(0)) == (200, "00000")
                assert await bills(_months_ago(1)) == (200, "00000")
                assert await bills(_months_ago(1)) == (429, "42901")
