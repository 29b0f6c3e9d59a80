"""One P2P lending customer's data (온라인투자연계금융): P2P-001…004 records.

P2P borrowers are rare and riskier than bank borrowers: the share of customers rises with `risk`, for thin-file people
(turned down elsewhere) and for the self-employed. Per customer one loan (20% two): mostly unsecured personal loans
(`type` 01, 3–20 million won over 12–36 months, annuity or equal principal, 9–19.9% rising with risk), some secured by
real estate (02, bullet loans of 6–24 months with an LTV of 50–85%) or by a car (03). Loans are live at `as_of`.

Instalments fall due monthly from the month after the loan on the loan's day. Dues before the window were paid on
time; dues inside it follow `behaviour.payment_states` with `P2P_LOAN`, so riskier borrowers pay late (repay_type 02,
with overdue interest at the contract rate + 3 points, capped at the legal 20%) or miss months, the arrears then being
paid together with the next instalment (one record per instalment, all at that moment). P2P-003 shows the first unpaid
instalment, which lies in the past for a borrower in arrears.

Code values are the sandbox's reading (`CODES`).
"""

from __future__ import annotations

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
    "type": {
        "01": "개인신용 (unsecured personal loan)",
        "02": "부동산담보 (secured by real estate)",
        "03": "동산담보 (secured by a car)",
    },
    "repay_method": {
        "01": "만기일시상환 (bullet: interest monthly, principal at maturity)",
        "02": "원리금균등분할상환 (annuity)",
        "03": "원금균등분할상환 (equal principal)",
    },
    "repay_type": {"01": "약정상환 (on the due date)", "02": "연체상환 (after the due date)"},
}

P2P_LOAN = (-3.8, -3.0)  # (miss_base, late_base) of behaviour.payment_states: missed more often than bank loans
OVERDUE_SPREAD = 3.0
LEGAL_MAX_RATE = 20.0


@dataclass
class _Lending:
    lending_id: str
    type: str
    amount: int
    issue: date
    term: int  # months
    rate: float  # % a year
    method: str
    ltv: Decimal | None = None
    balance: int = 0
    repayments: list[dict[str, Any]] = field(default_factory=list)
    next_due: tuple[int, date, int, int] | None = None  # (instalment, due date, principal, interest)

    @property
    def exp(self) -> date:
        return add_months(self.issue, self.term)


class P2PCustomer:
    """Generates one person's loans at one P2P lending platform."""

    def __init__(self, person: Person, org_code: str, seed: int, as_of: date):
        self.person = person
        self.org_code = org_code
        self.seed = seed
        self.as_of = as_of
        self.window = Window.ending(as_of)
        self.rng = derive_rng(seed, "p2p", org_code, person.index)

    def build(self, sink: RecordSink) -> dict[str, str]:
        """Add the customer's records to `sink`; returns the customer fields of `CustomerData` (no records)."""
        person, rng = self.person, self.rng
        scrambled = permute(person.index, 10**8, self.seed, "p2p", self.org_code)
        lendings = [self._lending(f"LD{scrambled:08d}{n:02d}") for n in range(1, 3 if rng.random() < 0.2 else 2)]
        for lending in lendings:
            self._repayments(lending)
        payloads = {}
        for lending in lendings:
            payloads[lending.lending_id] = sink.add(
                "P2P-001",
                {
                    "lending_id": lending.lending_id,
                    "is_consent": False,
                    "type": lending.type,
                    "lending_amt": lending.amount,
                    "issue_date": lending.issue.strftime("%Y%m%d"),
                },
            )
        for lending in lendings:
            source = payloads[lending.lending_id]
            basic: dict[str, Any] = {
                "exp_date": lending.exp.strftime("%Y%m%d"),
                "offered_rate": _rate(lending.rate),
                "repay_method": lending.method,
            }
            if lending.ltv is not None:
                basic["ltv_rate"] = lending.ltv
            sink.add("P2P-002", basic, source=source)
            detail: dict[str, Any] = {"balance_amt": lending.balance}
            if lending.next_due is not None:
                number, due, principal, interest = lending.next_due
                detail |= {
                    "next_repay_cnt": number,
                    "next_repay_date": due.strftime("%Y%m%d"),
                    "principal_amt": principal,
                    "int_amt": interest,
                }
            sink.add("P2P-003", detail, source=source)
            for repayment in lending.repayments:
                sink.add("P2P-004", repayment, source=source)
        return {
            "ci": person.ci,
            "name": person.name,
            "birth_date": person.birth_date,
            "phone": person.phone,
            "reg_date": min(lending.issue for lending in lendings).strftime("%Y%m%d"),
        }

    def _lending(self, lending_id: str) -> _Lending:
        person, rng = self.person, self.rng
        roll = rng.random()
        risk = max(person.risk + 1.0, 0.0)
        if roll < 0.2 and person.age >= 35 and person.income_level > -0.5:
            kind, term, method = "02", rng.choice((6, 12, 12, 24)), "01"
            amount = rng.randint(3, 30) * 10_000_000
            rate = min(LEGAL_MAX_RATE - 0.1, 7.0 + 1.2 * risk + rng.uniform(0.0, 3.0))
            ltv: Decimal | None = Decimal(f"{rng.uniform(50.0, 85.0):.1f}")
        elif roll < 0.3:
            kind, term, method, ltv = "03", rng.choice((12, 24, 36)), "02", None
            amount = rng.randint(5, 30) * 1_000_000
            rate = min(LEGAL_MAX_RATE - 0.1, 10.0 + 1.5 * risk + rng.uniform(0.0, 2.0))
        else:
            kind, term, ltv = "01", rng.choice((12, 24, 24, 36)), None
            method = "02" if rng.random() < 0.8 else "03"
            cap = max(3, min(20, person.annual_income // 3_000_000))
            amount = rng.randint(3, cap) * 1_000_000
            rate = min(LEGAL_MAX_RATE - 0.1, 9.0 + 2.5 * risk + rng.uniform(0.0, 2.0))
        # live at as_of: issued between `term` months before (exclusive) and two weeks before as_of
        earliest = add_months(self.as_of, -term) + timedelta(days=1)
        latest = self.as_of - timedelta(days=14)
        issue = earliest + timedelta(days=rng.randint(0, max(0, (latest - earliest).days)))
        return _Lending(lending_id, kind, amount, issue, term, round(rate, 2), method, ltv, balance=amount)

    def _instalment(self, lending: _Lending, number: int, balance: int) -> tuple[int, int]:
        """(principal, interest) of instalment `number` on `balance`."""
        monthly = lending.rate / 100 / 12
        interest = round(balance * monthly)
        if lending.method == "01":
            return (balance if number == lending.term else 0), interest
        if lending.method == "03":
            return min(balance, math.ceil(lending.amount / lending.term)), interest
        payment = lending.amount * monthly / (1 - (1 + monthly) ** -lending.term)
        principal = balance if number == lending.term else min(balance, max(0, round(payment) - interest))
        return principal, interest

    def _repayments(self, lending: _Lending) -> None:
        rng = self.rng
        day = min(28, lending.issue.day)
        dues: list[tuple[int, date]] = []
        for number in range(1, lending.term + 1):
            month = add_months(lending.issue.replace(day=1), number)
            due = month_day(month.year, month.month, day)
            if due > self.as_of:
                break
            dues.append((number, due))
        in_window = [due for due in dues if due[1] >= self.window.start]
        states = iter(behaviour.payment_states(rng, self.person.risk, len(in_window), P2P_LOAN))
        balance = lending.amount
        arrears: list[tuple[int, date, int, int]] = []
        for number, due in dues:
            principal, interest = self._instalment(lending, number, balance - sum(a[2] for a in arrears))
            instalment = (number, due, principal, interest)
            if due < self.window.start:
                balance -= principal
                continue
            state = next(states)
            late_days = 0 if state is behaviour.PaymentState.ON_TIME else rng.randint(1, 15)
            paid_on = due + timedelta(days=late_days)
            if state is behaviour.PaymentState.MISSED or paid_on > self.as_of:
                arrears.append(instalment)
                continue
            seconds = seconds_between(rng, 9, 21) if late_days else seconds_between(rng, 6, 8)
            for part in [*arrears, instalment]:
                balance = self._repay(lending, part, paid_on, seconds, balance)
            arrears = []
        lending.balance = balance
        number = len(dues) + 1
        if arrears:
            lending.next_due = arrears[0]
        elif number <= lending.term:
            month = add_months(lending.issue.replace(day=1), number)
            principal, interest = self._instalment(lending, number, balance)
            lending.next_due = (number, month_day(month.year, month.month, day), principal, interest)

    def _repay(
        self, lending: _Lending, instalment: tuple[int, date, int, int], paid_on: date, seconds: int, balance: int
    ) -> int:
        number, due, principal, interest = instalment
        days = (paid_on - due).days
        overdue_rate = min(LEGAL_MAX_RATE, lending.rate + OVERDUE_SPREAD)
        overdue = round((principal + interest) * overdue_rate / 100 * days / 365) if days else 0
        lending.repayments.append(
            {
                "trans_dtime": dtime(paid_on, seconds),
                "repay_cnt": number,
                "repay_type": "02" if days else "01",
                "trans_amt": principal + interest + overdue,
                "principal_amt": principal,
                "int_amt": interest + overdue,
            }
        )
        return balance - principal


def _rate(value: float) -> Decimal:
    return Decimal(f"{value:.2f}")


def share(person: Person) -> float:
    """The probability that `person` borrows at one P2P platform: about 2% at average risk, rising with risk,
    for thin-file people and the self-employed; none under 20."""
    if person.age < 20:
        return 0.0
    lift = 0.9 * person.risk + (0.8 if person.thin_file else 0.0) + (0.4 if person.occupation == "self_employed" else 0)
    return min(0.3, behaviour.logistic(-3.9 + lift))


def customer(person: Person, org_code: str, seed: int, as_of: date) -> P2PCustomer:
    return P2PCustomer(person, org_code, seed, as_of)


__all__ = ["CODES", "P2P_LOAN", "P2PCustomer", "customer", "share"]
