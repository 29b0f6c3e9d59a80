"""The latent risk must show up in the data a credit scorer collects, at every institution."""

from __future__ import annotations

import statistics
from collections import defaultdict
from decimal import Decimal

import pytest

from openmydata.sandbox.institutions import generate_customers
from openmydata.sandbox.population import Person, generate_people
from openmydata.standard.dataset import CustomerData

from .samples import AS_OF, ORG_CODES, SEED

PEOPLE = 2000


@pytest.fixture(scope="module")
def people() -> list[Person]:
    return generate_people(PEOPLE, SEED, AS_OF)


@pytest.fixture(scope="module")
def bank_customers(people: list[Person]) -> list[CustomerData]:
    return list(generate_customers(people, sector="bank", org_code=ORG_CODES["bank"], seed=SEED, as_of=AS_OF))


def _quartiles(people: list[Person]) -> tuple[set[str], set[str]]:
    ranked = sorted(people, key=lambda person: person.risk)
    quarter = len(ranked) // 4
    return {p.ci for p in ranked[:quarter]}, {p.ci for p in ranked[-quarter:]}


def _months_short(customer: CustomerData) -> int:
    """Charge months in which a line's bill was not paid in full within the month (통신-002 vs 통신-003)."""
    paid: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for record in customer.records:
        if record.api_id == "통신-003":
            paid[(record.key, record.payload["trans_month"])] += Decimal(record.payload["paid_amt"])
    return sum(
        1
        for record in customer.records
        if record.api_id == "통신-002"
        and paid[(record.payload["mgmt_id"], record.period)] < Decimal(record.payload["charge_amt"])
    )


def _late_repayments(customer: CustomerData) -> int:
    return sum(1 for r in customer.records if r.api_id == "은행-010" and r.payload["trans_type"] == "02")


class TestLatentRisk:
    def test_riskier_people_pay_telecom_bills_late_more_often(self, people: list[Person]) -> None:
        safe, risky = _quartiles(people)
        short = {
            customer.ci: _months_short(customer)
            for customer in generate_customers(
                people, sector="telecom", org_code=ORG_CODES["telecom"], seed=SEED, as_of=AS_OF
            )
        }
        risky_mean = statistics.mean(short[ci] for ci in risky if ci in short)
        safe_mean = statistics.mean(short[ci] for ci in safe if ci in short)
        assert risky_mean > 3 * safe_mean
        assert risky_mean - safe_mean > 0.5

    def test_riskier_borrowers_repay_loans_late_more_often(
        self, people: list[Person], bank_customers: list[CustomerData]
    ) -> None:
        safe, risky = _quartiles(people)
        late = {
            customer.ci: _late_repayments(customer)
            for customer in bank_customers
            if any(record.api_id == "은행-008" for record in customer.records)
        }
        risky_late = [late[ci] for ci in risky if ci in late]
        safe_late = [late[ci] for ci in safe if ci in late]
        assert len(risky_late) > 50
        assert len(safe_late) > 50
        assert statistics.mean(risky_late) > 3 * statistics.mean(safe_late)
        assert statistics.mean(risky_late) - statistics.mean(safe_late) > 0.5

    def test_riskier_people_borrow_more_often(self, people: list[Person], bank_customers: list[CustomerData]) -> None:
        safe, risky = _quartiles(people)
        borrowers = {
            customer.ci
            for customer in bank_customers
            if any(r.api_id == "은행-001" and r.payload["account_type"] == "3100" for r in customer.records)
        }
        assert len(borrowers & risky) > 1.5 * len(borrowers & safe)
