"""A provider serving guarantee insurance (`/v1/ginsu/...`) from sandbox-generated customers: the list, the basic
info and the premium payments through the generic endpoints, asset consent, and the generic collector."""

from __future__ import annotations

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
from openmydata.provider.importer import import_customers
from openmydata.provider.registry import register_service
from openmydata.provider.settings import ProviderSettings
from openmydata.sandbox.institutions import generate_customers
from openmydata.sandbox.population import Person, make_person
from openmydata.standard.apis import CATALOGUE
from openmydata.standard.catalogue import Sector
from openmydata.standard.consent import ConsentAsset, TargetInfo
from openmydata.standard.dataset import CustomerData, StoredRecord

from .conftest import CLIENT_ID, CLIENT_SECRET, OPERATOR, PROVIDER, Harness, history_range

SEED = 424242
ENVELOPE = {"rsp_code", "rsp_msg", "search_timestamp", "next_page"}


def _people(as_of: date) -> Iterator[Person]:
    for index in range(5000):
        yield make_person(index, SEED, as_of)


def _records(customer: CustomerData, api_id: str) -> list[StoredRecord]:
    return [record for record in customer.records if record.api_id == api_id]


def _body(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["rsp_code"] == "00000"
    return body


@pytest.fixture(scope="module")
def holder() -> CustomerData:
    """A customer of the sandbox guarantee insurer with two contracts, one paid for in the last year."""
    customers = generate_customers(
        _people(today_kst()), sector="ginsu", org_code=PROVIDER, seed=SEED, as_of=today_kst()
    )
    for customer in customers:
        if len(_records(customer, "보증보험-001")) >= 2 and _records(customer, "보증보험-003"):
            return customer
    raise AssertionError("no such customer among 5000 people")


@pytest.fixture
async def harness(
    db_url: str, trust_file: Path, test_ca: CertificateAuthority, holder: CustomerData
) -> AsyncIterator[Harness]:
    settings = ProviderSettings(
        insecure_plain_http=True,
        org_code=PROVIDER,
        industries=["ginsu"],
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


class TestGuaranteeProvider:
    async def test_list_basic_and_payments_serve_the_stored_objects(
        self, harness: Harness, holder: CustomerData
    ) -> None:
        tokens = await harness.grant(holder.ci, harness.consent([TargetInfo(scope="ginsu.insurance")]))
        assert tokens["scope"] == "ginsu.list ginsu.insurance"
        token = tokens["access_token"]
        listed = _body(await harness.call("보증보험-001", {}, token=token))
        stored = _records(holder, "보증보험-001")
        assert listed["insu_cnt"] == str(len(stored))
        assert [{k: v for k, v in e.items() if k != "is_consent"} for e in listed["insu_list"]] == [
            {k: v for k, v in r.payload.items() if k != "is_consent"} for r in stored
        ]
        for entry in listed["insu_list"]:
            number = entry["insu_num"]
            basic = _body(await harness.call("보증보험-002", {"insu_num": number}, token=token))
            (expected,) = [r.payload for r in _records(holder, "보증보험-002") if r.key == number]
            assert {k: v for k, v in basic.items() if k not in ENVELOPE} == expected
            payments = _body(await harness.call("보증보험-003", {"insu_num": number, **history_range()}, token=token))
            assert payments["trans_list"] == [r.payload for r in _records(holder, "보증보험-003") if r.key == number]

    async def test_asset_consent_is_enforced(self, harness: Harness, holder: CustomerData) -> None:
        numbers = [r.payload["insu_num"] for r in _records(holder, "보증보험-001")]
        chosen, other = numbers[0], numbers[1]
        consent = harness.consent([TargetInfo(scope="ginsu.insurance", asset_list=[ConsentAsset(asset=chosen)])])
        token = (await harness.grant(holder.ci, consent))["access_token"]
        listed = _body(await harness.call("보증보험-001", {}, token=token))
        assert {e["insu_num"]: e["is_consent"] for e in listed["insu_list"]} == {
            number: "true" if number == chosen else "false" for number in numbers
        }
        refused = await harness.call("보증보험-003", {"insu_num": other, **history_range()}, token=token)
        assert (refused.status_code, refused.json()["rsp_code"]) == (401, "40105")
        scheduled = await harness.call(
            "보증보험-003", {"insu_num": chosen, **history_range(85)}, token=token, api_type="scheduled"
        )
        assert scheduled.status_code == 200

    async def test_the_generic_collector_reads_everything_back(self, harness: Harness, holder: CustomerData) -> None:
        token = (await harness.grant(holder.ci, harness.consent([TargetInfo(scope="ginsu.insurance")])))["access_token"]
        specs = CATALOGUE.info_apis([Sector.GINSU])
        outcome = await collect_provider(harness.client, specs, org_code=PROVIDER, token=token, today=today_kst())
        assert outcome.errors == []
        for spec in specs:
            assert len(outcome.items.get(spec.id, {})) == len(_records(holder, spec.id)), spec.id
