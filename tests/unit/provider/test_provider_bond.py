"""A provider serving the `bond` industry: sandbox debtors imported, their debts served through the generic
endpoints under /v1/bond and collected back by the operator's collector; a money lender (`usury`) serves the same
채권 APIs under /v1/usury with usury scopes."""

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
from openmydata.provider.endpoints import info_routes
from openmydata.provider.importer import import_customers
from openmydata.provider.registry import register_service
from openmydata.provider.settings import ProviderSettings
from openmydata.sandbox.institutions import generate_customers
from openmydata.sandbox.population import generate_people
from openmydata.sandbox.timeline import Window
from openmydata.standard.apis import CATALOGUE
from openmydata.standard.consent import TargetInfo
from openmydata.standard.dataset import CustomerData
from openmydata.standard.schedule import SCHEDULED_LONG_RANGE_APIS

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


def _settings(db_url: str, trust_file: Path, industries: list[str]) -> ProviderSettings:
    return ProviderSettings(
        insecure_plain_http=True,
        org_code=PROVIDER,
        industries=industries,
        database_url=db_url,
        token_secret="t",
        cursor_secret="c",
        consent_verifier="local",
        consent_trust_roots_file=trust_file,
    )


@pytest.fixture(scope="module")
def debtor() -> CustomerData:
    """A debtor with two or more debts and repayments, generated up to today."""
    today = today_kst()
    people = generate_people(4000, 5, today)
    found = generate_customers(people, sector="bond", org_code=PROVIDER, seed=5, as_of=today)
    return next(
        customer
        for customer in found
        if sum(r.api_id == "채권-001" for r in customer.records) >= 2
        and sum(r.api_id == "채권-003" for r in customer.records) > 0
    )


@pytest.fixture
async def harness(
    db_url: str, trust_file: Path, test_ca: CertificateAuthority, debtor: CustomerData
) -> AsyncIterator[Harness]:
    app = create_app(_settings(db_url, trust_file, ["bond"]))
    async with app.router.lifespan_context(app):
        db = app.state.provider.db
        await register_service(db, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, org_code=OPERATOR)
        await import_customers(db, [debtor])
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
            yield Harness(app=app, http=http, db=db, ca=test_ca)


class TestBondProvider:
    async def test_debts_are_served_as_generated(self, harness: Harness, debtor: CustomerData) -> None:
        generated = _generated(debtor)
        tokens = await harness.grant(debtor.ci, harness.consent([TargetInfo(scope="bond.bond")]))
        assert tokens["scope"] == "bond.list bond.bond"
        token = tokens["access_token"]
        listed = (await harness.call("채권-001", {}, token=token)).json()
        assert listed["bond_list"] == [{**p, "is_consent": "true"} for p in generated["채권-001"][""]]
        today = today_kst()
        history = {"from_date": to_date(Window.ending(today).start), "to_date": to_date(today)}
        for debt in listed["bond_list"]:
            bond_num = debt["bond_num"]
            detail = (await harness.call("채권-002", {"bond_num": bond_num}, token=token)).json()
            served = {k: v for k, v in detail.items() if k not in {"rsp_code", "rsp_msg", "search_timestamp"}}
            assert served == generated["채권-002"][bond_num][0]
            transactions = (await harness.call("채권-003", {"bond_num": bond_num, **history}, token=token)).json()
            assert transactions["trans_list"] == generated["채권-003"].get(bond_num, [])
        assert _rsp(await harness.call("채권-002", {"bond_num": "BD-NOBODY"}, token=token)) == (404, "40402")
        assert "채권-003" in SCHEDULED_LONG_RANGE_APIS

    async def test_the_list_scope_alone_does_not_open_the_debts(self, harness: Harness, debtor: CustomerData) -> None:
        token = (await harness.grant(debtor.ci, harness.consent([TargetInfo(scope="bond.list")])))["access_token"]
        listed = (await harness.call("채권-001", {}, token=token)).json()
        assert {p["is_consent"] for p in listed["bond_list"]} == {"false"}
        bond_num = listed["bond_list"][0]["bond_num"]
        assert _rsp(await harness.call("채권-002", {"bond_num": bond_num}, token=token)) == (401, "40104")

    async def test_the_operator_collects_every_generated_record(self, harness: Harness, debtor: CustomerData) -> None:
        generated = _generated(debtor)
        token = (await harness.grant(debtor.ci, harness.consent([TargetInfo(scope="bond.bond")])))["access_token"]
        collection = await collect_provider(
            harness.client, CATALOGUE.info_apis(["bond"]), org_code=PROVIDER, token=token, today=today_kst()
        )
        assert collection.errors == []
        assert set(collection.items) == set(generated)
        for api_id, by_key in generated.items():
            expected = [p for payloads in by_key.values() for p in payloads]
            collected = list(collection.items[api_id].values())
            if api_id == "채권-001":
                collected = [{**p, "is_consent": "false"} for p in collected]
            assert sorted(map(_text, collected)) == sorted(map(_text, expected)), api_id


@pytest.fixture(scope="module")
def borrower() -> CustomerData:
    """A money lender's borrower with repayments, generated up to today."""
    today = today_kst()
    people = generate_people(2000, 5, today)
    found = generate_customers(people, sector="usury", org_code=PROVIDER, seed=5, as_of=today)
    return next(customer for customer in found if any(r.api_id == "채권-003" for r in customer.records))


@pytest.fixture
async def lender(
    db_url: str, trust_file: Path, test_ca: CertificateAuthority, borrower: CustomerData
) -> AsyncIterator[Harness]:
    app = create_app(_settings(db_url, trust_file, ["usury"]))
    async with app.router.lifespan_context(app):
        db = app.state.provider.db
        await register_service(db, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, org_code=OPERATOR)
        await import_customers(db, [borrower])
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
            yield Harness(app=app, http=http, db=db, ca=test_ca)


class TestUsury:
    def test_a_usury_provider_mounts_the_debt_apis_under_its_own_path(self, tmp_path: Path) -> None:
        settings = _settings(f"sqlite+aiosqlite:///{tmp_path / 'u.db'}", tmp_path / "trust.pem", ["usury"])
        routes = info_routes(settings, CATALOGUE)
        assert [(route.spec.id, route.path, route.spec.scope) for route in routes] == [
            ("채권-001", "/v1/usury/bonds", "usury.list"),
            ("채권-002", "/v1/usury/bonds/detail", "usury.bond"),
            ("채권-003", "/v1/usury/bonds/transactions", "usury.bond"),
            ("정보제공-공통-002", "/v1/usury/consents", None),
        ]
        bond = _settings(f"sqlite+aiosqlite:///{tmp_path / 'b.db'}", tmp_path / "trust.pem", ["bond"])
        assert [route.path for route in info_routes(bond, CATALOGUE)] == [
            "/v1/bond/bonds",
            "/v1/bond/bonds/detail",
            "/v1/bond/bonds/transactions",
            "/v1/bond/consents",
        ]

    async def test_a_lenders_loans_are_served_with_usury_scopes(self, lender: Harness, borrower: CustomerData) -> None:
        generated = _generated(borrower)
        tokens = await lender.grant(borrower.ci, lender.consent([TargetInfo(scope="usury.bond")]))
        assert tokens["scope"] == "usury.list usury.bond"
        token = tokens["access_token"]
        specs = {spec.id: spec for spec in CATALOGUE.info_apis(["usury"])}

        async def call(api_id: str, request: dict[str, Any]) -> httpx.Response:
            built = lender.client.build_request(
                specs[api_id], {"org_code": PROVIDER, **request}, token=token, api_type="user-consent"
            )
            return await lender.http.send(built)

        listed = (await call("채권-001", {})).json()
        assert listed["bond_list"] == [{**p, "is_consent": "true"} for p in generated["채권-001"][""]]
        assert {p["bond_type"] for p in listed["bond_list"]} == {"03"}
        today = today_kst()
        history = {"from_date": to_date(Window.ending(today).start), "to_date": to_date(today)}
        for debt in listed["bond_list"]:
            bond_num = debt["bond_num"]
            detail = (await call("채권-002", {"bond_num": bond_num})).json()
            assert {k: v for k, v in detail.items() if k not in {"rsp_code", "rsp_msg", "search_timestamp"}} == (
                generated["채권-002"][bond_num][0]
            )
            transactions = (await call("채권-003", {"bond_num": bond_num, **history})).json()
            assert transactions["trans_list"] == generated["채권-003"].get(bond_num, [])
        # the bond industry's paths are not this provider's
        assert (await lender.call("채권-001", {}, token=token)).status_code == 404

    async def test_bond_scopes_are_not_served_by_a_lender(self, lender: Harness, borrower: CustomerData) -> None:
        form = lender.grant_form(borrower.ci, lender.consent([TargetInfo(scope="bond.bond")]), nonce="usury-bond")
        response = await lender.post_token(form)
        assert (response.status_code, response.json()["error"]) == (400, "invalid_scope")

    async def test_the_operator_collects_a_lenders_loans(self, lender: Harness, borrower: CustomerData) -> None:
        generated = _generated(borrower)
        token = (await lender.grant(borrower.ci, lender.consent([TargetInfo(scope="usury.bond")])))["access_token"]
        collection = await collect_provider(
            lender.client, CATALOGUE.info_apis(["usury"]), org_code=PROVIDER, token=token, today=today_kst()
        )
        assert collection.errors == []
        assert set(collection.items) == set(generated)
        for api_id, by_key in generated.items():
            expected = [p for payloads in by_key.values() for p in payloads]
            collected = list(collection.items[api_id].values())
            if api_id == "채권-001":
                collected = [{**p, "is_consent": "false"} for p in collected]
            assert sorted(map(_text, collected)) == sorted(map(_text, expected)), api_id
