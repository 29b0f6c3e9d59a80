"""One customer's debts at a buyer of overdue debts (인수채권: KAMCO, 국민행복기금, 매입추심): 채권-001…003 records.

Only people with delinquency signals are customers: the share rises steeply with `risk` (the latent variable behind
every missed payment in `behaviour`) and falls with income; thin-file people rarely have debts to sell. Per customer
one debt (25% two or three), bought from the original lender (a card company, a capital company, a bank or a money
lender) up to eight years before `as_of`, directly or through an earlier buyer (`prev_org_code`), or moved to special
(written-off) debts (bond_type 02).

About 40% of debtors are under a debt-adjustment plan (채무조정, `is_debt_mgmt`, repay_method 02): they owe fixed
monthly instalments at a low rate and miss or delay some of them (`behaviour.payment_states` with `DEBT`). The others
(repay_method 01) pay now and then, each payment clearing the interest accrued at the overdue rate before any
principal. Balances (채권-002) are the principal left after the transactions (채권-003).

Code values are the sandbox's reading (`CODES`).

The same APIs are served by money lenders (`usury`, 대부업): `USURY` is their sandbox module (`usury_share`,
`BondCustomer(..., industry="usury")`). A lender's customers are its borrowers, more with risk and less with income
(`usury_share`: about 1% at average risk, a tenth two standard deviations up); each has one loan (15% two) of
0.5–30 million KRW lent by the lender itself (bond_type 03, takeover_date = the lending date, init_org_code = the
lender, no prev_org_code) up to five years before `as_of`, at 15–20% a year (the legal maximum is 20%). A performing
loan is repaid in monthly annuity instalments (repay_method 02) that risky borrowers pay late or miss (missed months
are paid with the next one); a defaulted loan is paid now and then (01), or under a debt-adjustment plan (02,
`is_debt_mgmt`) like a bought debt.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from openmydata.kit.clock import add_months
from openmydata.sandbox import behaviour
from openmydata.sandbox.population import Person, derive_rng, permute
from openmydata.sandbox.records import RecordSink
from openmydata.sandbox.timeline import Window, dtime, month_day, seconds_between

CODES: dict[str, dict[str, str]] = {
    "bond_type": {
        "01": "인수채권 (debt bought from the lender or an earlier buyer; takeover_date = 인수일)",
        "02": "특수채권 (written-off debt; takeover_date = 편입일)",
        "03": "대부채권 (the lender's own loan; takeover_date = 최초대출일; usury only)",
    },
    "repay_method": {
        "01": "일시상환 (no plan: payments when the debtor can)",
        "02": "분할상환 (monthly instalments under a debt-adjustment plan)",
    },
}

# Synthetic org_codes in the portal's scheme (industry prefix, four letters, 0000): the original lenders and
# earlier buyers of the debts.
ORIGINAL_LENDERS: tuple[tuple[str, int], ...] = (  # (org_code, median principal in KRW)
    ("D1CRDA0000", 3_000_000),  # card companies: card bills and card loans
    ("D1CRDB0000", 3_000_000),
    ("D1CRDC0000", 3_000_000),
    ("D3CAPA0000", 8_000_000),  # capital companies: instalment and credit loans
    ("D3CAPB0000", 8_000_000),
    ("A1BNKA0000", 12_000_000),  # banks: credit loans
    ("A1BNKB0000", 12_000_000),
    ("X1LNDA0000", 4_000_000),  # a money lender
)
EARLIER_BUYERS = ("R1BUYA0000", "R1BUYB0000", "X1COLA0000")

DEBT = (-1.6, -1.2)  # (miss_base, late_base) of behaviour.payment_states: debtors in arrears miss often
LENDING = (-3.4, -2.4)  # a money lender's performing borrowers: between a bank loan and a debt in arrears
LENDING_RATE = (15.0, 20.0)  # % a year on a money lender's loan (legal maximum 20% since July 2021)
PLAN_RATE = 2.0  # % a year under a debt-adjustment plan
OVERDUE_RATE = 15.0  # % a year on debts without a plan


@dataclass
class _Debt:
    bond_num: str
    bond_type: str
    takeover: date
    init_org_code: str
    prev_org_code: str | None
    principal: int  # taken over
    managed: bool
    balance: int = 0
    instalments: bool = False  # a performing loan repaid monthly (usury)
    transactions: list[dict[str, Any]] = field(default_factory=list)


class BondCustomer:
    """Generates one person's debts at one debt buyer (`industry` bond) or money lender (`usury`)."""

    def __init__(self, person: Person, org_code: str, seed: int, as_of: date, industry: str = "bond"):
        if industry not in ("bond", "usury"):
            raise ValueError(f"debts are held in bond and usury, not {industry}")
        self.person = person
        self.org_code = org_code
        self.seed = seed
        self.as_of = as_of
        self.industry = industry
        self.window = Window.ending(as_of)
        self.rng = derive_rng(seed, industry, org_code, person.index)

    def build(self, sink: RecordSink) -> dict[str, str]:
        """Add the customer's records to `sink`; returns the customer fields of `CustomerData` (no records)."""
        person, rng = self.person, self.rng
        scrambled = permute(person.index, 10**8, self.seed, self.industry, self.org_code)
        roll = rng.random()
        if self.industry == "usury":
            count = 1 if roll < 0.85 else 2
            debts = [self._loan(f"LN{scrambled:08d}{number:02d}") for number in range(1, count + 1)]
        else:
            count = 1 if roll < 0.75 else 2 if roll < 0.95 else 3
            debts = [self._debt(f"BD{scrambled:08d}{number:02d}") for number in range(1, count + 1)]
        payloads = {}
        for debt in debts:
            payloads[debt.bond_num] = sink.add(
                "채권-001",
                {
                    "bond_num": debt.bond_num,
                    "is_consent": False,
                    "bond_type": debt.bond_type,
                    "takeover_date": debt.takeover.strftime("%Y%m%d"),
                    "init_org_code": debt.init_org_code,
                },
            )
        for debt in debts:
            source = payloads[debt.bond_num]
            sink.add(
                "채권-002",
                {
                    "prev_org_code": debt.prev_org_code,
                    "is_debt_mgmt": debt.managed,
                    "repay_method": "02" if debt.managed or debt.instalments else "01",
                    "balance_amt": debt.balance,
                    "bond_principal": debt.principal,
                },
                source=source,
            )
            for transaction in debt.transactions:
                sink.add("채권-003", transaction, source=source)
        return {
            "ci": person.ci,
            "name": person.name,
            "birth_date": person.birth_date,
            "phone": person.phone,
            "reg_date": min(debt.takeover for debt in debts).strftime("%Y%m%d"),
        }

    def _debt(self, bond_num: str) -> _Debt:
        person, rng = self.person, self.rng
        lender, median = rng.choice(ORIGINAL_LENDERS)
        principal = max(300_000, min(80_000_000, int(round(median * rng.lognormvariate(0.0, 0.6), -4))))
        written_off = rng.random() < 0.3
        # taken over between 8 years ago (not before the 21st birthday) and 30 days before as_of
        birth = date(int(person.birth_date[:4]), int(person.birth_date[4:6]), 1)
        earliest = max(add_months(self.as_of, -8 * 12), add_months(birth, 21 * 12))
        latest = self.as_of - timedelta(days=30)
        takeover = earliest + timedelta(days=rng.randint(0, max(0, (latest - earliest).days)))
        prev = lender if rng.random() < 0.5 else rng.choice(EARLIER_BUYERS)
        managed = rng.random() < behaviour.logistic(0.3 - 0.3 * person.risk + 0.4 * person.income_level)
        debt = _Debt(bond_num, "02" if written_off else "01", takeover, lender, prev, principal, managed)
        # repaid before the window: a plan pays some principal each year, others little
        years = max(0, (self.window.start - takeover).days) / 365
        paid_share = min(0.8, years * (0.12 if managed else 0.03) * rng.uniform(0.5, 1.5))
        debt.balance = int(round(principal * (1 - paid_share), -3))
        if managed:
            self._plan(debt)
        else:
            self._sporadic(debt)
        return debt

    def _loan(self, bond_num: str) -> _Debt:
        """A money lender's own loan (usury): performing and repaid monthly, or defaulted."""
        person, rng = self.person, self.rng
        principal = max(500_000, min(30_000_000, int(round(3_000_000 * rng.lognormvariate(0.0, 0.6), -5))))
        birth = date(int(person.birth_date[:4]), int(person.birth_date[4:6]), 1)
        earliest = max(add_months(self.as_of, -5 * 12), add_months(birth, 20 * 12))
        latest = self.as_of - timedelta(days=30)
        lent = earliest + timedelta(days=rng.randint(0, max(0, (latest - earliest).days)))
        defaulted = rng.random() < behaviour.logistic(-1.6 + 0.9 * person.risk)
        managed = defaulted and rng.random() < 0.3
        debt = _Debt(bond_num, "03", lent, self.org_code, None, principal, managed, instalments=not defaulted)
        if not defaulted:
            self._instalments(debt, rng.uniform(*LENDING_RATE), rng.choice((24, 36, 48, 60)))
            return debt
        years = max(0, (self.window.start - lent).days) / 365
        paid_share = min(0.6, years * (0.12 if managed else 0.05) * rng.uniform(0.5, 1.5))
        debt.balance = int(round(principal * (1 - paid_share), -3))
        if managed:
            self._plan(debt)
        else:
            self._sporadic(debt)
        return debt

    def _instalments(self, debt: _Debt, rate: float, term: int) -> None:
        """Monthly annuity instalments from the month after lending; dues before the window were paid; in the
        window some are late or missed (paid with the next instalment)."""
        rng = self.rng
        monthly = rate / 100 / 12
        elapsed = _months_between(debt.takeover, self.as_of)
        while term <= elapsed + 1:  # a loan still listed is not yet repaid: its term outlasts as_of
            term += 12
        payment = round(debt.principal * monthly / (1 - (1 + monthly) ** -term))
        dues = [month_day(*_year_month(add_months(debt.takeover, n)), debt.takeover.day) for n in range(1, term + 1)]
        before = sum(1 for due in dues if due < self.window.start)
        growth = (1 + monthly) ** before
        debt.balance = max(0, round(debt.principal * growth - payment * (growth - 1) / monthly))
        in_window = [due for due in dues if self.window.start <= due <= self.as_of]
        states = behaviour.payment_states(rng, self.person.risk, len(in_window), LENDING)
        missed = 0
        for due, state in zip(in_window, states, strict=True):
            if state is behaviour.PaymentState.MISSED or debt.balance <= 0:
                missed += 1
                continue
            paid_on = due if state is behaviour.PaymentState.ON_TIME else due + timedelta(days=rng.randint(1, 10))
            if paid_on > self.as_of:
                missed += 1
                continue
            interest = round(debt.balance * monthly) * (missed + 1)
            principal = min(debt.balance, max(0, payment * (missed + 1) - interest))
            self._transaction(debt, paid_on, seconds_between(rng, 9, 21), principal, interest)
            missed = 0

    def _transaction(self, debt: _Debt, day: date, seconds: int, principal: int, interest: int) -> None:
        debt.balance -= principal
        debt.transactions.append(
            {
                "trans_dtime": dtime(day, seconds),
                "trans_no": f"{len(debt.transactions) + 1:08d}",
                "trans_amt": principal + interest,
                "balance_amt": debt.balance,
                "principal_amt": principal,
                "int_amt": interest,
            }
        )

    def _start(self, debt: _Debt) -> date:
        return max(self.window.start, debt.takeover + timedelta(days=1))

    def _plan(self, debt: _Debt) -> None:
        """Monthly instalments over 8 years from the takeover; missed months are paid with the next one."""
        rng = self.rng
        start = self._start(debt)
        due_day = rng.choice((5, 10, 15, 20, 25))
        instalment = max(10_000, int(round(debt.principal / 96, -3)))
        dues = [
            day
            for year, month in self.window.months()
            if start <= (day := month_day(year, month, due_day)) <= self.as_of
        ]
        states = behaviour.payment_states(rng, self.person.risk, len(dues), DEBT)
        missed = 0
        for due, state in zip(dues, states, strict=True):
            if state is behaviour.PaymentState.MISSED or debt.balance <= 0:
                missed += 1
                continue
            paid_on = due if state is behaviour.PaymentState.ON_TIME else due + timedelta(days=rng.randint(1, 20))
            if paid_on > self.as_of:
                missed += 1
                continue
            principal = min(debt.balance, instalment * (missed + 1))
            interest = round(debt.balance * PLAN_RATE / 100 / 12) * (missed + 1)
            self._transaction(debt, paid_on, seconds_between(rng, 6, 21), principal, interest)
            missed = 0

    def _sporadic(self, debt: _Debt) -> None:
        """Payments now and then; each clears the interest accrued since the last payment before any principal."""
        rng = self.rng
        start = self._start(debt)
        accrued_from = start
        payments: list[date] = []
        for year, month in self.window.months():
            if rng.random() < 0.15 + 0.1 * behaviour.logistic(self.person.income_level):
                day = self.window.random_day(rng, year, month)
                if day is not None and day >= start:
                    payments.append(day)
        for day in payments:
            interest = round(debt.balance * OVERDUE_RATE / 100 * (day - accrued_from).days / 365)
            amount = int(round(max(30_000, debt.balance * rng.uniform(0.01, 0.08)), -4))
            interest_paid = min(interest, amount)
            principal = min(debt.balance, amount - interest_paid)
            self._transaction(debt, day, seconds_between(rng, 9, 18), principal, interest_paid)
            accrued_from = day


def share(person: Person) -> float:
    """The probability that `person` has a debt at one debt buyer: about 0.4% at average risk, 7% two standard
    deviations up, a quarter of the riskiest; a tenth of that for thin-file people; none under 21."""
    if person.age < 21:
        return 0.0
    value = behaviour.logistic(-5.6 + 1.5 * person.risk - 0.3 * person.income_level)
    return min(0.4, value * (0.1 if person.thin_file else 1.0))


def customer(person: Person, org_code: str, seed: int, as_of: date) -> BondCustomer:
    return BondCustomer(person, org_code, seed, as_of)


def usury_share(person: Person) -> float:
    """The probability that `person` borrows from one money lender: about 1% at average risk and income, a tenth
    two standard deviations up, fewer with income; half for thin-file people; none under 20."""
    if person.age < 20:
        return 0.0
    value = behaviour.logistic(-4.5 + 1.2 * person.risk - 0.4 * person.income_level)
    return min(0.35, value * (0.5 if person.thin_file else 1.0))


def usury_customer(person: Person, org_code: str, seed: int, as_of: date) -> BondCustomer:
    return BondCustomer(person, org_code, seed, as_of, industry="usury")


@dataclass(frozen=True)
class _Lenders:
    """The sandbox module of the `usury` industry (`institutions.SECTOR_MODULES`): the same generator as `bond`."""

    def share(self, person: Person) -> float:
        return usury_share(person)

    def customer(self, person: Person, org_code: str, seed: int, as_of: date) -> BondCustomer:
        return usury_customer(person, org_code, seed, as_of)


USURY = _Lenders()


def _months_between(start: date, end: date) -> int:
    return max(0, (end.year - start.year) * 12 + end.month - start.month)


def _year_month(day: date) -> tuple[int, int]:
    return day.year, day.month


__all__ = [
    "CODES",
    "DEBT",
    "EARLIER_BUYERS",
    "LENDING",
    "LENDING_RATE",
    "ORIGINAL_LENDERS",
    "USURY",
    "BondCustomer",
    "customer",
    "share",
    "usury_customer",
    "usury_share",
]
