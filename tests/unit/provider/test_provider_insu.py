"""A provider serving insurance (`/v1/insu/...`) from sandbox-generated customers: the contract list and every
per-contract API through the generic endpoints, asset consent, scopes, paging, the loan list, and the operator's
generic collector reading it all back."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
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
from openmydata.standard.consent import ConsentAsset, TargetInfo
from openmydata.standard.dataset import CustomerData, StoredRecord

from .conftest import CLIENT_ID, CLIENT_SECRET, OPERATOR, PROVIDER, Harness, history_range

SEED = 424242
ENVELOPE = {"rsp_code", "rsp_msg", "search_timestamp", "next_page"}


def _people(as_of: date) -> Iterator[Person]:
    for index in range(5000):
        yield make_person(index, SEED, as_of)


def _first(as_of: date, wanted: Callable[[CustomerData], bool]) -> CustomerData:
    """The first generated customer of the sandbox insurer (data up to today) that `wanted` accepts."""
    for customer in generate_customers(_people(as_of), sector="insu", org_code=PROVIDER, seed=SEED, as_of=as_of):
        if wanted(customer):
            return customer
    raise AssertionError("no such customer among 5000 people")


def _records(customer: CustomerData, api_id: str) -> list[StoredRecord]:
    return [record for record in customer.records if record.api_id == api_id]


def _has(*api_ids: str) -> Callable[[CustomerData], bool]:
    return lambda customer: all(_records(customer, api_id) for api_id in api_ids)


def _body(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["rsp_code"] == "00000"
    return body


def _busiest_history(customer: CustomerData) -> tuple[str, int]:
    """(insu_num, payments) of the contract with the most premium payments in the window."""
    counts: dict[str, int] = {}
    for record in _records(customer, "보험-006"):
        counts[record.key] = counts.get(record.key, 0) + 1
    return max(counts.items(), key=lambda item: item[1], default=("", 0))


@pytest.fixture(scope="module")
def motorist() -> CustomerData:
    """A customer with car insurance and at least one other contract with riders and monthly payments."""
    return _first(
        today_kst(),
        lambda c: _has("보험-007", "보험-003")(c) and _busiest_history(c)[1] > 6 and len(_records(c, "보험-001")) > 1,
    )


@pytest.fixture(scope="module")
def borrower() -> CustomerData:
    """A customer with a loan against one of their contracts."""
    return _first(today_kst(), _has("보험-011"))


@pytest.fixture
async def harness(
    db_url: str, trust_file: Path, test_ca: CertificateAuthority, motorist: CustomerData, borrower: CustomerData
) -> AsyncIterator[Harness]:
    settings = ProviderSettings(
        insecure_plain_http=True,
        org_code=PROVIDER,
        industries=["insu"],
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
        await import_customers(db, {c.ci: c for c in (motorist, borrower)}.values())
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
            yield Harness(app=app, http=http, db=db, ca=test_ca)


def _stored(record: StoredRecord) -> dict[str, Any]:
    return {k: v for k, v in record.payload.items() if k != "is_consent"}


class TestInsuranceProvider:
    async def test_every_contract_api_serves_the_stored_objects(self, harness: Harness, motorist: CustomerData) -> None:
        consent = harness.consent([TargetInfo(scope="insu.insurance")])
        tokens = await harness.grant(motorist.ci, consent)
        assert tokens["scope"] == "insu.list insu.insurance"
        token = tokens["access_token"]

        listed = _body(await harness.call("보험-001", {}, token=token))
        contracts = _records(motorist, "보험-001")
        assert listed["insu_cnt"] == str(len(contracts))
        assert [{k: v for k, v in e.items() if k != "is_consent"} for e in listed["insu_list"]] == [
            _stored(r) for r in contracts
        ]
        assert {entry["is_consent"] for entry in listed["insu_list"]} == {"true"}
        assert "search_timestamp" in listed

        for contract in contracts:
            insu_num = contract.payload["insu_num"]
            for api_id in ("보험-002", "보험-005"):
                body = _body(await harness.call(api_id, {"insu_num": insu_num}, token=token))
                (stored,) = [r.payload for r in _records(motorist, api_id) if r.key == insu_num]
                assert {k: v for k, v in body.items() if k not in ENVELOPE} == stored
            for api_id, list_field in (
                ("보험-003", "contract_list"),
                ("보험-012", "coverage_list"),
                ("보험-004", "car_insu_list"),
            ):
                body = _body(await harness.call(api_id, {"insu_num": insu_num}, token=token))
                assert body[list_field] == [r.payload for r in _records(motorist, api_id) if r.key == insu_num]
            history = _body(await harness.call("보험-006", {"insu_num": insu_num, **history_range()}, token=token))
            stored_history = [r.payload for r in _records(motorist, "보험-006") if r.key == insu_num]
            assert history["trans_list"] == stored_history
            assert history["trans_cnt"] == str(len(stored_history))

        (car,) = _records(motorist, "보험-004")[:1]
        request = {"insu_num": car.key, "car_number": car.payload["car_number"], **history_range()}
        payments = _body(await harness.call("보험-007", request, token=token))
        assert payments["trans_list"] == [r.payload for r in _records(motorist, "보험-007")]

    async def test_history_pages_and_scheduled_ranges(self, harness: Harness, motorist: CustomerData) -> None:
        token = (await harness.grant(motorist.ci, harness.consent([TargetInfo(scope="insu.insurance")])))[
            "access_token"
        ]
        key, _ = _busiest_history(motorist)
        stored = [r.payload for r in _records(motorist, "보험-006") if r.key == key]
        request = {"insu_num": key, **history_range(), "limit": "3"}
        first = _body(await harness.call("보험-006", request, token=token))
        assert first["trans_list"] == stored[:3]
        second = _body(await harness.call("보험-006", {**request, "next_page": first["next_page"]}, token=token))
        assert second["trans_list"] == stored[3:6]
        # 보험-006 may span three months on a scheduled call (digest §10.4), not four
        allowed = await harness.call(
            "보험-006", {"insu_num": key, **history_range(85)}, token=token, api_type="scheduled"
        )
        assert allowed.status_code == 200
        refused = await harness.call(
            "보험-006", {"insu_num": key, **history_range(200)}, token=token, api_type="scheduled"
        )
        assert (refused.status_code, refused.json()["rsp_code"]) == (400, "40004")

    async def test_asset_consent_and_scopes_are_enforced(self, harness: Harness, motorist: CustomerData) -> None:
        contracts = [r.payload["insu_num"] for r in _records(motorist, "보험-001")]
        chosen, other = contracts[0], contracts[1]
        consent = harness.consent([TargetInfo(scope="insu.insurance", asset_list=[ConsentAsset(asset=chosen)])])
        token = (await harness.grant(motorist.ci, consent))["access_token"]
        listed = _body(await harness.call("보험-001", {}, token=token))
        assert {e["insu_num"]: e["is_consent"] for e in listed["insu_list"]} == {
            number: "true" if number == chosen else "false" for number in contracts
        }
        assert _body(await harness.call("보험-002", {"insu_num": chosen}, token=token))["currency_code"] == "KRW"
        refused = await harness.call("보험-002", {"insu_num": other}, token=token)
        assert (refused.status_code, refused.json()["rsp_code"]) == (401, "40105")
        no_loans = await harness.call("보험-010", {"account_num": "L000000001"}, token=token)
        assert (no_loans.status_code, no_loans.json()["rsp_code"]) == (401, "40104")

        everything = harness.consent([TargetInfo(scope="insu.insurance")])
        token = (await harness.grant(motorist.ci, everything))["access_token"]
        unknown = await harness.call("보험-005", {"insu_num": "NOSUCHCONTRACT"}, token=token)
        assert (unknown.status_code, unknown.json()["rsp_code"]) == (404, "40402")

    async def test_loan_list_names_the_loans_against_contracts(self, harness: Harness, borrower: CustomerData) -> None:
        consent = harness.consent([TargetInfo(scope="insu.loan")])
        tokens = await harness.grant(borrower.ci, consent)
        assert tokens["scope"] == "insu.list insu.loan"
        loans = _body(await harness.call("보험-008", {}, token=tokens["access_token"]))
        stored = _records(borrower, "보험-008")
        assert loans["loan_cnt"] == str(len(stored)) != "0"
        assert [{k: v for k, v in e.items() if k != "is_consent"} for e in loans["loan_list"]] == [
            _stored(r) for r in stored
        ]
        assert {entry["is_consent"] for entry in loans["loan_list"]} == {"true"}
        assert {entry["account_type"] for entry in loans["loan_list"]} == {"3400"}
        refused = await harness.call(
            "보험-002",
            {"insu_num": _records(borrower, "보험-001")[0].payload["insu_num"]},
            token=tokens["access_token"],
        )
        assert (refused.status_code, refused.json()["rsp_code"]) == (401, "40104")

    async def test_the_generic_collector_reads_every_contract_api_back(
        self, harness: Harness, motorist: CustomerData
    ) -> None:
        token = (await harness.grant(motorist.ci, harness.consent([TargetInfo(scope="insu.insurance")])))[
            "access_token"
        ]
        specs = [CATALOGUE[api_id] for api_id in ("보험-001", *(f"보험-{n:03d}" for n in (2, 3, 4, 5, 6, 7, 12)))]
        outcome = await collect_provider(
            harness.client, specs, org_code=PROVIDER, token=token, today=today_kst(), concurrency=2
        )
        assert outcome.errors == []
        for spec in specs:
            collected = outcome.items.get(spec.id, {})
            assert len(collected) == len(_records(motorist, spec.id)), spec.id
            stored_keys = {r.key for r in _records(motorist, spec.id)}
            assert {key for key, _ in collected} == stored_keys, spec.id
