"""개인형 IRP accounts in the sandbox: one generator for banks, investment firms and insurers, held by a plausible
share of their customers (older and salaried people more), consistent within the account, and leaving each
institution's other records as they were."""

from __future__ import annotations

import dataclasses
import statistics
from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from openmydata.sandbox import irp
from openmydata.sandbox.institutions import SectorName, customer_lines, generate_customers
from openmydata.sandbox.population import Person, generate_people
from openmydata.sandbox.records import RecordSink
from openmydata.sandbox.timeline import Window
from openmydata.standard.apis import CATALOGUE
from openmydata.standard.catalogue import Catalogue, Kind
from openmydata.standard.dataset import CustomerData, StoredRecord, dump_lines

SEED = 20240917
AS_OF = date(2025, 6, 30)
WINDOW = Window.ending(AS_OF)
ORGS: dict[SectorName, str] = {"bank": "A1IRPB0000", "invest": "C1IRPI0000", "insu": "L1IRPS0000"}
SECTORS: tuple[SectorName, ...] = ("bank", "invest", "insu")
IRP_IDS = {"IRP-001", "IRP-002", "IRP-003", "IRP-004"}
WITHOUT_IRP = Catalogue([spec for spec in CATALOGUE if spec.id not in IRP_IDS])


@pytest.fixture(scope="module")
def people() -> list[Person]:
    return generate_people(1500, SEED, AS_OF)


@pytest.fixture(scope="module")
def customers(people: list[Person]) -> dict[str, list[CustomerData]]:
    return {
        sector: list(
            generate_customers(people, sector=sector, org_code=ORGS[sector], seed=SEED, as_of=AS_OF, validate=True)
        )
        for sector in SECTORS
    }


def _records(customer: CustomerData, api_id: str) -> list[StoredRecord]:
    return [record for record in customer.records if record.api_id == api_id]


def _holders(customers: list[CustomerData]) -> list[CustomerData]:
    return [customer for customer in customers if _records(customer, "IRP-001")]


def _by_ci(people: list[Person]) -> dict[str, Person]:
    return {person.ci: person for person in people}


class TestWhoHoldsOne:
    def test_share_by_age_occupation_income_and_industry(self, people: list[Person]) -> None:
        base = dataclasses.replace(people[0], occupation="salaried", thin_file=False, income_level=0.0)
        by_age = [irp.share(dataclasses.replace(base, age=age), "bank") for age in (22, 27, 37, 45, 57)]
        assert by_age == sorted(by_age)
        assert irp.share(dataclasses.replace(base, age=70), "bank") < irp.share(
            dataclasses.replace(base, age=55), "bank"
        )
        salaried = irp.share(dataclasses.replace(base, age=45), "bank")
        for other in ("self_employed", "homemaker", "student"):
            assert irp.share(dataclasses.replace(base, age=45, occupation=other), "bank") < salaried
        richer = irp.share(dataclasses.replace(base, age=45, income_level=1.5), "bank")
        assert richer > salaried
        assert irp.share(dataclasses.replace(base, age=45), "invest") > salaried > irp.share(base, "insu")
        assert irp.share(dataclasses.replace(base, age=18), "bank") == 0.0
        assert irp.share(base, "card") == 0.0

    @pytest.mark.parametrize(
        ("sector", "low", "high"), [("bank", 0.04, 0.15), ("invest", 0.04, 0.25), ("insu", 0.01, 0.06)]
    )
    def test_a_plausible_share_of_customers_hold_one(
        self, customers: dict[str, list[CustomerData]], sector: str, low: float, high: float
    ) -> None:
        share = len(_holders(customers[sector])) / len(customers[sector])
        assert low < share < high, share

    def test_holders_are_older_and_more_often_salaried(
        self, people: list[Person], customers: dict[str, list[CustomerData]]
    ) -> None:
        persons = _by_ci(people)
        holders = [persons[c.ci] for c in _holders(customers["bank"])]
        others = [persons[c.ci] for c in customers["bank"] if not _records(c, "IRP-001")]
        assert statistics.mean(p.age for p in holders) > statistics.mean(p.age for p in others) + 3
        salaried = [sum(p.occupation == "salaried" for p in group) / len(group) for group in (holders, others)]
        assert salaried[0] > salaried[1] + 0.15


class TestRecords:
    @pytest.mark.parametrize("sector", SECTORS)
    def test_every_irp_api_gets_records_and_each_holder_has_one_account(
        self, customers: dict[str, list[CustomerData]], sector: str
    ) -> None:
        holders = _holders(customers[sector])
        assert {r.api_id for c in holders for r in c.records if r.api_id in IRP_IDS} == IRP_IDS
        numbers = [r.payload["account_num"] for c in holders for r in _records(c, "IRP-001")]
        assert len(numbers) == len(holders) == len(set(numbers))
        for customer in holders:
            [listed] = _records(customer, "IRP-001")
            assert listed.key == ""
            assert listed.payload["account_status"] in irp.CODES["account_status"]
            key = f"{listed.payload['account_num']}|"
            assert {r.key for r in customer.records if r.api_id in IRP_IDS - {"IRP-001"}} <= {key}
            assert len(_records(customer, "IRP-002")) == 1

    @pytest.mark.parametrize("sector", SECTORS)
    def test_amounts_add_up(self, customers: dict[str, list[CustomerData]], sector: str) -> None:
        risky_shares = []
        for customer in _holders(customers[sector]):
            [basic] = [r.payload for r in _records(customer, "IRP-002")]
            products = [r.payload for r in _records(customer, "IRP-003")]
            accumulated = int(basic["accum_amt"])
            assert 0 <= accumulated <= int(basic["employer_amt"]) + int(basic["employee_amt"])
            assert sum(int(p["inv_principal"]) for p in products) == accumulated
            assert sum(int(p["eval_amt"]) for p in products) == int(basic["eval_amt"])
            risky = sum(int(p["inv_principal"]) for p in products if p["irp_type"] == "02")
            assert risky <= irp.RISKY_CAP * accumulated + 1000
            if accumulated:
                risky_shares.append(risky / accumulated)
            for product in products:
                assert product["irp_type"] in irp.CODES["irp_type"]
                assert basic["issue_date"] <= product["open_date"] <= AS_OF.strftime("%Y%m%d")
                if product["irp_type"] == "01":
                    assert product["exp_date"] > AS_OF.strftime("%Y%m%d")
                    assert Decimal(product["int_rate"]) > 0
                    assert int(product["eval_amt"]) >= int(product["inv_principal"])
                    assert "fund_num" not in product
                elif product["irp_type"] == "02":
                    assert int(product["fund_num"]) > 0
                    assert "int_rate" not in product
            names = [(p["irp_name"], p["open_date"]) for p in products]
            assert len(names) == len(set(names))
        assert statistics.mean(risky_shares) > 0.05

    def test_investment_firms_hold_more_funds_than_insurers(self, customers: dict[str, list[CustomerData]]) -> None:
        def risky(sector: str) -> float:
            principal: dict[str, int] = defaultdict(int)
            for customer in _holders(customers[sector]):
                for record in _records(customer, "IRP-003"):
                    principal[record.payload["irp_type"]] += int(record.payload["inv_principal"])
            return principal["02"] / sum(principal.values())

        assert risky("invest") > risky("bank") > risky("insu")

    @pytest.mark.parametrize("sector", SECTORS)
    def test_dates_and_flows(self, people: list[Person], customers: dict[str, list[CustomerData]], sector: str) -> None:
        persons = _by_ci(people)
        first, last = WINDOW.start.strftime("%Y%m%d"), AS_OF.strftime("%Y%m%d")
        kinds: set[str] = set()
        for customer in _holders(customers[sector]):
            [basic] = [r.payload for r in _records(customer, "IRP-002")]
            # the account opened after the customer's first product here: reg_date is still that product's date
            assert customer.reg_date is not None
            assert customer.reg_date <= basic["issue_date"] <= last
            assert basic["issue_date"] >= "20120726"
            if "first_deposit_date" in basic:
                assert basic["issue_date"] <= basic["first_deposit_date"] <= last
            else:
                assert basic["accum_amt"] == basic["employer_amt"] == basic["employee_amt"] == "0"
            transactions = [r.payload for r in _records(customer, "IRP-004")]
            assert [t["trans_dtime"] for t in transactions] == sorted(t["trans_dtime"] for t in transactions)
            assert [t["trans_no"] for t in transactions] == [f"{n:08d}" for n in range(1, len(transactions) + 1)]
            for transaction in transactions:
                assert first <= transaction["trans_dtime"][:8] <= last
                assert transaction["trans_type"] in irp.CODES["trans_type"]
                assert int(transaction["trans_amt"]) > 0
                kinds.add(transaction["trans_type"])
                if transaction["trans_type"] == "02":  # pensions are paid from 55
                    assert persons[customer.ci].age >= 55
        assert "01" in kinds

    def test_pensions_are_paid_out_somewhere(self, customers: dict[str, list[CustomerData]]) -> None:
        paid = [r for sector in SECTORS for c in customers[sector] for r in _records(c, "IRP-004")]
        assert {r.payload["trans_type"] for r in paid} == {"01", "02"}


class TestDeterminism:
    @pytest.mark.parametrize("sector", SECTORS)
    def test_other_records_are_those_generated_without_irp(self, people: list[Person], sector: SectorName) -> None:
        kwargs: dict[str, Any] = {"sector": sector, "org_code": ORGS[sector], "seed": SEED, "as_of": AS_OF}
        with_irp = list(generate_customers(people[:400], **kwargs))
        without = list(generate_customers(people[:400], catalogue=WITHOUT_IRP, **kwargs))
        assert any(_records(c, "IRP-001") for c in with_irp)
        assert not any(_records(c, "IRP-001") for c in without)
        stripped = [
            c.model_copy(update={"records": [r for r in c.records if r.api_id not in IRP_IDS]}) for c in with_irp
        ]
        assert [c.model_dump_json() for c in stripped] == [c.model_dump_json() for c in without]

    @pytest.mark.parametrize("sector", SECTORS)
    def test_fast_output_and_lines_equal_the_validated_output(
        self, people: list[Person], customers: dict[str, list[CustomerData]], sector: SectorName
    ) -> None:
        kwargs: dict[str, Any] = {"sector": sector, "org_code": ORGS[sector], "seed": SEED, "as_of": AS_OF}
        some = people[:700]
        chosen = {person.ci for person in some}
        strict = [customer for customer in customers[sector] if customer.ci in chosen]
        assert _holders(strict)
        fast = list(generate_customers(some, **kwargs))
        assert [c.model_dump_json() for c in fast] == [c.model_dump_json() for c in strict]
        assert [line.decode("utf-8") for line, _ in customer_lines(some, **kwargs)] == list(dump_lines(strict))

    def test_an_account_depends_on_the_person_and_institution_not_on_the_population(
        self, people: list[Person], customers: dict[str, list[CustomerData]]
    ) -> None:
        again = list(generate_customers(people[:300], sector="bank", org_code=ORGS["bank"], seed=SEED, as_of=AS_OF))
        assert [c.model_dump_json() for c in again] == [c.model_dump_json() for c in customers["bank"][: len(again)]]
        other = list(generate_customers(people[:300], sector="bank", org_code="A1IRPC0000", seed=SEED, as_of=AS_OF))
        mine = {c.ci: {r.payload["account_num"] for r in _records(c, "IRP-001")} for c in again}
        theirs = {c.ci: {r.payload["account_num"] for r in _records(c, "IRP-001")} for c in other}
        assert {ci for ci, nums in mine.items() if nums} != {ci for ci, nums in theirs.items() if nums}

    def test_the_generator_alone_is_deterministic(self, people: list[Person]) -> None:
        holder = next(p for p in people if irp.irp_account(p, "invest", ORGS["invest"], SEED, AS_OF).holds)
        first = irp.irp_account(holder, "invest", ORGS["invest"], SEED, AS_OF)
        second = irp.irp_account(holder, "invest", ORGS["invest"], SEED, AS_OF)
        assert first.holds
        assert second.holds
        sinks = [RecordSink("invest"), RecordSink("invest")]
        assert first.build(sinks[0], earliest=date(2015, 1, 1))
        assert second.build(sinks[1], earliest=date(2015, 1, 1))
        assert sinks[0].rows == sinks[1].rows
        assert {row["api_id"] for row in sinks[0].rows} <= IRP_IDS
        assert all(
            CATALOGUE[row["api_id"]].kind in {Kind.ASSET_LIST, Kind.ASSET_INFO, Kind.RECORDS} for row in sinks[0].rows
        )
