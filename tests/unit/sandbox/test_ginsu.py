"""Synthetic guarantee-insurance data (보증보험-001…003): deterministic, valid, collectable and plausible."""

from __future__ import annotations

from collections import Counter
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from openmydata.operator.collector import plan_calls
from openmydata.sandbox import ginsu, insu
from openmydata.sandbox.institutions import SECTORS, SectorName, customer_lines, generate_customers, is_customer
from openmydata.sandbox.population import Person, generate_people
from openmydata.sandbox.timeline import Window
from openmydata.standard.apis import CATALOGUE
from openmydata.standard.catalogue import Sector, selector_key
from openmydata.standard.dataset import CustomerData, StoredRecord, dump_lines

SEED = 20240917
AS_OF = date(2025, 6, 30)
ORG = "GINSUSBX01"
WINDOW = Window.ending(AS_OF)
API_IDS = [spec.id for spec in CATALOGUE.sector(Sector.GINSU)]


@pytest.fixture(scope="module")
def people() -> list[Person]:
    return generate_people(600, SEED, AS_OF)


@pytest.fixture(scope="module")
def customers(people: list[Person]) -> list[CustomerData]:
    return list(generate_customers(people, sector="ginsu", org_code=ORG, seed=SEED, as_of=AS_OF))


def _records(customer: CustomerData, api_id: str) -> list[StoredRecord]:
    return [record for record in customer.records if record.api_id == api_id]


def _contracts(customer: CustomerData) -> list[tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]]]]:
    """(list entry, basic info, payments) of each contract."""
    basics = {r.key: r.payload for r in _records(customer, "보증보험-002")}
    result = []
    for entry in _records(customer, "보증보험-001"):
        number = entry.payload["insu_num"]
        payments = [r.payload for r in _records(customer, "보증보험-003") if r.key == number]
        result.append((entry.payload, basics[number], payments))
    return result


class TestGeneration:
    def test_the_sector_is_generated(self) -> None:
        assert "ginsu" in SECTORS

    def test_fast_output_equals_validated_output(self, people: list[Person]) -> None:
        kwargs: dict[str, Any] = {"sector": "ginsu", "org_code": ORG, "seed": SEED, "as_of": AS_OF}
        fast = [c.model_dump_json() for c in generate_customers(people[:300], **kwargs)]
        validated = list(generate_customers(people[:300], validate=True, **kwargs))
        assert fast
        assert fast == [c.model_dump_json() for c in validated]
        lines = [line.decode("utf-8") for line, _ in customer_lines(people[:300], **kwargs)]
        assert lines == list(dump_lines(validated))

    def test_same_inputs_give_identical_customers_whatever_the_population(self, people: list[Person]) -> None:
        def run(group: list[Person]) -> list[str]:
            generated = generate_customers(group, sector="ginsu", org_code=ORG, seed=SEED, as_of=AS_OF)
            return [customer.model_dump_json() for customer in generated]

        small = run(people[:100])
        assert small
        assert small == run(people[:100])
        assert run(people[:200])[: len(small)] == small

    def test_every_data_api_has_records_under_the_key_of_its_source(self, customers: list[CustomerData]) -> None:
        assert {record.api_id for c in customers for record in c.records} == set(API_IDS)
        for customer in customers:
            listed = {r.payload["insu_num"] for r in _records(customer, "보증보험-001")}
            for record in customer.records:
                spec = CATALOGUE[record.api_id]
                if spec.source is None:
                    assert record.key == ""
                else:
                    assert record.key in listed
                    assert record.key == selector_key({"insu_num": record.key}, spec.key_fields)

    def test_the_collector_plans_a_call_for_every_contract(self, customers: list[CustomerData]) -> None:
        for customer in customers[:50]:
            sources = [{**r.payload, "is_consent": "true"} for r in _records(customer, "보증보험-001")]
            for api_id in ("보증보험-002", "보증보험-003"):
                chains = plan_calls(CATALOGUE[api_id], org_code=ORG, source_records=sources, today=AS_OF)
                planned = {call.key for chain in chains for call in chain}
                assert {r.key for r in _records(customer, api_id)} <= planned

    def test_contract_numbers_are_unique_per_institution(self, customers: list[CustomerData]) -> None:
        numbers = [r.payload["insu_num"] for c in customers for r in _records(c, "보증보험-001")]
        assert len(numbers) == len(set(numbers))

    @pytest.mark.parametrize("as_of", [AS_OF, date(2026, 11, 3)])
    def test_payments_lie_inside_the_consent_time_range(self, people: list[Person], as_of: date) -> None:
        window = Window.ending(as_of)
        first, last = window.start.strftime("%Y%m%d"), as_of.strftime("%Y%m%d")
        payments = 0
        for customer in generate_customers(people, sector="ginsu", org_code=ORG, seed=SEED, as_of=as_of):
            for record in _records(customer, "보증보험-003"):
                assert first <= record.payload["trans_date"] <= last
                payments += 1
            for record in _records(customer, "보증보험-002"):
                assert record.payload["issue_date"] <= last
                assert record.payload["exp_date"] >= first  # contracts that ended earlier are not listed
        assert payments > 50

    def test_codes_come_from_the_code_table(self, customers: list[CustomerData]) -> None:
        for customer in customers:
            for entry, basic, payments in _contracts(customer):
                assert entry["insu_type"] in ginsu.CODES["insu_type"]
                assert entry["insu_status"] in ginsu.CODES["insu_status"]
                assert basic["pay_due"] in ginsu.CODES["pay_due"]
                assert all(p["pay_method"] in ginsu.CODES["pay_method"] for p in payments)


class TestWhoHoldsWhat:
    def test_fewer_people_than_for_insurance_and_self_employed_people_most(self, people: list[Person]) -> None:
        def rate(group: list[Person], sector: SectorName = "ginsu") -> float:
            return sum(is_customer(p, sector, ORG, SEED) for p in group) / len(group)

        self_employed = [p for p in people if p.occupation == "self_employed"]
        others = [p for p in people if p.occupation != "self_employed"]
        assert 0.08 < rate(people) < 0.3
        assert rate(people) < rate(people, "insu") / 2
        assert rate(self_employed) > 2 * rate(others)

    def test_contracts_follow_occupation_and_housing(self, people: list[Person], customers: list[CustomerData]) -> None:
        by_ci = {p.ci: p for p in people}
        kinds: Counter[str] = Counter()
        for customer in customers:
            person = by_ci[customer.ci]
            home = insu.household(person, SEED, AS_OF)
            for entry, basic, _ in _contracts(customer):
                kind = entry["insu_type"]
                kinds[kind] += 1
                (insured,) = (item["insured_name"] for item in basic["insured_list"])
                if kind == "01":
                    assert person.occupation == "self_employed"
                if kind == "03":
                    assert home.tenure in ("jeonse", "monthly")
                    assert insured == customer.name  # the tenant is the insured
                if kind == "02":
                    assert insured != customer.name  # the employer is
        assert {"01", "02", "03"} <= set(kinds)


class TestContracts:
    def test_status_dates_and_premiums_agree(self, customers: list[CustomerData]) -> None:
        today = AS_OF.strftime("%Y%m%d")
        paid_contracts = 0
        for customer in customers:
            for entry, basic, payments in _contracts(customer):
                assert basic["issue_date"] < basic["exp_date"]
                assert entry["insu_status"] == ("01" if basic["exp_date"] >= today else "02")
                assert int(basic["insured_cnt"]) == len(basic["insured_list"]) == 1
                premium = Decimal(basic["pay_amt"])
                assert Decimal(10_000) <= premium < Decimal(basic["face_amt"]) * Decimal("0.05")
                for payment in payments:
                    assert Decimal(payment["paid_amt"]) == premium
                    assert payment["trans_date"] >= basic["issue_date"]
                if basic["pay_due"] == "04":
                    assert [p["trans_no"] for p in payments] in ([], ["1"])
                    if basic["issue_date"] >= WINDOW.start.strftime("%Y%m%d"):
                        assert [p["trans_date"] for p in payments] == [basic["issue_date"]]
                        paid_contracts += 1
                else:
                    assert len(payments) <= 2
            assert customer.reg_date == min(b["issue_date"] for _, b, _ in _contracts(customer))
        assert paid_contracts > 30
