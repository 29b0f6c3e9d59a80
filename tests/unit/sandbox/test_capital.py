"""The capital sandbox (할부금융-001…006): who is a customer, determinism, records that fit the catalogue and its
keys, loans and leases routed apart, repayments that add up, and delinquency that follows the latent risk."""

from __future__ import annotations

import dataclasses
import itertools
from decimal import Decimal
from typing import Any

import pytest

from openmydata.sandbox import capital
from openmydata.sandbox.institutions import generate_customers
from openmydata.sandbox.population import Person, generate_people
from openmydata.sandbox.timeline import Window
from openmydata.standard.apis import CATALOGUE
from openmydata.standard.apis.capital import LOAN, OPERATING_LEASE
from openmydata.standard.catalogue import Kind, selector_key
from openmydata.standard.dataset import CustomerData, StoredRecord

from .samples import AS_OF, SEED

ORG = "CAPSBX0001"
WINDOW = Window.ending(AS_OF)
DATA_KINDS = {Kind.ASSET_LIST, Kind.ASSET_INFO, Kind.RECORDS}
FUTURE_FIELDS = {"exp_date", "next_repay_date"}


@pytest.fixture(scope="module")
def people() -> list[Person]:
    return generate_people(1500, SEED, AS_OF)


@pytest.fixture(scope="module")
def customers(people: list[Person]) -> list[CustomerData]:
    return list(generate_customers(people, sector="capital", org_code=ORG, seed=SEED, as_of=AS_OF, validate=True))


def _records(customer: CustomerData, api_id: str, key: str | None = None) -> list[StoredRecord]:
    return [r for r in customer.records if r.api_id == api_id and (key is None or r.key == key)]


def _contracts(customer: CustomerData) -> list[tuple[str, dict[str, Any]]]:
    return [(f"{r.payload['account_num']}|{r.payload['seqno']}", r.payload) for r in _records(customer, "할부금융-001")]


def _parse(api_id: str, payload: dict[str, Any]) -> dict[str, Any]:
    spec = CATALOGUE[api_id]
    if spec.kind is Kind.ASSET_INFO:
        envelope = {"rsp_code": "00000", "rsp_msg": "정상"}
        wire = spec.response.model_validate({**payload, **envelope}).to_wire()
        return {k: v for k, v in wire.items() if k not in envelope}
    assert spec.record_model is not None
    return spec.record_model.model_validate(payload).to_wire()


class TestCustomers:
    def test_the_fast_output_equals_the_validated_output(
        self, people: list[Person], customers: list[CustomerData]
    ) -> None:
        fast = generate_customers(people, sector="capital", org_code=ORG, seed=SEED, as_of=AS_OF)
        assert [c.model_dump_json() for c in fast] == [c.model_dump_json() for c in customers]

    def test_same_inputs_give_the_same_customers_whatever_the_population_size(self, people: list[Person]) -> None:
        def run(count: int) -> list[str]:
            return [
                c.model_dump_json()
                for c in generate_customers(people[:count], sector="capital", org_code=ORG, seed=SEED, as_of=AS_OF)
            ]

        small = run(200)
        assert small
        assert small == run(200)
        assert run(500)[: len(small)] == small

    def test_car_owners_and_thin_files_are_likelier_customers(
        self, people: list[Person], customers: list[CustomerData]
    ) -> None:
        rate = len(customers) / len(people)
        assert 0.03 < rate < 0.12
        by_ci = {p.ci: p for p in people}
        owners = sum(capital.owns_car(p) for p in people) / len(people)
        assert 0.3 < owners < 0.7
        assert sum(capital.owns_car(by_ci[c.ci]) for c in customers) / len(customers) > owners
        prime = [p for p in people if 30 <= p.age <= 59]
        young = [p for p in people if p.age < 25]
        assert sum(map(capital.owns_car, prime)) / len(prime) > sum(map(capital.owns_car, young)) / len(young)
        person = next(p for p in people if 30 <= p.age <= 50 and not p.thin_file)
        assert capital.share(dataclasses.replace(person, thin_file=True)) > capital.share(person)
        assert capital.share(dataclasses.replace(person, risk=2.0)) > capital.share(
            dataclasses.replace(person, risk=-1)
        )

    def test_car_ownership_is_one_trait_of_the_person(self, people: list[Person]) -> None:
        person = people[0]
        assert capital.owns_car(person) == capital.owns_car(dataclasses.replace(person, index=999))
        assert capital.owns_car(dataclasses.replace(person, age=19)) is False

    def test_every_data_api_has_records(self, customers: list[CustomerData]) -> None:
        produced = {r.api_id for c in customers for r in c.records}
        assert produced == {spec.id for spec in CATALOGUE.sector("capital") if spec.kind in DATA_KINDS}
        types = {payload["account_type"] for c in customers for _, payload in _contracts(c)}
        assert {"3100", "3500", "3510", "3710"} <= types

    def test_every_payload_is_in_its_models_wire_form(self, customers: list[CustomerData]) -> None:
        for customer in customers:
            for record in customer.records:
                assert CATALOGUE[record.api_id].sector == "capital"
                assert _parse(record.api_id, record.payload) == record.payload

    def test_loans_and_operating_leases_get_their_own_apis(self, customers: list[CustomerData]) -> None:
        for customer in customers:
            for key, contract in _contracts(customer):
                assert contract["seqno"] in {"1", "2"}
                lease = OPERATING_LEASE(contract)
                assert lease != LOAN(contract)
                counts = {
                    api: len(_records(customer, api, key)) for api in ("할부금융-002", "할부금융-003", "할부금융-005")
                }
                assert counts == {
                    "할부금융-002": 0 if lease else 1,
                    "할부금융-003": 0 if lease else 1,
                    "할부금융-005": int(lease),
                }
                if lease:
                    assert not _records(customer, "할부금융-004", key)
                else:
                    assert not _records(customer, "할부금융-006", key)
            for record in customer.records:
                spec = CATALOGUE[record.api_id]
                if spec.source is not None:
                    sources = [c for _, c in _contracts(customer) if spec.source.where is None or spec.source.where(c)]
                    assert record.key in {selector_key(c, spec.key_fields) for c in sources}

    def test_a_second_drawdown_shares_the_account_number(self, customers: list[CustomerData]) -> None:
        pairs = 0
        for customer in customers:
            contracts = [payload for _, payload in _contracts(customer)]
            for contract in contracts:
                if contract["seqno"] == "2":
                    pairs += 1
                    first = [c for c in contracts if c["account_num"] == contract["account_num"] and c["seqno"] == "1"]
                    assert len(first) == 1
        assert pairs >= 3
        numbers = [(p["account_num"], p["seqno"]) for c in customers for _, p in _contracts(c)]
        assert len(numbers) == len(set(numbers))

    def test_dates_lie_in_the_window_and_contracts_still_run(self, customers: list[CustomerData]) -> None:
        first, last = WINDOW.start.strftime("%Y%m%d"), AS_OF.strftime("%Y%m%d")
        for customer in customers:
            for record in customer.records:
                spec = CATALOGUE[record.api_id]
                if spec.is_ranged:
                    assert first <= record.payload["trans_dtime"][:8] <= last
                for name, value in record.payload.items():
                    if name == "repay_date":  # a day of the month
                        assert 1 <= int(value) <= 28
                    elif name.endswith("_date") and name not in FUTURE_FIELDS:
                        assert value <= last, (record.api_id, name, value)
                    if name in FUTURE_FIELDS:
                        assert value > last, (record.api_id, name, value)
            assert customer.reg_date == min(
                r.payload["issue_date"] for r in customer.records if "issue_date" in r.payload
            )


class TestRepayments:
    def test_loan_balances_fall_by_the_principal_repaid(self, customers: list[CustomerData]) -> None:
        checked = 0
        for customer in customers:
            for key, contract in _contracts(customer):
                if OPERATING_LEASE(contract):
                    continue
                basic = _records(customer, "할부금융-002", key)[0].payload
                detail = _records(customer, "할부금융-003", key)[0].payload
                assert Decimal(detail["balance_amt"]) <= Decimal(detail["loan_principal"])
                assert Decimal("1") < Decimal(basic["last_offered_rate"]) < Decimal("20")
                repayments = [r.payload for r in _records(customer, "할부금융-004", key)]
                times = [t["trans_dtime"] for t in repayments]
                assert times == sorted(times)
                for t in repayments:
                    assert Decimal(t["trans_amt"]) == Decimal(t["principal_amt"]) + Decimal(t["int_amt"])
                    assert int(t["int_cnt"]) == len(t["int_list"])
                    overdue = [i for i in t["int_list"] if i["int_type"] == "02"]
                    assert bool(overdue) == (t["trans_type"] == "02")
                for previous, current in itertools.pairwise(repayments):
                    expected = Decimal(previous["balance_amt"]) - Decimal(current["principal_amt"])
                    assert Decimal(current["balance_amt"]) == expected
                    checked += 1
                if repayments:
                    assert repayments[-1]["balance_amt"] == detail["balance_amt"]
        assert checked > 300

    def test_leases_pay_a_fixed_fee_after_a_deposit(self, customers: list[CustomerData]) -> None:
        leases = 0
        for customer in customers:
            for key, contract in _contracts(customer):
                if not OPERATING_LEASE(contract):
                    continue
                leases += 1
                basic = _records(customer, "할부금융-005", key)[0].payload
                payments = [r.payload for r in _records(customer, "할부금융-006", key)]
                on_time = {t["trans_amt"] for t in payments if t["trans_type"] == "01"}
                assert len(on_time) <= 1
                for t in payments:
                    if t["trans_type"] == "03":
                        assert t["trans_dtime"][:8] == basic["issue_date"]
                    if t["trans_type"] == "02" and on_time:
                        assert Decimal(t["trans_amt"]) > Decimal(next(iter(on_time)))  # overdue interest
        assert leases >= 3

    def test_riskier_people_repay_late_more_often(self, people: list[Person], customers: list[CustomerData]) -> None:
        by_ci = {p.ci: p for p in people}
        counts = {True: [0, 0], False: [0, 0]}  # risky -> [late, all]
        for customer in customers:
            risky = by_ci[customer.ci].risk > 0.5
            for record in customer.records:
                if record.api_id in {"할부금융-004", "할부금융-006"} and record.payload["trans_type"] in {"01", "02"}:
                    counts[risky][0] += record.payload["trans_type"] == "02"
                    counts[risky][1] += 1
        assert counts[True][1] > 50
        assert counts[False][1] > 50
        assert counts[True][0] / counts[True][1] > counts[False][0] / counts[False][1]
