"""One capital-company customer's data: 할부금융-001…006 records.

Who is a customer (`share`): mostly car owners financing a car — new-car (3500) and used-car (3510) instalment
loans, finance leases (3700) and operating leases (3710, more among higher incomes) — and people with thinner
credit or higher risk taking a credit loan (3100) at a capital company's higher rate. Car ownership is one
latent trait per person (`owns_car`, derived from the person's CI, age and income), so every capital company
sees the same car owners.

Loans repay monthly (원리금균등, repay_method 02) from the month after issue; leases pay a fixed monthly lease fee
(repay_method 04) after a deposit (보증금) paid at the start. Repayments follow `behaviour.payment_states` with
`CAPITAL_LOAN` bases (a little worse than bank loans): riskier people pay late (trans_type 02, with overdue
interest) or miss months, and arrears are paid with the next payment. Each contract is its own account_num with
seqno 1; some credit-loan customers drew a second loan under the same account (seqno 2).

Only contracts still running at as_of are listed. repay_org_code / repay_account_num (the debited bank account)
are left out: the sandbox does not know the person's bank org codes. Codes the digest leaves unconfirmed are
the sandbox's reading, listed in `CODES`.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from openmydata.kit.clock import add_months
from openmydata.sandbox import behaviour
from openmydata.sandbox.population import Person, derive_rng, permute
from openmydata.sandbox.records import RecordSink
from openmydata.sandbox.timeline import Window, dtime, month_day, seconds_between

CODES: dict[str, dict[str, str]] = {
    "account_type": {
        "3100": "신용대출 (credit loan)",
        "3500": "신차 할부금융 (new-car instalment loan)",
        "3510": "중고차 할부금융 (used-car instalment loan)",
        "3700": "금융리스 (finance lease)",
        "3710": "운용리스 (operating lease)",
    },
    "account_status": {"01": "활동 (active)"},
    "repay_method": {"02": "원리금균등분할상환 (annuity)", "04": "리스료 균등납부 (equal lease payments)"},
    "loan trans_type": {"01": "약정상환 (on time)", "02": "연체상환 (after the due date)"},
    "lease trans_type": {
        "01": "리스료 납입 (on time)",
        "02": "리스료 연체납입 (after the due date, overdue interest included)",
        "03": "보증금 납입 (deposit at the start)",
    },
    "int_type": {"01": "정상이자 (normal interest)", "02": "연체이자 (overdue interest)"},
}

CAPITAL_LOAN = (-4.0, -3.0)  # behaviour bases (miss, late): a little worse than bank loans (-4.6, -3.4)
OVERDUE_SPREAD = Decimal(3)  # 연체가산금리: contract rate + 3 percentage points
LEASE_OVERDUE_RATE = Decimal("15.0")  # yearly, on an overdue lease fee
MAX_RATE = 19.9  # below the 20% legal maximum

# (model, new-car price in KRW)
CAR_MODELS: tuple[tuple[str, int], ...] = (
    ("기아 모닝", 14_000_000),
    ("기아 레이", 15_500_000),
    ("현대 아반떼", 22_000_000),
    ("현대 캐스퍼", 16_000_000),
    ("기아 K5", 28_000_000),
    ("현대 쏘나타", 30_000_000),
    ("현대 투싼", 31_000_000),
    ("기아 스포티지", 31_000_000),
    ("현대 그랜저", 41_000_000),
    ("기아 쏘렌토", 38_000_000),
    ("현대 싼타페", 39_000_000),
    ("기아 카니발", 41_000_000),
    ("현대 팰리세이드", 46_000_000),
    ("기아 EV6", 50_000_000),
    ("테슬라 모델Y", 55_000_000),
    ("제네시스 G80", 62_000_000),
    ("제네시스 GV80", 75_000_000),
    ("BMW 520i", 70_000_000),
    ("벤츠 E300", 82_000_000),
)
PRODUCT_NAMES = {
    "3100": ("다이렉트 신용대출", "개인 신용대출", "직장인 신용대출"),
    "3500": ("오토할부 신차", "신차 다이렉트 할부"),
    "3510": ("중고차 오토론", "중고차 할부"),
    "3700": ("자동차 금융리스",),
    "3710": ("오토리스 (운용리스)", "다이렉트 운용리스"),
}
REPAY_DAYS = (5, 10, 15, 20, 25)


def owns_car(person: Person) -> bool:
    """The person's latent car ownership: a per-person uniform draw (from the CI, so the same at every
    institution) below a probability rising with income and through working age."""
    if person.age < 20:
        return False
    digest = hashlib.sha256(f"openmydata-car:{person.ci}".encode()).digest()
    draw = int.from_bytes(digest[:8], "big") / 2**64
    age_effect = -1.2 if person.age < 25 else 0.5 if person.age < 60 else -0.1 if person.age < 70 else -0.9
    return draw < behaviour.logistic(-0.2 + 0.7 * person.income_level + age_effect)


def _rate(value: float) -> Decimal:
    return Decimal(f"{min(MAX_RATE, value):.2f}")


@dataclass
class _Contract:
    account_num: str
    seqno: str
    account_type: str
    prod_name: str
    issue: date
    term: int  # months
    principal: int  # loans: the amount lent; leases: the monthly lease fee
    rate: Decimal = Decimal(0)
    repay_day: int = 15
    deposit: int = 0  # leases: 보증금
    balance: int = 0
    next_repay_date: date | None = None
    transactions: list[dict[str, Any]] = field(default_factory=list)

    @property
    def lease(self) -> bool:
        return self.account_type == "3710"

    @property
    def exp(self) -> date:
        return add_months(self.issue, self.term)


class CapitalCustomer:
    """Generates one person's contracts at one capital company."""

    def __init__(self, person: Person, org_code: str, seed: int, as_of: date):
        self.person = person
        self.org_code = org_code
        self.seed = seed
        self.as_of = as_of
        self.window = Window.ending(as_of)
        self.rng = derive_rng(seed, "capital", org_code, person.index)
        self._accounts = 0

    def build(self, sink: RecordSink) -> dict[str, str]:
        """Add the customer's records to `sink`; returns the customer fields of `CustomerData` (no records)."""
        person = self.person
        contracts = self._contracts()
        listed = [
            sink.add(
                "할부금융-001",
                {
                    "account_num": contract.account_num,
                    "is_consent": False,
                    "seqno": contract.seqno,
                    "prod_name": contract.prod_name,
                    "account_type": contract.account_type,
                    "account_status": "01",
                },
            )
            for contract in contracts
        ]
        for contract, source in zip(contracts, listed, strict=True):
            if contract.lease:
                self._lease_records(sink, contract, source)
            else:
                self._loan_records(sink, contract, source)
        return {
            "ci": person.ci,
            "name": person.name,
            "birth_date": person.birth_date,
            "phone": person.phone,
            "reg_date": min(contract.issue for contract in contracts).strftime("%Y%m%d"),
        }

    # contracts -----------------------------------------------------------------------------------------
    def _account_num(self) -> str:
        # a per-company permutation of the person (8 digits) + a contract sequence (2): unique per company
        self._accounts += 1
        scrambled = permute(self.person.index, 10**8, self.seed, "capital", self.org_code)
        return f"{scrambled:08d}{self._accounts:02d}"

    def _contracts(self) -> list[_Contract]:
        person, rng = self.person, self.rng
        contracts: list[_Contract] = []
        if owns_car(person) and rng.random() < 0.85:
            contracts.append(self._car_contract())
        credit_wanted = behaviour.logistic(-1.6 + 0.9 * person.risk + (0.6 if person.thin_file else 0.0))
        if not contracts or rng.random() < credit_wanted * 0.5:
            contracts.extend(self._credit_loans())
        return contracts

    def _car_kind(self) -> str:
        person, rng = self.person, self.rng
        if person.income_level > 0.6 and rng.random() < 0.15 + 0.15 * person.income_level:
            return "3710"
        if rng.random() < 0.05:
            return "3700"
        used = behaviour.logistic(
            -0.4 + 0.8 * person.risk - 0.6 * person.income_level + (0.6 if person.age < 30 else 0)
        )
        return "3510" if rng.random() < used else "3500"

    def _car_contract(self) -> _Contract:
        person, rng = self.person, self.rng
        kind = self._car_kind()
        affordable = person.annual_income * (0.6 + 0.4 * rng.random())
        models = [m for m in CAR_MODELS if m[1] <= max(affordable * (1.6 if kind == "3510" else 1.0), 16_000_000)]
        model, new_price = rng.choice(models)
        price = new_price if kind != "3510" else int(new_price * rng.uniform(0.35, 0.7))
        term = rng.choice((24, 36, 48) if kind == "3510" else (36, 48, 60))
        issue = self._issue(term)
        name = f"{rng.choice(PRODUCT_NAMES[kind])} - {model}"
        contract = _Contract(self._account_num(), "1", kind, name, issue, term, 0, repay_day=rng.choice(REPAY_DAYS))
        if kind == "3710":
            residual = rng.uniform(0.4, 0.6)
            contract.deposit = int(price * rng.choice((0.0, 0.1, 0.2, 0.3)) / 100_000) * 100_000
            rate = rng.uniform(0.05, 0.08)
            monthly = (price - contract.deposit) * ((1 - residual) / term + rate / 12)
            contract.principal = int(monthly / 1000) * 1000
            self._lease_payments(contract)
            return contract
        down = rng.choice((0.0, 0.1, 0.2, 0.3)) if kind != "3700" else 0.0
        contract.principal = max(3_000_000, int(price * (1 - down) / 100_000) * 100_000)
        risk_premium = 1.2 * max(0.0, person.risk) + (0.8 if person.thin_file else 0.0)
        if kind == "3500":
            base = rng.uniform(4.5, 6.5)
        elif kind == "3510":
            base = rng.uniform(7.5, 11.0)
        else:
            base = rng.uniform(5.0, 7.5)
        contract.rate = _rate(base + risk_premium)
        self._loan_repayments(contract)
        return contract

    def _credit_loans(self) -> list[_Contract]:
        person, rng = self.person, self.rng
        term = rng.choice((24, 36, 48, 60))
        principal = max(3_000_000, min(50_000_000, int(person.annual_income * rng.uniform(0.1, 0.5) / 1e6) * 1_000_000))
        rate = _rate(10.0 + 2.5 * max(0.0, person.risk + 0.5) + (1.5 if person.thin_file else 0.0) + rng.uniform(-1, 1))
        name = rng.choice(PRODUCT_NAMES["3100"])
        first = _Contract(
            self._account_num(), "1", "3100", name, self._issue(term), term, principal, rate, rng.choice(REPAY_DAYS)
        )
        self._loan_repayments(first)
        loans = [first]
        if rng.random() < 0.25:
            # a second drawdown under the same account (추가대출), numbered by seqno
            extra_term = rng.choice((12, 24, 36))
            extra = _Contract(
                first.account_num,
                "2",
                "3100",
                f"{name} (추가대출)",
                self._issue(extra_term, after=first.issue),
                extra_term,
                max(1_000_000, int(principal * rng.uniform(0.2, 0.5) / 1e6) * 1_000_000),
                _rate(float(rate) + rng.uniform(0.0, 1.5)),
                first.repay_day,
            )
            self._loan_repayments(extra)
            loans.append(extra)
        return loans

    def _issue(self, term: int, after: date | None = None) -> date:
        """An issue date leaving the contract running at as_of (fewer than `term` dues up to as_of), at least
        10 days ago, and after `after` when given."""
        earliest = add_months(self.as_of, -(term - 1))
        if after is not None:
            earliest = max(earliest, after + timedelta(days=1))
        latest = self.as_of - timedelta(days=10)
        if earliest >= latest:
            return latest
        return earliest + timedelta(days=self.rng.randint(0, (latest - earliest).days))

    # repayments -------------------------------------------------------------------------------------------
    def _dues(self, contract: _Contract) -> list[date]:
        """Due dates from the month after issue up to as_of; sets the next one."""
        dues: list[date] = []
        number = 1
        while number <= contract.term:
            month = add_months(contract.issue, number)
            due = month_day(month.year, month.month, contract.repay_day)
            if due > self.as_of:
                contract.next_repay_date = due
                break
            dues.append(due)
            number += 1
        return dues

    def _installment(self, contract: _Contract, number: int, balance: int) -> tuple[int, int]:
        """(principal, interest) of repayment `number` of an annuity loan on `balance`."""
        monthly_rate = float(contract.rate) / 100 / 12
        interest = round(balance * monthly_rate)
        if number >= contract.term:
            return balance, interest
        payment = contract.principal * monthly_rate / (1 - (1 + monthly_rate) ** -contract.term)
        return min(balance, max(0, round(payment) - interest)), interest

    def _loan_repayments(self, contract: _Contract) -> None:
        """Monthly annuity dues; dues before the window were paid on time."""
        rng = self.rng
        dues = self._dues(contract)
        balance = contract.principal
        in_window = [due for due in dues if due >= self.window.start]
        states = iter(behaviour.payment_states(rng, self.person.risk, len(in_window), CAPITAL_LOAN))
        arrears: list[tuple[date, date, int, int]] = []  # (period start, due, principal, interest)
        previous = contract.issue
        owed = balance
        for number, due in enumerate(dues, start=1):
            principal, interest = self._installment(contract, number, owed)
            owed -= principal
            period = (previous, due, principal, interest)
            previous = due
            if due < self.window.start:
                balance -= principal
                continue
            state = next(states)
            if state is behaviour.PaymentState.MISSED:
                arrears.append(period)
                continue
            late_days = 0 if state is behaviour.PaymentState.ON_TIME else rng.randint(1, 12 if arrears else 20)
            paid_on = due + timedelta(days=late_days)
            if paid_on > self.as_of:
                arrears.append(period)
                continue
            balance = self._repay(contract, [*arrears, period], paid_on, late_days > 0, balance)
            arrears = []
        contract.balance = balance

    def _repay(
        self, contract: _Contract, periods: list[tuple[date, date, int, int]], paid_on: date, late: bool, balance: int
    ) -> int:
        """One repayment covering `periods` (arrears first); returns the balance after it."""
        principal = sum(p[2] for p in periods)
        interest = sum(p[3] for p in periods)
        int_list: list[dict[str, Any]] = [
            {
                "int_start_date": start.strftime("%Y%m%d"),
                "int_end_date": (due - timedelta(days=1)).strftime("%Y%m%d"),
                "int_rate": contract.rate,
                "int_type": "01",
            }
            for start, due, _, _ in periods
        ]
        overdue = 0
        if late:
            overdue_rate = min(Decimal("20.0"), contract.rate + OVERDUE_SPREAD)
            for _, due, part_principal, part_interest in periods:
                days = (paid_on - due).days
                overdue += round((part_principal + part_interest) * float(overdue_rate) / 100 * days / 365)
            int_list.append(
                {
                    "int_start_date": periods[0][1].strftime("%Y%m%d"),
                    "int_end_date": (paid_on - timedelta(days=1)).strftime("%Y%m%d"),
                    "int_rate": overdue_rate,
                    "int_type": "02",
                }
            )
        balance -= principal
        seconds = seconds_between(self.rng, 9, 20) if late else seconds_between(self.rng, 5, 7)
        contract.transactions.append(
            {
                "trans_dtime": dtime(paid_on, seconds),
                "trans_no": f"{contract.seqno}{len(contract.transactions) + 1:06d}",
                "trans_type": "02" if late else "01",
                "trans_amt": principal + interest + overdue,
                "balance_amt": balance,
                "principal_amt": principal,
                "int_amt": interest + overdue,
                "int_cnt": len(int_list),
                "int_list": int_list,
            }
        )
        return balance

    def _lease_payments(self, contract: _Contract) -> None:
        """The deposit at the start (when inside the window) and the monthly lease fees, late ones with overdue
        interest, missed ones paid with the next."""
        rng = self.rng
        if contract.deposit and contract.issue in self.window:
            self._lease_transaction(contract, contract.issue, seconds_between(rng, 10, 16), "03", contract.deposit)
        dues = [due for due in self._dues(contract) if due >= self.window.start]
        states = behaviour.payment_states(rng, self.person.risk, len(dues), CAPITAL_LOAN)
        arrears: list[date] = []
        for due, state in zip(dues, states, strict=True):
            if state is behaviour.PaymentState.MISSED:
                arrears.append(due)
                continue
            late_days = 0 if state is behaviour.PaymentState.ON_TIME else rng.randint(1, 12 if arrears else 20)
            paid_on = due + timedelta(days=late_days)
            if paid_on > self.as_of:
                arrears.append(due)
                continue
            owed = [*arrears, due]
            amount = contract.principal * len(owed)
            if late_days:
                overdue = sum((paid_on - day).days for day in owed) * contract.principal * LEASE_OVERDUE_RATE / 36_500
                amount += math.floor(overdue)
            seconds = seconds_between(rng, 9, 20) if late_days else seconds_between(rng, 5, 7)
            self._lease_transaction(contract, paid_on, seconds, "02" if late_days else "01", amount)
            arrears = []

    @staticmethod
    def _lease_transaction(contract: _Contract, day: date, seconds: int, trans_type: str, amount: int) -> None:
        contract.transactions.append(
            {
                "trans_dtime": dtime(day, seconds),
                "trans_no": f"{contract.seqno}{len(contract.transactions) + 1:06d}",
                "trans_type": trans_type,
                "trans_amt": amount,
            }
        )

    # records ---------------------------------------------------------------------------------------------
    def _loan_records(self, sink: RecordSink, contract: _Contract, source: dict[str, Any]) -> None:
        sink.add(
            "할부금융-002",
            {
                "holder_name": self.person.name,
                "issue_date": contract.issue.strftime("%Y%m%d"),
                "exp_date": contract.exp.strftime("%Y%m%d"),
                "last_offered_rate": contract.rate,
                "repay_date": f"{contract.repay_day:02d}",
                "repay_method": "02",
            },
            source=source,
        )
        detail: dict[str, Any] = {"balance_amt": contract.balance, "loan_principal": contract.principal}
        if contract.next_repay_date is not None:
            detail["next_repay_date"] = contract.next_repay_date.strftime("%Y%m%d")
        sink.add("할부금융-003", detail, source=source)
        for transaction in contract.transactions:
            sink.add("할부금융-004", transaction, source=source)

    def _lease_records(self, sink: RecordSink, contract: _Contract, source: dict[str, Any]) -> None:
        basic: dict[str, Any] = {
            "holder_name": self.person.name,
            "issue_date": contract.issue.strftime("%Y%m%d"),
            "exp_date": contract.exp.strftime("%Y%m%d"),
            "repay_date": f"{contract.repay_day:02d}",
            "repay_method": "04",
        }
        if contract.next_repay_date is not None:
            basic["next_repay_date"] = contract.next_repay_date.strftime("%Y%m%d")
        sink.add("할부금융-005", basic, source=source)
        for transaction in contract.transactions:
            sink.add("할부금융-006", transaction, source=source)


def share(person: Person) -> float:
    """The probability that `person` is a customer of one capital company: car owners financing a car, and
    people with thinner credit or higher risk borrowing at a capital company's rates."""
    if person.age < 20 or person.age > 78:
        return 0.005
    thin = 1.4 if person.thin_file else 1.0
    car = 0.07 * thin * (1.0 + 0.3 * max(0.0, person.risk)) if owns_car(person) else 0.0
    credit = 0.04 * thin * behaviour.logistic(1.2 * person.risk - 0.5)
    return min(0.35, car + credit)


def customer(person: Person, org_code: str, seed: int, as_of: date) -> CapitalCustomer:
    return CapitalCustomer(person, org_code, seed, as_of)


__all__ = ["CAPITAL_LOAN", "CODES", "CapitalCustomer", "customer", "owns_car", "share"]
