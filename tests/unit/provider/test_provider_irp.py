"""IRP served under several industries: one provider serving bank and invest mounts IRP-001…004 under both
`/v1/bank/irps…` and `/v1/invest/irps…`, each needing its industry's scopes (bank.irp, invest.irp); an insurer
mounts them under `/v1/insu/irps…`. A sandbox bank customer's IRP is served as generated, its assets are checked
against the IRP list, and the operator's collector reads it back through the industry it collects."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest

from openmydata.kit.clock import today_kst
from openmydata.kit.pki import CertificateAuthority
from openmydata.operator.collector import collect_provider
from openmydata.provider.app import create_app
from openmydata.provider.endpoints import api_list_entries, info_routes
from openmydata.provider.importer import import_customers
from openmydata.provider.registry import register_service
from openmydata.provider.settings import ProviderSettings
from openmydata.sandbox.institutions import generate_customers
from openmydata.sandbox.population import Person, make_person
from openmydata.standard.apis import CATALOGUE
from openmydata.standard.catalogue import ApiSpec
from openmydata.standard.consent import ConsentAsset, TargetInfo
from openmydata.standard.dataset import CustomerData
from openmydata.standard.formats import Party, new_tran_id

from .conftest import CLIENT_ID, CLIENT_SECRET, OPERATOR, PROVIDER, Harness, history_range

SEED = 515151
IRP_IDS = ("IRP-001", "IRP-002", "IRP-003", "IRP-004")
ENVELOPE = {"rsp_code", "rsp_msg", "search_timestamp", "next_page"}


def _people(as_of: date) -> Iterator[Person]:
    for index in range(4000):
        yield make_person(index, SEED, as_of)


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


def _generated(customer: CustomerData) -> dict[str, dict[str, list[dict[str, Any]]]]:
    grouped: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    for record in customer.records:
        grouped[record.api_id][record.key].append(record.payload)
    return grouped


def _served(industry: str, api_id: str) -> ApiSpec:
    return CATALOGUE.bound(CATALOGUE[api_id], industry)


def _rsp(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, response.json()["rsp_code"]


def _body(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["rsp_code"] == "00000"
    return body


async def _call(harness: Harness, spec: ApiSpec, request: dict[str, Any], token: str) -> httpx.Response:
    """Call `spec` as served under its (bound) industry."""
    http_request = harness.client.build_request(
        spec, {"org_code": PROVIDER, **request}, token=token, api_type="user-consent"
    )
    return await harness.http.send(http_request)


@pytest.fixture(scope="module")
def holder() -> CustomerData:
    """A bank customer with an IRP holding products and with transactions in the last 12 months."""
    today = today_kst()
    for customer in generate_customers(_people(today), sector="bank", org_code=PROVIDER, seed=SEED, as_of=today):
        api_ids = {record.api_id for record in customer.records}
        if set(IRP_IDS) <= api_ids:
            return customer
    raise AssertionError("no bank customer with a funded IRP among 4000 people")


@pytest.fixture
async def harness(
    db_url: str, trust_file: Path, test_ca: CertificateAuthority, holder: CustomerData
) -> AsyncIterator[Harness]:
    app = create_app(_settings(db_url, trust_file, ["bank", "invest"]))
    async with app.router.lifespan_context(app):
        db = app.state.provider.db
        await register_service(db, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, org_code=OPERATOR)
        await import_customers(db, [holder])
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
            yield Harness(app=app, http=http, db=db, ca=test_ca)


class TestRoutes:
    def test_irp_is_mounted_once_per_served_industry(self, tmp_path: Path) -> None:
        both = _settings(f"sqlite+aiosqlite:///{tmp_path / 'b.db'}", tmp_path / "trust.pem", ["bank", "invest"])
        routes = [(route.spec.id, route.industry, route.path) for route in info_routes(both, CATALOGUE)]
        for industry in ("bank", "invest"):
            assert [r for r in routes if r[0].startswith("IRP-") and r[1] == industry] == [
                ("IRP-001", industry, f"/v1/{industry}/irps"),
                ("IRP-002", industry, f"/v1/{industry}/irps/basic"),
                ("IRP-003", industry, f"/v1/{industry}/irps/detail"),
                ("IRP-004", industry, f"/v1/{industry}/irps/transactions"),
            ]
        listed = {(entry["api_code"], entry["api_uri"]) for entry in api_list_entries(both, CATALOGUE)}
        assert {("IR01", "/v1/bank/irps"), ("IR01", "/v1/invest/irps"), ("IR04", "/v1/invest/irps/transactions")} <= (
            listed
        )
        insu = _settings(f"sqlite+aiosqlite:///{tmp_path / 'i.db'}", tmp_path / "trust.pem", ["insu"])
        assert [route.path for route in info_routes(insu, CATALOGUE) if route.spec.id.startswith("IRP-")] == [
            "/v1/insu/irps",
            "/v1/insu/irps/basic",
            "/v1/insu/irps/detail",
            "/v1/insu/irps/transactions",
        ]
        card = _settings(f"sqlite+aiosqlite:///{tmp_path / 'c.db'}", tmp_path / "trust.pem", ["card"])
        assert not any(route.spec.id.startswith("IRP-") for route in info_routes(card, CATALOGUE))


class TestServedUnderEachIndustry:
    @pytest.mark.parametrize("industry", ["bank", "invest"])
    async def test_the_irp_is_served_as_generated_with_the_industrys_scope(
        self, harness: Harness, holder: CustomerData, industry: str
    ) -> None:
        generated = _generated(holder)
        tokens = await harness.grant(holder.ci, harness.consent([TargetInfo(scope=f"{industry}.irp")]))
        assert tokens["scope"] == f"{industry}.list {industry}.irp"
        token = tokens["access_token"]
        listed = _body(await _call(harness, _served(industry, "IRP-001"), {"search_timestamp": "0"}, token))
        assert listed["irp_cnt"] == "1"
        assert listed["irp_list"] == [{**p, "is_consent": "true"} for p in generated["IRP-001"][""]]
        account = listed["irp_list"][0]["account_num"]
        key = f"{account}|"
        basic = _body(await _call(harness, _served(industry, "IRP-002"), {"account_num": account}, token))
        assert {k: v for k, v in basic.items() if k not in ENVELOPE} == generated["IRP-002"][key][0]
        detail = _body(await _call(harness, _served(industry, "IRP-003"), {"account_num": account}, token))
        assert detail["irp_list"] == generated["IRP-003"][key]
        assert int(detail["irp_cnt"]) == len(generated["IRP-003"][key])
        request = {"account_num": account, **history_range()}
        history = _body(await _call(harness, _served(industry, "IRP-004"), request, token))
        assert history["trans_list"] == generated["IRP-004"][key]

    async def test_another_industrys_irp_scope_opens_nothing_here(self, harness: Harness, holder: CustomerData) -> None:
        token = (await harness.grant(holder.ci, harness.consent([TargetInfo(scope="bank.irp")])))["access_token"]
        account = _generated(holder)["IRP-001"][""][0]["account_num"]
        for api_id, request in (
            ("IRP-002", {"account_num": account}),
            ("IRP-003", {"account_num": account}),
            ("IRP-004", {"account_num": account, **history_range()}),
        ):
            assert _rsp(await _call(harness, _served("invest", api_id), request, token)) == (401, "40104")
            assert (await _call(harness, _served("bank", api_id), request, token)).status_code == 200
        # even the invest list needs invest.list, which a consent naming bank scopes only does not bring
        listed = await _call(harness, _served("invest", "IRP-001"), {}, token)
        assert _rsp(listed) == (401, "40104")

    async def test_is_consent_counts_the_irp_scope_only(self, harness: Harness, holder: CustomerData) -> None:
        consent = harness.consent([TargetInfo(scope="bank.deposit"), TargetInfo(scope="invest.irp")])
        token = (await harness.grant(holder.ci, consent))["access_token"]
        bank_irps = _body(await _call(harness, _served("bank", "IRP-001"), {}, token))
        assert {entry["is_consent"] for entry in bank_irps["irp_list"]} == {"false"}
        accounts = _body(await harness.call("은행-001", {}, token=token))
        deposits = [a for a in accounts["account_list"] if a["account_type"].startswith("1")]
        assert deposits
        assert {a["is_consent"] for a in deposits} == {"true"}
        invest_irps = _body(await _call(harness, _served("invest", "IRP-001"), {}, token))
        assert {entry["is_consent"] for entry in invest_irps["irp_list"]} == {"true"}

        irp_only = (await harness.grant(holder.ci, harness.consent([TargetInfo(scope="bank.irp")])))["access_token"]
        accounts = _body(await harness.call("은행-001", {}, token=irp_only))
        assert {a["is_consent"] for a in accounts["account_list"]} == {"false"}

    async def test_assets_are_checked_against_the_irp_list(self, harness: Harness, holder: CustomerData) -> None:
        generated = _generated(holder)
        account = generated["IRP-001"][""][0]["account_num"]
        deposit = next(p["account_num"] for p in generated["은행-001"][""] if p["account_type"].startswith("1"))
        everything = harness.consent([TargetInfo(scope="bank.irp"), TargetInfo(scope="bank.deposit")])
        token = (await harness.grant(holder.ci, everything))["access_token"]
        # a bank account is no IRP account, and an IRP account is no deposit account
        assert _rsp(await _call(harness, _served("bank", "IRP-002"), {"account_num": deposit}, token)) == (
            404,
            "40402",
        )
        assert _rsp(await harness.call("은행-002", {"account_num": account}, token=token)) == (404, "40402")
        named = harness.consent([TargetInfo(scope="bank.irp", asset_list=[ConsentAsset(asset="99999999997")])])
        token = (await harness.grant(holder.ci, named))["access_token"]
        assert _rsp(await _call(harness, _served("bank", "IRP-002"), {"account_num": account}, token)) == (
            401,
            "40105",
        )

    async def test_the_api_list_names_both_paths(self, harness: Harness) -> None:
        headers = {"x-api-tran-id": new_tran_id(OPERATOR, Party.OPERATOR)}
        body = _body(await harness.http.get("/apis", params={"org_code": PROVIDER}, headers=headers))
        listed = {(entry["api_code"], entry["api_uri"]) for entry in body["api_list"]}
        assert {("IR02", "/v1/bank/irps/basic"), ("IR02", "/v1/invest/irps/basic")} <= listed


class TestCollection:
    @pytest.mark.parametrize("industry", ["bank", "invest"])
    async def test_the_operator_collects_the_irp_through_the_industry_it_collects(
        self, harness: Harness, holder: CustomerData, industry: str
    ) -> None:
        generated = _generated(holder)
        token = (await harness.grant(holder.ci, harness.consent([TargetInfo(scope=f"{industry}.irp")])))["access_token"]
        specs = [spec for spec in CATALOGUE.info_apis([industry]) if spec.id in IRP_IDS]
        assert {spec.path.split("/")[2] for spec in specs} == {industry}
        collection = await collect_provider(harness.client, specs, org_code=PROVIDER, token=token, today=today_kst())
        assert collection.errors == []
        assert set(collection.items) == set(IRP_IDS)
        for api_id in IRP_IDS:
            expected = [p for payloads in generated[api_id].values() for p in payloads]
            collected = list(collection.items[api_id].values())
            if api_id == "IRP-001":
                assert {p["is_consent"] for p in collected} == {"true"}
                collected = [{**p, "is_consent": "false"} for p in collected]
            assert sorted(map(str, collected)) == sorted(map(str, expected)), api_id
