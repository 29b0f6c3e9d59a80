"""Money lenders (`usury`) in the sandbox: the debt generator of `bond` with its own customers and loans (bond_type 03,
lent by the lender itself), served through the same 채권 APIs."""

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
ORG = "X1SBXL0000"
WINDOW = Window.ending(AS_OF)
DATA_KINDS = {Kind.ASSET_LIST, Kind.ASSET_INFO, Kind.RECORDS}


@pytest.fixture(scope="module")
def people() -> list[Person]:
    return generate_people(2500, SEED, AS_OF)


@pytest.fixture(scope="module")
def customers(people: list[Person]) -> list[CustomerData]:
    return list(generate_customers(people, sector="usury", org_code=ORG, seed=SEED, as_of=AS_OF, validate=True))


def _records(customer: CustomerData, api_id: str) -> list[StoredRecord]:
    return [record for record in customer.records if record.api_id == api_id]


class TestBorrowers:
    def test_usury_is_generated_for_a_few_people(self, people: list[Person], customers: list[CustomerData]) -> None:
        assert "usury" in SECTORS
        assert 0.005 * len(people) <= len(customers) <= 0.05 * len(people)

    def test_share_rises_with_risk_and_falls_with_income(self, people: list[Person]) -> None:
        person = dataclasses.replace(people[0], age=40, thin_file=False, income_level=0.0)
        by_risk = [bond.usury_share(dataclasses.replace(person, risk=risk)) for risk in (0.0, 1.0, 2.0, 3.0)]
        assert by_risk == sorted(by_risk)
        assert 0.005 < by_risk[0] < 0.02
        assert by_risk[2] > 5 * by_risk[0]
        assert bond.usury_share(dataclasses.replace(person, income_level=1.5)) < by_risk[0]
        assert bond.usury_share(dataclasses.replace(person, thin_file=True)) < by_risk[0]
        assert bond.usury_share(dataclasses.replace(person, age=19, risk=3.0)) == 0.0
        assert bond.USURY.share(person) == bond.usury_share(person)

    def test_borrowers_are_riskier_than_most(self, people: list[Person]) -> None:
        chosen = [p for p in people if is_customer(p, "usury", ORG, SEED)]
        assert statistics.mean(p.risk for p in chosen) > statistics.mean(p.risk for p in people) + 0.8

    def test_a_lenders_borrowers_are_not_a_debt_buyers_debtors(self, people: list[Person]) -> None:
        lenders = {p.ci for p in people if is_customer(p, "usury", ORG, SEED)}
        buyers = {p.ci for p in people if is_customer(p, "bond", ORG, SEED)}
        assert lenders != buyers


class TestLoans:
    def test_every_debt_api_has_records_that_are_their_models_wire_form(self, customers: list[CustomerData]) -> None:
        produced = {record.api_id for customer in customers for record in customer.records}
        assert produced == {spec.id for spec in CATALOGUE.sector("usury") if spec.kind in DATA_KINDS}
        for customer in customers:
            for record in customer.records:
                spec = CATALOGUE.bound(CATALOGUE[record.api_id], "usury")
                assert spec.path.startswith("/v1/usury/bonds")
                if spec.kind is Kind.ASSET_INFO:
                    wire = spec.response.model_validate({**record.payload, "rsp_code": "00000", "rsp_msg": "-"})
                    parsed = {k: v for k, v in wire.to_wire().items() if k not in {"rsp_code", "rsp_msg"}}
                else:
                    assert spec.record_model is not None
                    parsed = spec.record_model.model_validate(record.payload).to_wire()
                assert parsed == record.payload

    def test_loans_are_the_lenders_own(self, customers: list[CustomerData]) -> None:
        numbers = [r.payload["bond_num"] for c in customers for r in _records(c, "채권-001")]
        assert len(numbers) == len(set(numbers))
        for customer in customers:
            for record in _records(customer, "채권-001"):
                assert record.payload["bond_type"] == "03"
                assert record.payload["init_org_code"] == ORG
                assert record.payload["takeover_date"] <= AS_OF.strftime("%Y%m%d")
                assert record.payload["takeover_date"] >= "20200630"
            for record in _records(customer, "채권-002"):
                assert "prev_org_code" not in record.payload
                assert record.payload["repay_method"] in bond.CODES["repay_method"]
            listed = {r.payload["bond_num"] for r in _records(customer, "채권-001")}
            assert {r.key for r in _records(customer, "채권-002")} == listed
            assert {r.key for r in _records(customer, "채권-003")} <= listed

    def test_balances_are_what_the_repayments_leave(self, customers: list[CustomerData]) -> None:
        checked = 0
        for customer in customers:
            details = {r.key: r.payload for r in _records(customer, "채권-002")}
            paid: dict[str, list[dict[str, Any]]] = defaultdict(list)
            for record in _records(customer, "채권-003"):
                paid[record.key].append(record.payload)
            for key, detail in details.items():
                assert 0 <= int(detail["balance_amt"]) <= int(detail["bond_principal"])
                history = paid.get(key, [])
                for item in history:
                    assert int(item["trans_amt"]) == int(item["principal_amt"]) + int(item["int_amt"])
                    assert item["trans_dtime"][:8] >= WINDOW.start.strftime("%Y%m%d")
                for before, after in itertools.pairwise(history):
                    assert before["trans_dtime"] < after["trans_dtime"]
                    assert int(before["balance_amt"]) - int(after["principal_amt"]) == int(after["balance_amt"])
                if history:
                    assert int(history[-1]["balance_amt"]) == int(detail["balance_amt"])
                    checked += 1
        assert checked > 10

    def test_performing_loans_are_repaid_monthly(self, customers: list[CustomerData]) -> None:
        per_method: dict[tuple[str, str], list[int]] = defaultdict(list)
        for customer in customers:
            counts: dict[str, int] = defaultdict(int)
            for record in _records(customer, "채권-003"):
                counts[record.key] += 1
            for record in _records(customer, "채권-002"):
                method = (record.payload["repay_method"], record.payload["is_debt_mgmt"])
                per_method[method].append(counts[record.key])
        performing = per_method[("02", "false")]
        defaulted = per_method[("01", "false")]
        assert performing
        assert defaulted
        assert statistics.mean(performing) > statistics.mean(defaulted) + 3
        assert len(performing) > len(defaulted)

    def test_fast_output_and_lines_equal_the_validated_output(
        self, people: list[Person], customers: list[CustomerData]
    ) -> None:
        kwargs: dict[str, Any] = {"sector": "usury", "org_code": ORG, "seed": SEED, "as_of": AS_OF}
        fast = list(generate_customers(people, **kwargs))
        assert [c.model_dump_json() for c in fast] == [c.model_dump_json() for c in customers]
        assert [line.decode("utf-8") for line, _ in customer_lines(people, **kwargs)] == list(dump_lines(customers))
        again = list(generate_customers(people[:1200], **kwargs))
        assert again
        assert [c.model_dump_json() for c in again] == [c.model_dump_json() for c in customers[: len(again)]]

    def test_the_generator_refuses_another_industry(self, people: list[Person]) -> None:
        with pytest.raises(ValueError, match="bond and usury"):
            bond.BondCustomer(people[0], ORG, SEED, AS_OF, industry="capital")
