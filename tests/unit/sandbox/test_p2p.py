"""The P2P lending sandbox: rare, riskier borrowers, their loans, schedules and repayments."""

from __future__ import annotations

import dataclasses
import statistics
from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from openmydata.kit.clock import add_months
from openmydata.sandbox import p2p
from openmydata.sandbox.institutions import SECTORS, customer_lines, generate_customers, is_customer
from openmydata.sandbox.population import Person, generate_people
from openmydata.sandbox.timeline import Window
from openmydata.standard.apis import CATALOGUE
from openmydata.standard.catalogue import Kind, selector_key
from openmydata.standard.dataset import CustomerData, StoredRecord, dump_lines

SEED = 20240917
AS_OF = date(2025, 6, 30)
ORG = "P1SBXA0000"
WINDOW = Window.ending(AS_OF)
DATA_KINDS = {Kind.ASSET_LIST, Kind.ASSET_INFO, Kind.RECORDS}


@pytest.fixture(scope="module")
def people() -> list[Person]:
    return generate_people(2500, SEED, AS_OF)


@pytest.fixture(scope="module")
def customers(people: list[Person]) -> list[CustomerData]:
    return list(generate_customers(people, sector="p2p", org_code=ORG, seed=SEED, as_of=AS_OF, validate=True))


def _records(customer: CustomerData, api_id: str) -> list[StoredRecord]:
    return [record for record in customer.records if record.api_id == api_id]


def _one(customer: CustomerData, api_id: str, key: str) -> dict[str, Any]:
    [record] = [r for r in _records(customer, api_id) if r.key == key]
    return record.payload


def _as_date(value: str) -> date:
    return date(int(value[:4]), int(value[4:6]), int(value[6:8]))


class TestGeneratedRecords:
    def test_the_sector_is_generated_for_a_few_people(
        self, people: list[Person], customers: list[CustomerData]
    ) -> None:
        assert "p2p" in SECTORS
        assert 0.01 < len(customers) / len(people) < 0.08

    def test_every_payload_is_the_wire_form_of_its_model(self, customers: list[CustomerData]) -> None:
        for customer in customers:
            for record in customer.records:
                spec = CATALOGUE[record.api_id]
                assert spec.sector == "p2p"
                if spec.kind is Kind.ASSET_INFO:
                    wire = spec.response.model_validate({**record.payload, "rsp_code": "00000", "rsp_msg": "-"})
                    parsed = {k: v for k, v in wire.to_wire().items() if k not in {"rsp_code", "rsp_msg"}}
                else:
                    assert spec.record_model is not None
                    parsed = spec.record_model.model_validate(record.payload).to_wire()
                assert parsed == record.payload

    def test_every_catalogued_data_api_has_records(self, customers: list[CustomerData]) -> None:
        produced = {record.api_id for customer in customers for record in customer.records}
        assert produced == {spec.id for spec in CATALOGUE.sector("p2p") if spec.kind in DATA_KINDS}

    def test_keys_come_from_the_lending_list_and_are_unique(self, customers: list[CustomerData]) -> None:
        ids = [r.payload["lending_id"] for c in customers for r in _records(c, "P2P-001")]
        assert len(ids) == len(set(ids))
        for customer in customers:
            lendings = {r.payload["lending_id"] for r in _records(customer, "P2P-001")}
            seen: set[tuple[str, str, str]] = set()
            for record in customer.records:
                spec = CATALOGUE[record.api_id]
                if spec.source is not None:
                    assert record.key in {selector_key({"lending_id": i}, spec.key_fields) for i in lendings}
                else:
                    assert record.key == ""
                identity = (record.api_id, record.key, "|".join(record.payload.get(n, "") for n in spec.record_key))
                assert identity not in seen
                seen.add(identity)
            for lending_id in lendings:
                assert len([r for r in _records(customer, "P2P-002") if r.key == lending_id]) == 1
                assert len([r for r in _records(customer, "P2P-003") if r.key == lending_id]) == 1

    def test_history_lies_within_the_window(self, customers: list[CustomerData]) -> None:
        for customer in customers:
            for record in _records(customer, "P2P-004"):
                assert _as_date(record.payload["trans_dtime"]) in WINDOW
            for record in _records(customer, "P2P-001"):
                assert _as_date(record.payload["issue_date"]) <= AS_OF
            for record in _records(customer, "P2P-002"):
                assert _as_date(record.payload["exp_date"]) > AS_OF  # live loans only

    def test_fast_output_and_lines_equal_the_validated_output(self, people: list[Person]) -> None:
        kwargs: dict[str, Any] = {"sector": "p2p", "org_code": ORG, "seed": SEED, "as_of": AS_OF}
        strict = list(generate_customers(people[:800], validate=True, **kwargs))
        fast = list(generate_customers(people[:800], **kwargs))
        assert strict
        assert [c.model_dump_json() for c in fast] == [c.model_dump_json() for c in strict]
        assert [line.decode("utf-8") for line, _ in customer_lines(people[:800], **kwargs)] == list(dump_lines(strict))

    def test_same_inputs_give_the_same_customers_whatever_the_population(
        self, people: list[Person], customers: list[CustomerData]
    ) -> None:
        again = list(generate_customers(people[:1200], sector="p2p", org_code=ORG, seed=SEED, as_of=AS_OF))
        assert [c.model_dump_json() for c in again] == [c.model_dump_json() for c in customers[: len(again)]]


class TestWhoBorrows:
    def test_share_rises_with_risk_and_for_thin_files(self, people: list[Person]) -> None:
        person = dataclasses.replace(people[0], age=35, thin_file=False, occupation="salaried")
        by_risk = [p2p.share(dataclasses.replace(person, risk=risk)) for risk in (-1.0, 0.0, 1.0, 2.0)]
        assert by_risk == sorted(by_risk)
        assert by_risk[-1] > 4 * by_risk[1]
        assert p2p.share(dataclasses.replace(person, thin_file=True)) > p2p.share(person)
        assert p2p.share(dataclasses.replace(person, age=19)) == 0.0

    def test_customers_are_riskier_than_the_population(self, people: list[Person]) -> None:
        chosen = [p for p in people if is_customer(p, "p2p", ORG, SEED)]
        assert statistics.mean(p.risk for p in chosen) > statistics.mean(p.risk for p in people) + 0.4


class TestLoans:
    def test_terms_follow_the_product_type(self, customers: list[CustomerData]) -> None:
        for customer in customers:
            for record in _records(customer, "P2P-001"):
                lending = record.payload
                basic = _one(customer, "P2P-002", lending["lending_id"])
                assert lending["type"] in p2p.CODES["type"]
                assert basic["repay_method"] in p2p.CODES["repay_method"]
                assert Decimal(basic["offered_rate"]) < 20
                assert ("ltv_rate" in basic) == (lending["type"] == "02")
                assert (basic["repay_method"] == "01") == (lending["type"] == "02")

    def test_repayments_add_up_and_the_balance_is_what_is_left(self, customers: list[CustomerData]) -> None:
        for customer in customers:
            repayments: dict[str, list[dict[str, Any]]] = defaultdict(list)
            for record in _records(customer, "P2P-004"):
                repayments[record.key].append(record.payload)
            for record in _records(customer, "P2P-001"):
                lending_id, amount = record.payload["lending_id"], int(record.payload["lending_amt"])
                detail = _one(customer, "P2P-003", lending_id)
                paid = repayments[lending_id]
                for repayment in paid:
                    assert int(repayment["trans_amt"]) == int(repayment["principal_amt"]) + int(repayment["int_amt"])
                    assert repayment["repay_type"] in p2p.CODES["repay_type"]
                counts = [int(r["repay_cnt"]) for r in paid]
                assert counts == sorted(counts)
                assert len(counts) == len(set(counts))
                assert 0 < int(detail["balance_amt"]) <= amount
                if counts:  # the first unpaid instalment follows the last one paid
                    assert int(detail["next_repay_cnt"]) == max(counts) + 1

    def test_late_repayments_carry_overdue_interest(self, customers: list[CustomerData]) -> None:
        late = 0
        for customer in customers:
            issue = {r.payload["lending_id"]: _as_date(r.payload["issue_date"]) for r in _records(customer, "P2P-001")}
            for record in _records(customer, "P2P-004"):
                repayment = record.payload
                start = issue[record.key]
                due_month = add_months(start.replace(day=1), int(repayment["repay_cnt"]))
                paid_on = _as_date(repayment["trans_dtime"])
                due_day = min(28, start.day)
                on_due_date = (paid_on.year, paid_on.month, paid_on.day) == (due_month.year, due_month.month, due_day)
                assert (repayment["repay_type"] == "01") == on_due_date, repayment
                late += repayment["repay_type"] == "02"
        assert late > 5

    def test_borrowers_in_arrears_show_a_past_due_instalment(self, customers: list[CustomerData]) -> None:
        in_arrears = 0
        for customer in customers:
            for record in _records(customer, "P2P-003"):
                if "next_repay_date" in record.payload and _as_date(record.payload["next_repay_date"]) <= AS_OF:
                    in_arrears += 1
        assert in_arrears > 0
