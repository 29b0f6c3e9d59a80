"""A card company serving prepaid cards (선불-001…004): sandbox card customers imported, their prepaid cards served
through the generic endpoints (paging, search_timestamp, per-card consent checked against the prepaid list, the
merchant flag, the 31-day scheduled range) next to their credit cards, and collected back by the operator's
collector together with every other card API."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from openmydata.kit.clock import to_date, today_kst, utcnow
from openmydata.kit.pki import CertificateAuthority
from openmydata.operator.collector import collect_provider
from openmydata.provider.app import create_app
from openmydata.provider.importer import import_customers
from openmydata.provider.models import Record
from openmydata.provider.registry import register_service
from openmydata.provider.settings import ProviderSettings
from openmydata.sandbox.institutions import generate_customers
from openmydata.sandbox.population import generate_people
from openmydata.sandbox.timeline import Window
from openmydata.standard.apis import CATALOGUE
from openmydata.standard.consent import ConsentAsset, TargetInfo, TransmissionRequest
from openmydata.standard.dataset import CustomerData

from .conftest import CLIENT_ID, CLIENT_SECRET, OPERATOR, PROVIDER, Harness

MERCHANT_FIELDS = {"merchant_name", "merchant_regno"}
ENVELOPE = {"rsp_code", "rsp_msg", "search_timestamp"}


def _rsp(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, response.json()["rsp_code"]


def _history() -> dict[str, str]:
    today = today_kst()
    return {"from_date": to_date(Window.ending(today).start), "to_date": to_date(today)}


def _generated(customer: CustomerData) -> dict[str, dict[str, list[dict[str, Any]]]]:
    grouped: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    for record in customer.records:
        grouped[record.api_id][record.key].append(record.payload)
    return grouped


def _text(payload: dict[str, Any]) -> str:
    return json.dumps(payload, sort_keys=True, ensure_ascii=False)


def _consent(harness: Harness, scopes: list[TargetInfo], *, merchant: bool = True) -> TransmissionRequest:
    return harness.consent(scopes).model_copy(update={"is_consent_merchant_name_regno": merchant})


def _prepaid_ids(customer: CustomerData) -> list[str]:
    return [payload["pp_id"] for payload in _generated(customer)["선불-001"][""]]


@pytest.fixture(scope="module")
def holder() -> CustomerData:
    """A card customer with two prepaid cards, one of them much used, generated up to today."""
    today = today_kst()
    people = generate_people(2500, 5, today)
    found = generate_customers(people, sector="card", org_code=PROVIDER, seed=5, as_of=today)
    return next(
        customer
        for customer in found
        if sum(r.api_id == "선불-001" for r in customer.records) == 2
        and max(len(approvals) for approvals in _generated(customer)["선불-004"].values()) > 20
    )


@pytest.fixture
async def harness(
    db_url: str, trust_file: Path, test_ca: CertificateAuthority, holder: CustomerData
) -> AsyncIterator[Harness]:
    settings = ProviderSettings(
        insecure_plain_http=True,
        org_code=PROVIDER,
        industries=["card"],
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
        await import_customers(db, [holder])
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
            yield Harness(app=app, http=http, db=db, ca=test_ca)


class TestPrepaidProvider:
    async def test_prepaid_cards_are_served_as_generated(self, harness: Harness, holder: CustomerData) -> None:
        generated = _generated(holder)
        tokens = await harness.grant(holder.ci, _consent(harness, [TargetInfo(scope="card.prepaid")]))
        assert tokens["scope"] == "card.list card.prepaid"
        token = tokens["access_token"]
        listed = (await harness.call("선불-001", {}, token=token)).json()
        assert (listed["rsp_code"], listed["prepaid_cnt"], listed["reg_date"]) == ("00000", "2", holder.reg_date)
        assert listed["prepaid_list"] == [{**p, "is_consent": "true"} for p in generated["선불-001"][""]]
        for entry in listed["prepaid_list"]:
            pp_id = entry["pp_id"]
            balance = (await harness.call("선불-002", {"pp_id": pp_id}, token=token)).json()
            assert {k: v for k, v in balance.items() if k not in ENVELOPE} == generated["선불-002"][pp_id][0]
            for api_id, list_field in (("선불-003", "trans_list"), ("선불-004", "approved_list")):
                pages = [
                    page.raw
                    async for page in harness.client.pages(
                        api_id,
                        {"org_code": PROVIDER, "pp_id": pp_id, "limit": 7, **_history()},
                        token=token,
                        api_type="user-consent",
                    )
                ]
                served = [item for page in pages for item in page[list_field]]
                assert served == generated[api_id].get(pp_id, []), api_id
                assert len(pages) == max(1, -(-len(served) // 7))

    async def test_the_balance_is_not_sent_again_until_it_changes(self, harness: Harness, holder: CustomerData) -> None:
        token = (await harness.grant(holder.ci, _consent(harness, [TargetInfo(scope="card.prepaid")])))["access_token"]
        async with harness.db.transaction() as session:  # imported an hour ago (timestamps have 1 s resolution)
            await session.execute(update(Record).values(updated_at=utcnow() - timedelta(hours=1)))
        pp_id = _prepaid_ids(holder)[0]
        first = (await harness.call("선불-002", {"pp_id": pp_id}, token=token)).json()
        stamp = first["search_timestamp"]
        again = (await harness.call("선불-002", {"pp_id": pp_id, "search_timestamp": stamp}, token=token)).json()
        assert again == {"rsp_code": "00001", "rsp_msg": again["rsp_msg"]}
        stale = {"pp_id": pp_id, "search_timestamp": "20000101000000"}
        assert "total_balance_amt" in (await harness.call("선불-002", stale, token=token)).json()
        listed = (await harness.call("선불-001", {}, token=token)).json()
        unchanged = await harness.call("선불-001", {"search_timestamp": listed["search_timestamp"]}, token=token)
        assert _rsp(unchanged) == (200, "00001")

    async def test_a_consent_for_one_prepaid_card_refuses_the_other(
        self, harness: Harness, holder: CustomerData
    ) -> None:
        first, second = _prepaid_ids(holder)
        card_id = _generated(holder)["카드-001"][""][0]["card_id"]
        target = TargetInfo(scope="card.prepaid", asset_list=[ConsentAsset(asset=first)])
        token = (await harness.grant(holder.ci, _consent(harness, [target])))["access_token"]
        listed = (await harness.call("선불-001", {}, token=token)).json()["prepaid_list"]
        assert {p["pp_id"]: p["is_consent"] for p in listed} == {first: "true", second: "false"}
        assert _rsp(await harness.call("선불-002", {"pp_id": first}, token=token)) == (200, "00000")
        for pp_id in (second, card_id, "PP-NOBODY"):
            assert _rsp(await harness.call("선불-002", {"pp_id": pp_id}, token=token)) == (401, "40105"), pp_id
        refused = await harness.call("선불-004", {"pp_id": second, **_history()}, token=token)
        assert _rsp(refused) == (401, "40105")

    async def test_assets_are_checked_against_the_prepaid_list(self, harness: Harness, holder: CustomerData) -> None:
        card_id = _generated(holder)["카드-001"][""][0]["card_id"]
        # consented by identifier, but a credit card is no prepaid card of this customer (40402 after 40105)
        target = TargetInfo(scope="card.prepaid", asset_list=[ConsentAsset(asset=card_id)])
        token = (await harness.grant(holder.ci, _consent(harness, [target])))["access_token"]
        response = await harness.call("선불-003", {"pp_id": card_id, **_history()}, token=token)
        assert _rsp(response) == (404, "40402")

    async def test_card_and_prepaid_scopes_open_their_own_lists(self, harness: Harness, holder: CustomerData) -> None:
        pp_id = _prepaid_ids(holder)[0]
        prepaid_only = await harness.grant(holder.ci, _consent(harness, [TargetInfo(scope="card.prepaid")]))
        token = prepaid_only["access_token"]
        cards = (await harness.call("카드-001", {}, token=token)).json()["card_list"]
        assert cards
        assert {card["is_consent"] for card in cards} == {"false"}
        card_id = cards[0]["card_id"]
        assert _rsp(await harness.call("카드-002", {"card_id": card_id}, token=token)) == (401, "40104")
        card_only = await harness.grant(holder.ci, _consent(harness, [TargetInfo(scope="card.card")]))
        other = card_only["access_token"]
        assert card_only["scope"] == "card.list card.card"
        prepaid = (await harness.call("선불-001", {}, token=other)).json()["prepaid_list"]
        assert {entry["is_consent"] for entry in prepaid} == {"false"}
        assert _rsp(await harness.call("선불-002", {"pp_id": pp_id}, token=other)) == (401, "40104")

    async def test_merchant_fields_need_their_consent_flag(self, harness: Harness, holder: CustomerData) -> None:
        generated = _generated(holder)
        consent = _consent(harness, [TargetInfo(scope="card.prepaid")], merchant=False)
        token = (await harness.grant(holder.ci, consent))["access_token"]
        pp_id = max(generated["선불-004"], key=lambda key: len(generated["선불-004"][key]))
        body = (await harness.call("선불-004", {"pp_id": pp_id, **_history()}, token=token)).json()
        assert int(body["approved_cnt"]) == len(generated["선불-004"][pp_id])
        assert all(not MERCHANT_FIELDS & set(item) for item in body["approved_list"])
        assert any("merchant_name" in item for item in generated["선불-004"][pp_id])
        assert [item["approved_num"] for item in body["approved_list"]] == [
            item["approved_num"] for item in generated["선불-004"][pp_id]
        ]

    async def test_scheduled_history_is_limited_to_31_days(self, harness: Harness, holder: CustomerData) -> None:
        token = (await harness.grant(holder.ci, _consent(harness, [TargetInfo(scope="card.prepaid")])))["access_token"]
        pp_id = _prepaid_ids(holder)[0]
        today = today_kst()
        month = {"pp_id": pp_id, "from_date": to_date(today - timedelta(days=30)), "to_date": to_date(today)}
        for api_id in ("선불-003", "선불-004"):
            allowed = await harness.call(api_id, month, token=token, api_type="scheduled")
            assert _rsp(allowed) == (200, "00000")
            longer = {**month, "from_date": to_date(today - timedelta(days=31))}
            assert _rsp(await harness.call(api_id, longer, token=token, api_type="scheduled")) == (400, "40004")

    async def test_the_operator_collects_every_generated_record(self, harness: Harness, holder: CustomerData) -> None:
        generated = _generated(holder)
        scopes = [TargetInfo(scope=scope) for scope in CATALOGUE.scopes("card") if not scope.endswith(".list")]
        token = (await harness.grant(holder.ci, _consent(harness, scopes)))["access_token"]
        collection = await collect_provider(
            harness.client, CATALOGUE.info_apis(["card"]), org_code=PROVIDER, token=token, today=today_kst()
        )
        assert collection.errors == []
        assert {"선불-001", "선불-002", "선불-003", "선불-004"} <= set(collection.items)
        assert set(collection.items) == set(generated)
        for api_id, by_key in generated.items():
            expected = [p for payloads in by_key.values() for p in payloads]
            collected = list(collection.items[api_id].values())
            if api_id in {"카드-001", "선불-001"}:
                collected = [{**p, "is_consent": "false"} for p in collected]
            assert sorted(map(_text, collected)) == sorted(map(_text, expected)), api_id
