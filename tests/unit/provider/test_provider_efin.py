"""A provider serving e-finance: sandbox pay-app customers imported, served through the generic endpoints (both asset
lists, per-fob and per-account APIs, paging, sensitive fields, scopes) and collected back by the operator's
collector."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from openmydata.kit.clock import to_date, today_kst
from openmydata.kit.pki import CertificateAuthority
from openmydata.operator.collector import collect_provider
from openmydata.provider.app import create_app
from openmydata.provider.importer import import_customers
from openmydata.provider.registry import register_service
from openmydata.provider.settings import ProviderSettings
from openmydata.sandbox.institutions import generate_customers
from openmydata.sandbox.population import generate_people
from openmydata.sandbox.timeline import Window
from openmydata.standard.apis import CATALOGUE
from openmydata.standard.consent import ConsentAsset, TargetInfo, TransmissionRequest
from openmydata.standard.dataset import CustomerData

from .conftest import CLIENT_ID, CLIENT_SECRET, OPERATOR, PROVIDER, Harness

SCOPES = ("efin.prepaid", "efin.paid")
SENSITIVE = {"trans_memo", "merchant_name", "merchant_regno", "trans_title", "trans_category"}


def _rsp(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, response.json()["rsp_code"]


def _history() -> dict[str, str]:
    today = today_kst()
    return {"from_date": to_date(Window.ending(today).start), "to_date": to_date(today)}


def _generated(customer: CustomerData) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """api_id → key → payloads, as generated."""
    grouped: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    for record in customer.records:
        grouped[record.api_id][record.key].append(record.payload)
    return grouped


def _text(payload: dict[str, Any]) -> str:
    return json.dumps(payload, sort_keys=True, ensure_ascii=False)


def _consent(harness: Harness, targets: list[TargetInfo], *, sensitive: bool = True) -> TransmissionRequest:
    consent = harness.consent(targets, trans_memo=sensitive)
    return consent.model_copy(
        update={"is_consent_merchant_name_regno": sensitive, "is_consent_trans_category": sensitive}
    )


@pytest.fixture(scope="module")
def customers() -> list[CustomerData]:
    """Customers generated up to today, so their history is what a consent-time collection asks for: one with
    prepaid money, an automatic top-up and a gift balance first, one without prepaid means second."""
    today = today_kst()
    people = generate_people(150, 5, today)
    found = list(generate_customers(people, sector="efin", org_code=PROVIDER, seed=5, as_of=today))

    def fobs(customer: CustomerData) -> int:
        return sum(record.api_id == "전금-001" for record in customer.records)

    def charges(customer: CustomerData) -> int:
        return sum(record.api_id == "전금-003" for record in customer.records)

    rich = next(c for c in found if fobs(c) == 2 and charges(c) > 0)
    plain = next(c for c in found if fobs(c) == 0)
    return [rich, plain]


@pytest.fixture
async def harness(
    db_url: str, trust_file: Path, test_ca: CertificateAuthority, customers: list[CustomerData]
) -> AsyncIterator[Harness]:
    settings = ProviderSettings(
        insecure_plain_http=True,
        org_code=PROVIDER,
        industries=["efin"],
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
        await import_customers(db, customers)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
            yield Harness(app=app, http=http, db=db, ca=test_ca)


class TestEfinProvider:
    async def test_lists_and_per_asset_apis_serve_what_was_generated(
        self, harness: Harness, customers: list[CustomerData]
    ) -> None:
        customer = customers[0]
        generated = _generated(customer)
        token = (await harness.grant(customer.ci, _consent(harness, [TargetInfo(scope=s) for s in SCOPES])))[
            "access_token"
        ]
        fobs = (await harness.call("전금-001", {}, token=token)).json()
        assert fobs["reg_date"] == customer.reg_date
        assert fobs["fob_list"] == [{**p, "is_consent": "true"} for p in generated["전금-001"][""]]
        accounts = (await harness.call("전금-101", {}, token=token)).json()
        assert accounts["account_list"] == [{**p, "is_consent": "true"} for p in generated["전금-101"][""]]
        for fob in fobs["fob_list"]:
            fob_id = fob["fob_id"]
            balance = (await harness.call("전금-002", {"fob_id": fob_id}, token=token)).json()
            assert {k: v for k, v in balance.items() if k not in {"rsp_code", "rsp_msg", "search_timestamp"}} == (
                generated["전금-002"][fob_id][0]
            )
            charges = (await harness.call("전금-003", {"fob_id": fob_id}, token=token)).json()
            assert charges["charge_list"] == generated["전금-003"].get(fob_id, [])
            pages = [
                page.raw
                async for page in harness.client.pages(
                    "전금-004",
                    {"org_code": PROVIDER, "fob_id": fob_id, "limit": 40, **_history()},
                    token=token,
                    api_type="user-consent",
                )
            ]
            served = [item for page in pages for item in page["trans_list"]]
            assert served == generated["전금-004"][fob_id]
            assert len(pages) == -(-len(served) // 40)
        sub_key = accounts["account_list"][0]["sub_key"]
        methods = (await harness.call("전금-102", {"sub_key": sub_key}, token=token)).json()
        assert methods["pay_list"] == generated["전금-102"][sub_key]
        payments = [
            page.raw
            async for page in harness.client.pages(
                "전금-103",
                {"org_code": PROVIDER, "sub_key": sub_key, "limit": 500, **_history()},
                token=token,
                api_type="user-consent",
            )
        ]
        assert [item for page in payments for item in page["trans_list"]] == generated["전금-103"][sub_key]

    async def test_sensitive_fields_need_their_consent_flags(
        self, harness: Harness, customers: list[CustomerData]
    ) -> None:
        customer = customers[0]
        generated = _generated(customer)
        consent = _consent(harness, [TargetInfo(scope="efin.paid")], sensitive=False)
        token = (await harness.grant(customer.ci, consent))["access_token"]
        [sub_key] = generated["전금-103"]
        body = (await harness.call("전금-103", {"sub_key": sub_key, **_history()}, token=token)).json()
        assert int(body["trans_cnt"]) == len(generated["전금-103"][sub_key])
        assert all(not SENSITIVE & set(item) for item in body["trans_list"])
        assert all("pay_method" in item for item in body["trans_list"])

    async def test_scopes_and_assets_are_enforced(self, harness: Harness, customers: list[CustomerData]) -> None:
        customer = customers[0]
        generated = _generated(customer)
        money, gift = (p["fob_id"] for p in generated["전금-001"][""])
        consent = _consent(harness, [TargetInfo(scope="efin.prepaid", asset_list=[ConsentAsset(asset=money)])])
        tokens = await harness.grant(customer.ci, consent)
        assert tokens["scope"] == "efin.list efin.prepaid"
        token = tokens["access_token"]
        fobs = (await harness.call("전금-001", {}, token=token)).json()["fob_list"]
        assert {f["fob_id"]: f["is_consent"] for f in fobs} == {money: "true", gift: "false"}
        assert _rsp(await harness.call("전금-002", {"fob_id": money}, token=token)) == (200, "00000")
        assert _rsp(await harness.call("전금-002", {"fob_id": gift}, token=token)) == (401, "40105")
        [sub_key] = generated["전금-103"]
        assert _rsp(await harness.call("전금-102", {"sub_key": sub_key}, token=token)) == (401, "40104")
        everything = await harness.grant(customer.ci, _consent(harness, [TargetInfo(scope="efin.paid")]))
        other = everything["access_token"]
        # the paid APIs select by sub_key only (no asset check): an unknown key finds nothing
        empty = (await harness.call("전금-102", {"sub_key": "SK-UNKNOWN"}, token=other)).json()
        assert (empty["rsp_code"], empty["pay_cnt"], empty["pay_list"]) == ("00000", "0", [])

    async def test_scheduled_prepaid_history_is_limited_to_31_days(
        self, harness: Harness, customers: list[CustomerData]
    ) -> None:
        customer = customers[0]
        money = _generated(customer)["전금-001"][""][0]["fob_id"]
        token = (await harness.grant(customer.ci, _consent(harness, [TargetInfo(scope="efin.prepaid")])))[
            "access_token"
        ]
        refused = await harness.call("전금-004", {"fob_id": money, **_history()}, token=token, api_type="scheduled")
        assert _rsp(refused) == (400, "40004")

    async def test_a_customer_without_prepaid_means_has_an_empty_prepaid_list(
        self, harness: Harness, customers: list[CustomerData]
    ) -> None:
        customer = customers[1]
        token = (await harness.grant(customer.ci, _consent(harness, [TargetInfo(scope=s) for s in SCOPES])))[
            "access_token"
        ]
        fobs = (await harness.call("전금-001", {}, token=token)).json()
        assert (fobs["fob_cnt"], fobs["fob_list"]) == ("0", [])
        accounts = (await harness.call("전금-101", {}, token=token)).json()
        assert accounts["account_cnt"] == "1"

    async def test_the_operator_collects_every_generated_record(
        self, harness: Harness, customers: list[CustomerData]
    ) -> None:
        for customer in customers:
            generated = _generated(customer)
            token = (await harness.grant(customer.ci, _consent(harness, [TargetInfo(scope=s) for s in SCOPES])))[
                "access_token"
            ]
            collection = await collect_provider(
                harness.client, CATALOGUE.info_apis(["efin"]), org_code=PROVIDER, token=token, today=today_kst()
            )
            assert collection.errors == []
            for api_id, by_key in generated.items():
                expected = [p for payloads in by_key.values() for p in payloads]
                collected = list(collection.items.get(api_id, {}).values())
                assert len(collected) == len(expected), api_id
                if CATALOGUE[api_id].asset_id_field:
                    collected = [{**p, "is_consent": "false"} for p in collected]
                assert sorted(map(_text, collected)) == sorted(map(_text, expected)), api_id
