"""A provider serving P2P lending: sandbox borrowers imported, their loans served through the generic endpoints
(per-loan consent, the 3-month scheduled range of P2P-004) and collected back by the operator's collector."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from openmydata.kit.clock import add_months, to_date, today_kst
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
from openmydata.standard.consent import ConsentAsset, TargetInfo
from openmydata.standard.dataset import CustomerData

from .conftest import CLIENT_ID, CLIENT_SECRET, OPERATOR, PROVIDER, Harness


def _rsp(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, response.json()["rsp_code"]


def _generated(customer: CustomerData) -> dict[str, dict[str, list[dict[str, Any]]]]:
    grouped: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    for record in customer.records:
        grouped[record.api_id][record.key].append(record.payload)
    return grouped


def _text(payload: dict[str, Any]) -> str:
    return json.dumps(payload, sort_keys=True, ensure_ascii=False)


def _served(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k not in {"rsp_code", "rsp_msg", "search_timestamp"}}


@pytest.fixture(scope="module")
def borrower() -> CustomerData:
    """A borrower with two loans and repayments, generated up to today."""
    today = today_kst()
    people = generate_people(1500, 5, today)
    found = generate_customers(people, sector="p2p", org_code=PROVIDER, seed=5, as_of=today)
    return next(
        customer
        for customer in found
        if sum(r.api_id == "P2P-001" for r in customer.records) == 2
        and sum(r.api_id == "P2P-004" for r in customer.records) > 2
    )


@pytest.fixture
async def harness(
    db_url: str, trust_file: Path, test_ca: CertificateAuthority, borrower: CustomerData
) -> AsyncIterator[Harness]:
    settings = ProviderSettings(
        insecure_plain_http=True,
        org_code=PROVIDER,
        industries=["p2p"],
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
        await import_customers(db, [borrower])
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
            yield Harness(app=app, http=http, db=db, ca=test_ca)


class TestP2PProvider:
    async def test_loans_are_served_as_generated(self, harness: Harness, borrower: CustomerData) -> None:
        generated = _generated(borrower)
        token = (await harness.grant(borrower.ci, harness.consent([TargetInfo(scope="p2p.lending")])))["access_token"]
        listed = (await harness.call("P2P-001", {}, token=token)).json()
        assert listed["lending_cnt"] == "2"
        assert listed["lending_list"] == [{**p, "is_consent": "true"} for p in generated["P2P-001"][""]]
        today = today_kst()
        history = {"from_date": to_date(Window.ending(today).start), "to_date": to_date(today)}
        for lending in listed["lending_list"]:
            lending_id = lending["lending_id"]
            for api_id in ("P2P-002", "P2P-003"):
                body = (await harness.call(api_id, {"lending_id": lending_id}, token=token)).json()
                assert _served(body) == generated[api_id][lending_id][0]
            repayments = (await harness.call("P2P-004", {"lending_id": lending_id, **history}, token=token)).json()
            assert repayments["trans_list"] == generated["P2P-004"].get(lending_id, [])

    async def test_a_consent_for_one_loan_refuses_the_other(self, harness: Harness, borrower: CustomerData) -> None:
        first, second = (p["lending_id"] for p in _generated(borrower)["P2P-001"][""])
        target = TargetInfo(scope="p2p.lending", asset_list=[ConsentAsset(asset=first)])
        token = (await harness.grant(borrower.ci, harness.consent([target])))["access_token"]
        listed = (await harness.call("P2P-001", {}, token=token)).json()["lending_list"]
        assert {p["lending_id"]: p["is_consent"] for p in listed} == {first: "true", second: "false"}
        assert _rsp(await harness.call("P2P-002", {"lending_id": first}, token=token)) == (200, "00000")
        assert _rsp(await harness.call("P2P-002", {"lending_id": second}, token=token)) == (401, "40105")
        assert _rsp(await harness.call("P2P-003", {"lending_id": "LD-NOBODY"}, token=token)) == (401, "40105")

    async def test_scheduled_repayment_history_may_span_three_months(
        self, harness: Harness, borrower: CustomerData
    ) -> None:
        first = _generated(borrower)["P2P-001"][""][0]["lending_id"]
        token = (await harness.grant(borrower.ci, harness.consent([TargetInfo(scope="p2p.lending")])))["access_token"]
        today = today_kst()
        three = {"lending_id": first, "from_date": to_date(add_months(today, -3)), "to_date": to_date(today)}
        assert _rsp(await harness.call("P2P-004", three, token=token, api_type="scheduled")) == (200, "00000")
        longer = {**three, "from_date": to_date(add_months(today, -3) - timedelta(days=1))}
        assert _rsp(await harness.call("P2P-004", longer, token=token, api_type="scheduled")) == (400, "40004")

    async def test_the_operator_collects_every_generated_record(self, harness: Harness, borrower: CustomerData) -> None:
        generated = _generated(borrower)
        token = (await harness.grant(borrower.ci, harness.consent([TargetInfo(scope="p2p.lending")])))["access_token"]
        collection = await collect_provider(
            harness.client, CATALOGUE.info_apis(["p2p"]), org_code=PROVIDER, token=token, today=today_kst()
        )
        assert collection.errors == []
        assert set(collection.items) == set(generated)
        for api_id, by_key in generated.items():
            expected = [p for payloads in by_key.values() for p in payloads]
            collected = list(collection.items[api_id].values())
            if api_id == "P2P-001":
                collected = [{**p, "is_consent": "false"} for p in collected]
            assert sorted(map(_text, collected)) == sorted(map(_text, expected)), api_id
