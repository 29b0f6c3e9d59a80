"""A provider serving the investment industry from sandbox data: 금투-001…005 through the generic endpoints,
with paging, search_timestamp and the pension API answering only for pension accounts."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from openmydata.kit.clock import today_kst, utcnow
from openmydata.kit.pki import CertificateAuthority
from openmydata.operator.collector import collect_provider
from openmydata.provider.app import create_app
from openmydata.provider.importer import import_customers
from openmydata.provider.models import Record
from openmydata.provider.registry import register_service
from openmydata.provider.settings import ProviderSettings
from openmydata.sandbox.institutions import generate_customers
from openmydata.sandbox.population import generate_people
from openmydata.standard.apis import CATALOGUE
from openmydata.standard.apis.invest import PENSION
from openmydata.standard.consent import ConsentAsset, TargetInfo
from openmydata.standard.dataset import CustomerData

from .conftest import CLIENT_ID, CLIENT_SECRET, OPERATOR, PROVIDER, Harness, history_range

SEED = 7
ENVELOPE = {"rsp_code", "rsp_msg", "search_timestamp", "next_page", "reg_date"}


@pytest.fixture(scope="module")
def invest_customers() -> list[CustomerData]:
    """Sandbox customers of this provider, generated up to today so that their history is collectable now."""
    people = generate_people(400, SEED, today_kst())
    return list(
        generate_customers(people, sector="invest", org_code=PROVIDER, seed=SEED, as_of=today_kst(), validate=True)
    )


def _with_pension(customers: list[CustomerData]) -> CustomerData:
    return next(c for c in customers if any(r.api_id == "금투-005" for r in c.records))


def _stored(customer: CustomerData, api_id: str, key: str | None = None) -> list[dict[str, Any]]:
    return [r.payload for r in customer.records if r.api_id == api_id and (key is None or r.key == key)]


def _canonical(items: list[dict[str, Any]]) -> list[str]:
    return sorted(json.dumps(item, sort_keys=True, ensure_ascii=False) for item in items)


def _body(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["rsp_code"] == "00000"
    return body


@pytest.fixture
async def harness(
    db_url: str, trust_file: Path, test_ca: CertificateAuthority, invest_customers: list[CustomerData]
) -> AsyncIterator[Harness]:
    settings = ProviderSettings(
        insecure_plain_http=True,
        org_code=PROVIDER,
        industries=["invest"],
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
        chosen = _with_pension(invest_customers)
        await import_customers(db, [chosen, *(c for c in invest_customers[:5] if c.ci != chosen.ci)])
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
            yield Harness(app=app, http=http, db=db, ca=test_ca)


class TestInvestProvider:
    async def test_every_api_serves_the_stored_records(
        self, harness: Harness, invest_customers: list[CustomerData]
    ) -> None:
        customer = _with_pension(invest_customers)
        consent = harness.consent([TargetInfo(scope="invest.account")])
        tokens = await harness.grant(customer.ci, consent)
        assert tokens["scope"] == "invest.list invest.account"
        token = tokens["access_token"]

        listing = _body(await harness.call("금투-001", {}, token=token))
        accounts = _stored(customer, "금투-001")
        assert listing["account_cnt"] == str(len(accounts))
        assert listing["reg_date"] == customer.reg_date
        assert _canonical(listing["account_list"]) == _canonical([{**a, "is_consent": "true"} for a in accounts])

        pension_checked = 0
        for account in accounts:
            number = account["account_num"]
            basic = _body(await harness.call("금투-002", {"account_num": number}, token=token))
            assert {k: v for k, v in basic.items() if k not in ENVELOPE} == _stored(customer, "금투-002", number)[0]

            transactions: list[dict[str, Any]] = []
            request: dict[str, Any] = {"account_num": number, **history_range(365), "limit": 40}
            while True:
                page = _body(await harness.call("금투-003", request, token=token))
                assert page["trans_cnt"] == str(len(page["trans_list"]))
                transactions += page["trans_list"]
                if "next_page" not in page:
                    break
                request = {**request, "next_page": page["next_page"]}
            assert _canonical(transactions) == _canonical(_stored(customer, "금투-003", number))

            products = _body(await harness.call("금투-004", {"account_num": number}, token=token))
            assert _canonical(products["prod_list"]) == _canonical(_stored(customer, "금투-004", number))

            pension = await harness.call("금투-005", {"account_num": number}, token=token)
            if PENSION(account):
                body = _body(pension)
                assert {k: v for k, v in body.items() if k not in ENVELOPE} == _stored(customer, "금투-005", number)[0]
                pension_checked += 1
            else:
                assert (pension.status_code, pension.json()["rsp_code"]) == (404, "40402")
        assert pension_checked == 1

    async def test_search_timestamp_and_consented_accounts(
        self, harness: Harness, invest_customers: list[CustomerData]
    ) -> None:
        customer = _with_pension(invest_customers)
        accounts = _stored(customer, "금투-001")
        brokerage = next(a["account_num"] for a in accounts if not PENSION(a))
        pension = next(a["account_num"] for a in accounts if PENSION(a))
        consent = harness.consent([TargetInfo(scope="invest.account", asset_list=[ConsentAsset(asset=brokerage)])])
        token = (await harness.grant(customer.ci, consent))["access_token"]
        async with harness.db.transaction() as session:  # imported an hour ago (timestamps have 1 s resolution)
            await session.execute(update(Record).values(updated_at=utcnow() - timedelta(hours=1)))
        listing = _body(await harness.call("금투-001", {}, token=token))
        assert {a["account_num"]: a["is_consent"] for a in listing["account_list"]} == {
            brokerage: "true",
            pension: "false",
        }
        first = _body(await harness.call("금투-004", {"account_num": brokerage}, token=token))
        again = await harness.call(
            "금투-004", {"account_num": brokerage, "search_timestamp": first["search_timestamp"]}, token=token
        )
        assert again.json()["rsp_code"] == "00001"
        refused = await harness.call("금투-005", {"account_num": pension}, token=token)
        assert (refused.status_code, refused.json()["rsp_code"]) == (401, "40105")
        stranger = await harness.call("금투-002", {"account_num": "9999999999"}, token=token)
        assert stranger.json()["rsp_code"] == "40105"


class TestInvestCollection:
    async def test_the_operators_collector_gathers_every_record(
        self, harness: Harness, invest_customers: list[CustomerData]
    ) -> None:
        customer = _with_pension(invest_customers)
        token = (await harness.grant(customer.ci, harness.consent([TargetInfo(scope="invest.account")])))[
            "access_token"
        ]
        outcome = await collect_provider(
            harness.client, CATALOGUE.sector("invest"), org_code=PROVIDER, token=token, today=today_kst()
        )
        assert outcome.state == "ok", outcome.errors
        collected = {api_id: len(items) for api_id, items in outcome.items.items()}
        stored: dict[str, int] = {}
        for record in customer.records:
            stored[record.api_id] = stored.get(record.api_id, 0) + 1
        assert collected == stored
        assert set(collected) == {"금투-001", "금투-002", "금투-003", "금투-004", "금투-005"}
