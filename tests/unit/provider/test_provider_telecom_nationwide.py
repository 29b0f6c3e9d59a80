"""A telecom provider started with the nationwide profile (`standard_profile="nationwide"`): it serves
통신(전국)-001…004 from sandbox data with the nationwide response codes, and no financial information API; a
financial-profile provider serves none of the nationwide ones; the operator's collector collects from it."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from openmydata.conformance import run_conformance
from openmydata.kit.clock import add_months, today_kst, utcnow
from openmydata.kit.pki import CertificateAuthority
from openmydata.operator.collector import collect_provider
from openmydata.provider.app import create_app
from openmydata.provider.importer import import_customers
from openmydata.provider.models import Record, Token
from openmydata.provider.registry import register_service
from openmydata.provider.settings import ProviderSettings
from openmydata.sandbox.institutions import generate_customers
from openmydata.sandbox.population import generate_people
from openmydata.standard.apis import CATALOGUE, NATIONWIDE_CATALOGUE
from openmydata.standard.client import StandardClient
from openmydata.standard.consent import ConsentAsset, TargetInfo
from openmydata.standard.dataset import CustomerData
from openmydata.standard.formats import Party, new_tran_id

from .conftest import CLIENT_ID, CLIENT_SECRET, OPERATOR, PROVIDER, Harness

LIST, USAGE, BILLS, PAYMENTS = "통신(전국)-001", "통신(전국)-002", "통신(전국)-003", "통신(전국)-004"
SCOPES = [TargetInfo(scope="telecom.list"), TargetInfo(scope="telecom.mgmt")]


@dataclass
class NationwideHarness(Harness):
    """The provider harness whose client reads the nationwide view of the catalogue."""

    @property
    def client(self) -> StandardClient:
        return StandardClient(
            self.http,
            "http://test",
            org_code=OPERATOR,
            party=Party.OPERATOR,
            peer="provider",
            catalogue=NATIONWIDE_CATALOGUE,
        )


def _rsp(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, response.json()["rsp_code"]


def _generated(customer: CustomerData) -> dict[str, dict[str, list[dict[str, Any]]]]:
    grouped: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    for record in customer.records:
        grouped[record.api_id][record.key].append(record.payload)
    return grouped


def _text(payload: dict[str, Any]) -> str:
    return json.dumps(payload, sort_keys=True, ensure_ascii=False)


def _months() -> dict[str, str]:
    today = today_kst()
    return {"from_month": add_months(today, -11).strftime("%Y%m"), "to_month": today.strftime("%Y%m")}


@pytest.fixture(scope="module")
def subscriber() -> CustomerData:
    """A subscriber with a mobile and a data-only line, generated up to today for the nationwide profile."""
    today = today_kst()
    people = generate_people(600, 11, today)
    found = generate_customers(
        people, sector="telecom", org_code=PROVIDER, seed=11, as_of=today, catalogue=NATIONWIDE_CATALOGUE
    )
    return next(customer for customer in found if sum(r.api_id == LIST for r in customer.records) == 2)


def _settings(db_url: str, trust_file: Path, profile: str, industries: list[str] | None = None) -> ProviderSettings:
    return ProviderSettings(
        insecure_plain_http=True,
        org_code=PROVIDER,
        industries=industries or ["telecom"],
        standard_profile=profile,
        database_url=db_url,
        token_secret="t",
        cursor_secret="c",
        consent_verifier="local",
        consent_trust_roots_file=trust_file,
    )


@pytest.fixture
async def harness(
    db_url: str, trust_file: Path, test_ca: CertificateAuthority, subscriber: CustomerData
) -> AsyncIterator[NationwideHarness]:
    app = create_app(_settings(db_url, trust_file, "nationwide"))
    async with app.router.lifespan_context(app):
        db = app.state.provider.db
        await register_service(db, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, org_code=OPERATOR)
        await import_customers(db, [subscriber], catalogue=NATIONWIDE_CATALOGUE)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
            yield NationwideHarness(app=app, http=http, db=db, ca=test_ca)


async def _token(harness: Harness, customer: CustomerData, targets: list[TargetInfo] = SCOPES) -> str:
    token: str = (await harness.grant(customer.ci, harness.consent(targets)))["access_token"]
    return token


class TestNationwideTelecomProvider:
    async def test_everything_is_served_as_generated_with_20001(
        self, harness: NationwideHarness, subscriber: CustomerData
    ) -> None:
        generated = _generated(subscriber)
        token = await _token(harness, subscriber)
        listed = await harness.call(LIST, {}, token=token)
        assert _rsp(listed) == (200, "20001")
        body = listed.json()
        assert body["telecom_cnt"] == "2"
        assert body["telecom_list"] == [{**p, "is_consent": "true"} for p in generated[LIST][""]]
        assert all(entry["plan_name"] for entry in body["telecom_list"])
        for entry in body["telecom_list"]:
            mgmt_id = entry["mgmt_id"]
            for api_id, list_field in ((USAGE, "use_list"), (BILLS, "bill_list"), (PAYMENTS, "trans_list")):
                response = await harness.call(api_id, {"mgmt_id": mgmt_id, **_months()}, token=token)
                assert _rsp(response) == (200, "20001"), api_id
                assert response.json()[list_field] == generated[api_id][mgmt_id], api_id
        assert generated[USAGE]  # the test would pass vacuously without usage

    async def test_an_unchanged_list_is_20002(self, harness: NationwideHarness, subscriber: CustomerData) -> None:
        token = await _token(harness, subscriber)
        async with harness.db.transaction() as session:  # imported an hour ago (timestamps have 1 s resolution)
            await session.execute(update(Record).values(updated_at=utcnow() - timedelta(hours=1)))
        first = (await harness.call(LIST, {"search_timestamp": "0"}, token=token)).json()
        again = await harness.call(LIST, {"search_timestamp": first["search_timestamp"]}, token=token)
        assert _rsp(again) == (200, "20002")
        assert "telecom_list" not in again.json()

    async def test_request_errors_in_nationwide_codes(
        self, harness: NationwideHarness, subscriber: CustomerData
    ) -> None:
        token = await _token(harness, subscriber)
        mgmt_id = _generated(subscriber)[LIST][""][0]["mgmt_id"]
        months = {"mgmt_id": mgmt_id, **_months()}
        assert _rsp(await harness.call(LIST, {"org_code": "OTHER00001"}, token=token)) == (400, "40002")
        assert _rsp(await harness.call(LIST, {}, token=token, tran_id="not-a-tran-id")) == (400, "40003")
        version = await harness.http.get(
            "/v9/telecom/telecoms",
            params={"org_code": PROVIDER},
            headers={"x-api-tran-id": new_tran_id(OPERATOR, Party.OPERATOR)},
        )
        assert _rsp(version) == (400, "40001")
        longer = {**months, "from_month": add_months(today_kst(), -12).strftime("%Y%m")}
        assert _rsp(await harness.call(BILLS, longer, token=token)) == (403, "40304")
        assert _rsp(await harness.call(USAGE, {**months, "mgmt_id": "NOBODY"}, token=token)) == (404, "40402")
        assert _rsp(await harness.call(LIST, {}, token=None)) == (401, "40101")
        unknown = await harness.http.get("/v1/telecom/nothing-here", headers={"x-api-tran-id": "x"})
        assert _rsp(unknown) == (404, "40401")
        wrong_method = await harness.http.get("/v1/telecom/telecoms/usages", headers={"x-api-tran-id": "x"})
        assert _rsp(wrong_method) == (405, "40501")

    async def test_a_consent_for_one_line_refuses_the_other(
        self, harness: NationwideHarness, subscriber: CustomerData
    ) -> None:
        first, second = (p["mgmt_id"] for p in _generated(subscriber)[LIST][""])
        targets = [
            TargetInfo(scope="telecom.list"),
            TargetInfo(scope="telecom.mgmt", asset_list=[ConsentAsset(asset=first)]),
        ]
        token = await _token(harness, subscriber, targets)
        assert _rsp(await harness.call(BILLS, {"mgmt_id": first, **_months()}, token=token)) == (200, "20001")
        assert _rsp(await harness.call(BILLS, {"mgmt_id": second, **_months()}, token=token)) == (401, "40105")
        only_list = await _token(harness, subscriber, [TargetInfo(scope="telecom.list")])
        assert _rsp(await harness.call(USAGE, {"mgmt_id": first, **_months()}, token=only_list)) == (401, "40104")

    async def test_withdrawn_consent_is_40107_and_expired_token_40108(
        self, harness: NationwideHarness, subscriber: CustomerData
    ) -> None:
        token = await _token(harness, subscriber)
        codec = harness.app.state.provider.codec
        claims = codec.decode(token)
        async with harness.db.transaction() as session:
            await session.execute(
                update(Token).where(Token.jti == claims.jti).values(expires_at=utcnow() - timedelta(seconds=1))
            )
        assert _rsp(await harness.call(LIST, {}, token=token)) == (401, "40108")

        token = await _token(harness, subscriber)
        form = {"org_code": PROVIDER, "token": token, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
        revoked = await harness.http.post("/oauth/2.0/revoke", data=form)
        assert _rsp(revoked) == (200, "20001")
        again = await harness.http.post("/oauth/2.0/revoke", data=form)  # 99999 in the financial code set
        assert _rsp(again) == (200, "20001")
        assert _rsp(await harness.call(LIST, {}, token=token)) == (401, "40107")

    async def test_no_financial_information_api_is_served(
        self, harness: NationwideHarness, subscriber: CustomerData
    ) -> None:
        token = await _token(harness, subscriber)
        mgmt_id = _generated(subscriber)[LIST][""][0]["mgmt_id"]
        paid = CATALOGUE["통신-004"]
        response = await harness.http.post(
            paid.path,
            json={"org_code": PROVIDER, "mgmt_id": mgmt_id, "from_date": "20250101", "to_date": "20250131"},
            headers={"x-api-tran-id": new_tran_id(OPERATOR, Party.OPERATOR), "Authorization": f"Bearer {token}"},
        )
        assert _rsp(response) == (404, "40401")
        listing = await harness.http.get(
            "/apis", params={"org_code": PROVIDER}, headers={"x-api-tran-id": new_tran_id(OPERATOR, Party.OPERATOR)}
        )
        assert _rsp(listing) == (200, "20001")
        codes = {entry["api_code"] for entry in listing.json()["api_list"]}
        assert {"TN01", "TN02", "TN03", "TN04"} <= codes
        assert not codes & {"TC01", "TC02", "TC03", "TC04"}

    async def test_the_operator_collects_every_generated_record(
        self, harness: NationwideHarness, subscriber: CustomerData
    ) -> None:
        generated = _generated(subscriber)
        token = await _token(harness, subscriber)
        collection = await collect_provider(
            harness.client,
            NATIONWIDE_CATALOGUE.info_apis(["telecom"]),
            org_code=PROVIDER,
            token=token,
            today=today_kst(),
        )
        assert collection.errors == []
        assert set(collection.items) == set(generated)
        for api_id, by_key in generated.items():
            expected = [p for payloads in by_key.values() for p in payloads]
            collected = list(collection.items[api_id].values())
            if api_id == LIST:
                collected = [{**p, "is_consent": "false"} for p in collected]
            assert sorted(map(_text, collected)) == sorted(map(_text, expected)), api_id


class TestProfileSelection:
    async def test_a_financial_provider_serves_no_nationwide_api(
        self, db_url: str, trust_file: Path, test_ca: CertificateAuthority
    ) -> None:
        app = create_app(_settings(db_url, trust_file, "financial"))
        transport = httpx.ASGITransport(app=app)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=transport, base_url="http://test") as http,
        ):
            headers = {"x-api-tran-id": new_tran_id(OPERATOR, Party.OPERATOR)}
            usages = await http.post(NATIONWIDE_CATALOGUE[USAGE].path, json={"org_code": PROVIDER}, headers=headers)
            assert _rsp(usages) == (404, "40401")
            listing = await http.get("/apis", params={"org_code": PROVIDER}, headers=headers)
            assert _rsp(listing) == (200, "00000")
            codes = {entry["api_code"] for entry in listing.json()["api_list"]}
            assert {"TC01", "TC02", "TC03", "TC04"} <= codes
            assert not codes & {"TN01", "TN02", "TN03", "TN04"}

    def test_the_nationwide_profile_has_no_bank_apis(self, tmp_path: Path) -> None:
        settings = _settings(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}", tmp_path / "trust.pem", "nationwide", ["bank"])
        with pytest.raises(ValueError, match="no information APIs for 'bank'"):
            create_app(settings)

    def test_the_profile_comes_from_the_environment(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("OPENMYDATA_PROVIDER_STANDARD_PROFILE", "nationwide")
        assert ProviderSettings().standard_profile == "nationwide"
        monkeypatch.setenv("OPENMYDATA_PROVIDER_STANDARD_PROFILE", "regional")
        with pytest.raises(ValueError, match="standard_profile"):
            ProviderSettings()


class TestConformanceOfTheNationwideProfile:
    """The conformance checker pointed at a nationwide-profile provider with `profile="nationwide"`: the nationwide
    APIs, judged in the nationwide code set; and the financial expectations would fail it."""

    async def test_every_check_passes_in_the_nationwide_code_set(
        self, harness: NationwideHarness, subscriber: CustomerData
    ) -> None:
        token = await _token(harness, subscriber)
        report = await run_conformance(
            harness.http,
            base_url="http://test",
            org_code=PROVIDER,
            token=token,
            sectors=["telecom"],
            operator_org_code=OPERATOR,
            profile="nationwide",
        )
        assert report.failed == 0, [(r.api_id, c.name, c.detail) for r, c in report.failures()]
        checked = {result.api_id for result in report.results}
        assert {LIST, USAGE, BILLS, PAYMENTS} <= checked
        assert not checked & {"통신-001", "통신-002", "통신-003", "통신-004"}
        assert report.not_exercised == []
        assert report.passed > 50

    async def test_financial_expectations_fail_a_nationwide_provider(
        self, harness: NationwideHarness, subscriber: CustomerData
    ) -> None:
        token = await _token(harness, subscriber)
        report = await run_conformance(
            harness.http,
            base_url="http://test",
            org_code=PROVIDER,
            token=token,
            sectors=["telecom"],
            operator_org_code=OPERATOR,
        )
        assert report.failed > 0
        assert any(check.name == "rsp-code-success" for _result, check in report.failures())
