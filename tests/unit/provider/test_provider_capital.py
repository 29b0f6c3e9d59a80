"""A provider serving the capital industry from sandbox data: 할부금융-001…006 through the generic endpoints,
keyed by (account_num, seqno), with operating leases on their own APIs and consent per contract account."""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from openmydata.kit.clock import today_kst
from openmydata.kit.pki import CertificateAuthority
from openmydata.operator.collector import collect_provider
from openmydata.provider.app import create_app
from openmydata.provider.importer import import_customers
from openmydata.provider.registry import register_service
from openmydata.provider.settings import ProviderSettings
from openmydata.sandbox.institutions import generate_customers
from openmydata.sandbox.population import make_person
from openmydata.standard.apis import CATALOGUE
from openmydata.standard.apis.capital import OPERATING_LEASE
from openmydata.standard.consent import ConsentAsset, TargetInfo
from openmydata.standard.dataset import CustomerData

from .conftest import CLIENT_ID, CLIENT_SECRET, OPERATOR, PROVIDER, Harness, history_range

SEED = 7
ENVELOPE = {"rsp_code", "rsp_msg", "search_timestamp", "next_page", "reg_date"}


def _contracts(customer: CustomerData) -> list[dict[str, Any]]:
    return [r.payload for r in customer.records if r.api_id == "할부금융-001"]


def _has_lease(customer: CustomerData) -> bool:
    return any(OPERATING_LEASE(c) for c in _contracts(customer))


def _has_second_drawdown(customer: CustomerData) -> bool:
    return any(c["seqno"] == "2" for c in _contracts(customer))


@pytest.fixture(scope="module")
def capital_customers() -> dict[str, CustomerData]:
    """The first sandbox customers (generated up to today) with an operating lease and with a second drawdown."""
    as_of = today_kst()
    people = (make_person(index, SEED, as_of) for index in itertools.count())
    wanted: dict[str, Callable[[CustomerData], bool]] = {"lease": _has_lease, "seqno": _has_second_drawdown}
    found: dict[str, CustomerData] = {}
    customers = generate_customers(people, sector="capital", org_code=PROVIDER, seed=SEED, as_of=as_of, validate=True)
    for customer in itertools.islice(customers, 3000):
        for name, test in wanted.items():
            if name not in found and test(customer):
                found[name] = customer
        if len(found) == len(wanted):
            return found
    raise AssertionError(f"no sandbox customer with {set(wanted) - set(found)}")


def _stored(customer: CustomerData, api_id: str, key: str) -> list[dict[str, Any]]:
    return [r.payload for r in customer.records if r.api_id == api_id and r.key == key]


def _canonical(items: list[dict[str, Any]]) -> list[str]:
    return sorted(json.dumps(item, sort_keys=True, ensure_ascii=False) for item in items)


def _body(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["rsp_code"] == "00000"
    return body


def _object(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k not in ENVELOPE}


@pytest.fixture
async def harness(
    db_url: str, trust_file: Path, test_ca: CertificateAuthority, capital_customers: dict[str, CustomerData]
) -> AsyncIterator[Harness]:
    settings = ProviderSettings(
        insecure_plain_http=True,
        org_code=PROVIDER,
        industries=["capital"],
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
        unique = {customer.ci: customer for customer in capital_customers.values()}
        await import_customers(db, list(unique.values()))
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
            yield Harness(app=app, http=http, db=db, ca=test_ca)


async def _history(harness: Harness, api_id: str, request: dict[str, Any], token: str) -> list[dict[str, Any]]:
    """Every page of a ranged history API."""
    items: list[dict[str, Any]] = []
    request = {**request, **history_range(365), "limit": 5}
    while True:
        page = _body(await harness.call(api_id, request, token=token))
        assert page["trans_cnt"] == str(len(page["trans_list"]))
        items += page["trans_list"]
        if "next_page" not in page:
            return items
        request = {**request, "next_page": page["next_page"]}


class TestCapitalProvider:
    async def test_every_contract_is_served_by_its_own_apis(
        self, harness: Harness, capital_customers: dict[str, CustomerData]
    ) -> None:
        for customer in {c.ci: c for c in capital_customers.values()}.values():
            consent = harness.consent([TargetInfo(scope="capital.loan")])
            tokens = await harness.grant(customer.ci, consent)
            assert tokens["scope"] == "capital.list capital.loan"
            token = tokens["access_token"]
            listing = _body(await harness.call("할부금융-001", {}, token=token))
            contracts = _contracts(customer)
            assert listing["account_cnt"] == str(len(contracts))
            assert _canonical(listing["account_list"]) == _canonical([{**c, "is_consent": "true"} for c in contracts])
            for contract in contracts:
                selector = {"account_num": contract["account_num"], "seqno": contract["seqno"]}
                key = f"{contract['account_num']}|{contract['seqno']}"
                if OPERATING_LEASE(contract):
                    basic = _body(await harness.call("할부금융-005", selector, token=token))
                    assert _object(basic) == _stored(customer, "할부금융-005", key)[0]
                    payments = await _history(harness, "할부금융-006", selector, token)
                    assert _canonical(payments) == _canonical(_stored(customer, "할부금융-006", key))
                    not_a_loan = await harness.call("할부금융-002", selector, token=token)
                    assert (not_a_loan.status_code, not_a_loan.json()["rsp_code"]) == (404, "40402")
                    continue
                basic = _body(await harness.call("할부금융-002", selector, token=token))
                assert _object(basic) == _stored(customer, "할부금융-002", key)[0]
                detail = _body(await harness.call("할부금융-003", selector, token=token))
                assert _object(detail) == _stored(customer, "할부금융-003", key)[0]
                repayments = await _history(harness, "할부금융-004", selector, token)
                assert _canonical(repayments) == _canonical(_stored(customer, "할부금융-004", key))

    async def test_the_seqno_selects_one_part_of_an_account(
        self, harness: Harness, capital_customers: dict[str, CustomerData]
    ) -> None:
        customer = capital_customers["seqno"]
        second = next(c for c in _contracts(customer) if c["seqno"] == "2")
        number = second["account_num"]
        token = (await harness.grant(customer.ci, harness.consent([TargetInfo(scope="capital.loan")])))["access_token"]
        parts = {}
        for seqno in ("1", "2"):
            body = _body(await harness.call("할부금융-003", {"account_num": number, "seqno": seqno}, token=token))
            parts[seqno] = _object(body)
            assert parts[seqno] == _stored(customer, "할부금융-003", f"{number}|{seqno}")[0]
        assert parts["1"] != parts["2"]
        without = await harness.call("할부금융-003", {"account_num": number}, token=token)
        assert (without.status_code, without.json()["rsp_code"]) == (404, "40402")

    async def test_only_consented_contracts_are_served(
        self, harness: Harness, capital_customers: dict[str, CustomerData]
    ) -> None:
        customer = capital_customers["lease"]
        lease = next(c for c in _contracts(customer) if OPERATING_LEASE(c))
        others = [c for c in _contracts(customer) if c["account_num"] != lease["account_num"]]
        consent = harness.consent(
            [TargetInfo(scope="capital.loan", asset_list=[ConsentAsset(asset=lease["account_num"])])]
        )
        token = (await harness.grant(customer.ci, consent))["access_token"]
        listing = _body(await harness.call("할부금융-001", {}, token=token))
        marks = {entry["account_num"]: entry["is_consent"] for entry in listing["account_list"]}
        assert marks[lease["account_num"]] == "true"
        assert all(marks[c["account_num"]] == "false" for c in others)
        selector = {"account_num": lease["account_num"], "seqno": lease["seqno"]}
        assert _body(await harness.call("할부금융-005", selector, token=token))["repay_method"] == "04"
        for contract in others:
            refused = await harness.call(
                "할부금융-002", {"account_num": contract["account_num"], "seqno": contract["seqno"]}, token=token
            )
            assert (refused.status_code, refused.json()["rsp_code"]) == (401, "40105")
        stranger = await harness.call("할부금융-002", {"account_num": "0000000000", "seqno": "1"}, token=token)
        assert (stranger.status_code, stranger.json()["rsp_code"]) == (401, "40105")
        too_long = await harness.call(
            "할부금융-006", {**selector, **history_range(400)}, token=token, api_type="user-consent"
        )
        assert too_long.json()["rsp_code"] == "40004"


class TestCapitalCollection:
    async def test_the_operators_collector_gathers_every_record(
        self, harness: Harness, capital_customers: dict[str, CustomerData]
    ) -> None:
        customer = capital_customers["lease"]
        token = (await harness.grant(customer.ci, harness.consent([TargetInfo(scope="capital.loan")])))["access_token"]
        outcome = await collect_provider(
            harness.client, CATALOGUE.sector("capital"), org_code=PROVIDER, token=token, today=today_kst()
        )
        assert outcome.state == "ok", outcome.errors
        collected = {api_id: len(items) for api_id, items in outcome.items.items()}
        stored: dict[str, int] = {}
        for record in customer.records:
            stored[record.api_id] = stored.get(record.api_id, 0) + 1
        assert collected == stored
