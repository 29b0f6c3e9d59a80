"""The debt-buyer sandbox: rare customers with delinquency signals, their debts and repayments."""

from __future__ import annotations

import dataclasses
import itertools
import statistics
from collections import defaultdict
from datetime import date
from typing import Any

import pytest

from openmydata.sandbox import bond
from openmydata.sandbox.institutions import SECTORS, customer_lines, generate_customers, is_customer
from openmydata.sandbox.population import Person, generate_people
from openmydata.sandbox.timeline import Window
from openmydata.standard.apis import CATALOGUE
from openmydata.standard.catalogue import Kind
from openmydata.standard.dataset import CustomerData, StoredRecord, dump_lines

SEED = 20240917
AS_OF = date(2025, 6, 30)
ORG = "R1SBXA0000"
WINDOW = Window.ending(AS_OF)
DATA_KINDS = {Kind.ASSET_LIST, Kind.ASSET_INFO, Kind.RECORDS}


@pytest.fixture(scope="module")
def people() -> list[Person]:
    return generate_people(4000, SEED, AS_OF)


@pytest.fixture(scope="module")
def customers(people: list[Person]) -> list[CustomerData]:
    return list(generate_customers(people, sector="bond", org_code=ORG, seed=SEED, as_of=AS_OF, validate=True))


def _records(customer: CustomerData, api_id: str) -> list[StoredRecord]:
    return [record for record in customer.records if record.api_id == api_id]


def _as_date(value: str) -> date:
    return date(int(value[:4]), int(value[4:6]), int(value[6:8]))


class TestGeneratedRecords:
    def test_the_sector_is_generated_for_few_people(self, people: list[Person], customers: list[CustomerData]) -> None:
        assert "bond" in SECTORS
        assert 20 <= len(customers) <= 0.03 * len(people)

    def test_every_payload_is_the_wire_form_of_its_model(self, customers: list[CustomerData]) -> None:
        for customer in customers:
            for record in customer.records:
                spec = CATALOGUE[record.api_id]
                assert spec.sector == "bond"
                if spec.kind is Kind.ASSET_INFO:
                    wire = spec.response.model_validate({**record.payload, "rsp_code": "00000", "rsp_msg": "-"})
                    parsed = {k: v for k, v in wire.to_wire().items() if k not in {"rsp_code", "rsp_msg"}}
                else:
                    assert spec.record_model is not None
                    parsed = spec.record_model.model_validate(record.payload).to_wire()
                assert parsed == record.payload

    def test_every_catalogued_data_api_has_records(self, customers: list[CustomerData]) -> None:
        produced = {record.api_id for customer in customers for record in customer.records}
        assert produced == {spec.id for spec in CATALOGUE.sector("bond") if spec.kind in DATA_KINDS}

    def test_keys_name_a_listed_debt_and_records_are_unique(self, customers: list[CustomerData]) -> None:
        numbers = [r.payload["bond_num"] for c in customers for r in _records(c, "채권-001")]
        assert len(numbers) == len(set(numbers))
        for customer in customers:
            listed = {r.payload["bond_num"] for r in _records(customer, "채권-001")}
            assert {r.key for r in _records(customer, "채권-002")} == listed
            assert len(_records(customer, "채권-002")) == len(listed)
            transactions = [
                (r.key, r.payload["trans_dtime"], r.payload["trans_no"]) for r in _records(customer, "채권-003")
            ]
            assert {key for key, _, _ in transactions} <= listed
            assert len(transactions) == len(set(transactions))
            assert all(r.key == "" for r in _records(customer, "채권-001"))

    def test_history_lies_within_the_window(self, customers: list[CustomerData]) -> None:
        for customer in customers:
            for record in _records(customer, "채권-003"):
                assert _as_date(record.payload["trans_dtime"]) in WINDOW
            for record in _records(customer, "채권-001"):
                assert _as_date(record.payload["takeover_date"]) <= AS_OF

    def test_fast_output_and_lines_equal_the_validated_output(self, people: list[Person]) -> None:
        kwargs: dict[str, Any] = {"sector": "bond", "org_code": ORG, "seed": SEED, "as_of": AS_OF}
        strict = list(generate_customers(people[:1500], validate=True, **kwargs))
        fast = list(generate_customers(people[:1500], **kwargs))
        assert strict
        assert [c.model_dump_json() for c in fast] == [c.model_dump_json() for c in strict]
        assert [line.decode("utf-8") for line, _ in customer_lines(people[:1500], **kwargs)] == list(dump_lines(strict))

    def test_same_inputs_give_the_same_customers_whatever_the_population(
        self, people: list[Person], customers: list[CustomerData]
    ) -> None:
        again = list(generate_customers(people[:2000], sector="bond", org_code=ORG, seed=SEED, as_of=AS_OF))
        assert again
        assert [c.model_dump_json() for c in again] == [c.model_dump_json() for c in customers[: len(again)]]


class TestWhoOwes:
    def test_share_rises_steeply_with_risk(self, people: list[Person]) -> None:
        person = dataclasses.replace(people[0], age=40, thin_file=False, income_level=0.0)
        by_risk = [bond.share(dataclasses.replace(person, risk=risk)) for risk in (0.0, 1.0, 2.0, 3.0)]
        assert by_risk == sorted(by_risk)
        assert by_risk[0] < 0.01
        assert by_risk[2] > 10 * by_risk[0]
        assert bond.share(dataclasses.replace(person, risk=2.0, thin_file=True)) < by_risk[2] / 5
        assert bond.share(dataclasses.replace(person, age=20, risk=3.0)) == 0.0

    def test_debtors_carry_delinquency_signals(self, people: list[Person]) -> None:
        chosen = [p for p in people if is_customer(p, "bond", ORG, SEED)]
        assert statistics.mean(p.risk for p in chosen) > statistics.mean(p.risk for p in people) + 1.2
        assert sum(p.thin_file for p in chosen) / len(chosen) < sum(p.thin_file for p in people) / len(people)


class TestDebts:
    def test_codes_and_lenders(self, customers: list[CustomerData]) -> None:
        lenders = {code for code, _ in bond.ORIGINAL_LENDERS}
        for customer in customers:
            for record in _records(customer, "채권-001"):
                assert record.payload["bond_type"] in ("01", "02")
                assert record.payload["init_org_code"] in lenders
            for record in _records(customer, "채권-002"):
                detail = record.payload
                assert detail["prev_org_code"] in lenders | set(bond.EARLIER_BUYERS)
                assert detail["repay_method"] == ("02" if detail["is_debt_mgmt"] == "true" else "01")

    def test_balances_are_what_the_transactions_leave(self, customers: list[CustomerData]) -> None:
        checked = 0
        for customer in customers:
            details = {r.key: r.payload for r in _records(customer, "채권-002")}
            transactions: dict[str, list[dict[str, Any]]] = defaultdict(list)
            for record in _records(customer, "채권-003"):
                transactions[record.key].append(record.payload)
            for key, detail in details.items():
                assert 0 <= int(detail["balance_amt"]) <= int(detail["bond_principal"])
                paid = transactions.get(key, [])
                for item in paid:
                    assert int(item["trans_amt"]) == int(item["principal_amt"]) + int(item["int_amt"])
                for before, after in itertools.pairwise(paid):
                    assert before["trans_dtime"] < after["trans_dtime"]
                    assert int(before["balance_amt"]) - int(after["principal_amt"]) == int(after["balance_amt"])
                if paid:
                    assert int(paid[-1]["balance_amt"]) == int(detail["balance_amt"])
                    checked += 1
        assert checked > 10

    def test_plans_pay_monthly_and_others_now_and_then(self, customers: list[CustomerData]) -> None:
        counts: dict[str, list[int]] = {"true": [], "false": []}
        for customer in customers:
            per_debt: dict[str, int] = defaultdict(int)
            for record in _records(customer, "채권-003"):
                per_debt[record.key] += 1
            for record in _records(customer, "채권-002"):
                counts[record.payload["is_debt_mgmt"]].append(per_debt[record.key])
        assert counts["true"]
        assert counts["false"]
        assert statistics.mean(counts["true"]) > statistics.mean(counts["false"]) + 2
