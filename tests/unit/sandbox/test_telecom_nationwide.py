"""The telecom sandbox in the nationwide profile: the same people's same lines, bills and payments as in the
financial profile, with plan names and monthly usage volumes."""

from __future__ import annotations

import statistics
from collections import defaultdict
from decimal import Decimal
from typing import Any

import pytest

from openmydata.sandbox import telecom
from openmydata.sandbox.institutions import customer_lines, generate_customers
from openmydata.sandbox.population import Person, generate_people
from openmydata.sandbox.timeline import Window, month_text, previous_month
from openmydata.standard.apis import CATALOGUE, NATIONWIDE_CATALOGUE
from openmydata.standard.dataset import CustomerData, StoredRecord, dump_lines

from .samples import AS_OF, ORG_CODES, SEED

ORG = ORG_CODES["telecom"]
LIST, USAGE, BILLS, PAYMENTS = telecom.NATIONWIDE_APIS


@pytest.fixture(scope="module")
def people() -> list[Person]:
    return generate_people(220, SEED, AS_OF)


def _generate(people: list[Person], *, seed: int = SEED, nationwide: bool = True, **kwargs: Any) -> list[CustomerData]:
    catalogue = NATIONWIDE_CATALOGUE if nationwide else CATALOGUE
    return list(
        generate_customers(
            people, sector="telecom", org_code=ORG, seed=seed, as_of=AS_OF, catalogue=catalogue, **kwargs
        )
    )


@pytest.fixture(scope="module")
def nationwide(people: list[Person]) -> list[CustomerData]:
    return _generate(people, validate=True)


@pytest.fixture(scope="module")
def financial(people: list[Person]) -> list[CustomerData]:
    return _generate(people, nationwide=False)


def _by_key(records: list[StoredRecord], api_id: str) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in records:
        if record.api_id == api_id:
            grouped[record.key].append(record.payload)
    return grouped


class TestNationwideTelecomSandbox:
    def test_only_the_profile_s_apis_are_written(
        self, nationwide: list[CustomerData], financial: list[CustomerData]
    ) -> None:
        assert {r.api_id for c in nationwide for r in c.records} == set(telecom.NATIONWIDE_APIS)
        assert {r.api_id for c in financial for r in c.records} == {"통신-001", "통신-002", "통신-003", "통신-004"}

    def test_same_customers_and_contracts_with_plan_names(
        self, nationwide: list[CustomerData], financial: list[CustomerData]
    ) -> None:
        assert [c.model_dump(exclude={"records"}) for c in nationwide] == [
            c.model_dump(exclude={"records"}) for c in financial
        ]
        plans = set()
        for ours, theirs in zip(nationwide, financial, strict=True):
            listed = _by_key(ours.records, LIST)[""]
            assert [{k: v for k, v in p.items() if k != "plan_name"} for p in listed] == _by_key(
                theirs.records, "통신-001"
            )[""]
            plans |= {p["plan_name"] for p in listed}
        assert plans <= set(telecom.PLAN_NAMES.values())
        assert len(plans) >= 5  # plans differ between people

    def test_bills_and_payments_are_the_financial_ones(
        self, nationwide: list[CustomerData], financial: list[CustomerData]
    ) -> None:
        for ours, theirs in zip(nationwide, financial, strict=True):
            bills = [
                (p["charge_month"], key, p["charge_amt"], p["charge_date"])
                for key, payloads in _by_key(ours.records, BILLS).items()
                for p in payloads
            ]
            financial_bills = [
                (r.period, r.payload["mgmt_id"], r.payload["charge_amt"], r.payload["charge_date"])
                for r in theirs.records
                if r.api_id == "통신-002"
            ]
            assert sorted(bills) == sorted(financial_bills)
            assert _by_key(ours.records, PAYMENTS) == _by_key(theirs.records, "통신-003")

    def test_usage_covers_the_months_the_bills_charge(self, nationwide: list[CustomerData]) -> None:
        charge_months = {month_text(*m) for m in Window.ending(AS_OF).charge_months()}
        for customer in nationwide:
            usage = _by_key(customer.records, USAGE)
            for key, bills in _by_key(customer.records, BILLS).items():
                used = {
                    month_text(*previous_month(int(b["charge_month"][:4]), int(b["charge_month"][4:]))) for b in bills
                }
                assert [u["use_month"] for u in usage[key]] == sorted(used & charge_months)

    def test_usage_volumes_are_plausible(self, nationwide: list[CustomerData]) -> None:
        voice: list[int] = []
        data_only = 0
        for customer in nationwide:
            lines = {p["mgmt_id"]: p for p in _by_key(customer.records, LIST)[""]}
            for key, usages in _by_key(customer.records, USAGE).items():
                for usage in usages:
                    assert Decimal(usage["data_usage"]) > 0
                    if lines[key]["type"] == "02":
                        assert (usage["voice_usage"], usage["sms_usage"]) == ("0", "0")
                        data_only += 1
                    else:
                        voice.append(int(usage["voice_usage"]))
        assert data_only > 0
        assert 80 < statistics.median(voice) < 400

    def test_heavier_plans_use_more_data(self, nationwide: list[CustomerData]) -> None:
        by_plan: dict[str, list[Decimal]] = defaultdict(list)
        for customer in nationwide:
            lines = {p["mgmt_id"]: p for p in _by_key(customer.records, LIST)[""]}
            for key, usages in _by_key(customer.records, USAGE).items():
                by_plan[lines[key]["plan_name"]] += [Decimal(u["data_usage"]) for u in usages]
        slim, unlimited = by_plan[telecom.PLAN_NAMES[33_000]], by_plan[telecom.PLAN_NAMES[109_000]]
        assert slim
        assert unlimited
        assert statistics.median(unlimited) > 5 * statistics.median(slim)

    def test_deterministic_per_seed_and_fast_path_equal(
        self, people: list[Person], nationwide: list[CustomerData]
    ) -> None:
        assert _generate(people) == nationwide
        assert _generate(people, seed=SEED + 1) != nationwide
        lines = b"".join(
            line
            for line, _count in customer_lines(
                people, sector="telecom", org_code=ORG, seed=SEED, as_of=AS_OF, catalogue=NATIONWIDE_CATALOGUE
            )
        )
        assert lines == "".join(dump_lines(nationwide)).encode("utf-8")
