"""개인형 IRP accounts (IRP-001…004 records), one generator shared by banks, investment firms and insurers.

Who holds one (`share`): a customer of the institution, mostly salaried people from 30 to 64 (the account that
receives retirement pay on a job change, and a tax-credited pension saving), fewer self-employed people and
retirees, rarely anyone else; more with income. Investment firms hold the most per customer, insurers the fewest.
Whether a customer holds one and everything in it are drawn from `derive_rng(seed, "irp", sector, org_code,
person)`, so a person's account is the same however many people are generated and the institution's own records
(drawn from its own generator) are unchanged by it.

One account per holder, opened (`issue_date`) no earlier than the customer's first product at the institution
(`earliest`, so the customer's reg_date stays), from July 2012 (IRP replaced the IRA then). What flows in and out:
- `saver`: own contributions (가입자부담금) of 50,000–750,000 KRW on a monthly date, some months skipped, and for
  some a year-end top-up in December (the tax credit counts the calendar year);
- `transfer`: retirement pay (퇴직급여, 사용자부담금) moved in at a job change, one lump sum, sometimes a second
  at a later change, and now and then an own top-up in December;
- `employer`: a small firm's 기업형 IRP-like monthly employer contribution (a twelfth of a month's pay);
- `pension`: retirement pay moved in at retirement (55 or older) and paid out monthly (연금수령, trans_type 02)
  over 10–20 years.
A few accounts (3%) were opened and never paid into: no first_deposit_date, no products, nothing in the window.

IRP-002: employer_amt and employee_amt are everything paid in since the opening, accum_amt (적립금) is what was
paid in less what was paid out, eval_amt the value of the products (IRP-003) today. IRP-003 splits accum_amt over
the products held (inv_principal sums to accum_amt): 원리금 보장 deposits, insurers' 이율보증형 contracts or
securities firms' ELB (irp_type 01, with int_rate and a maturity after as_of, rolled over), funds and ETFs
(02, with fund_num units; at most 70% of the account, the legal cap on risky assets) and cash waiting to be
invested (03). IRP-004 holds the window's flows (trans_type 01 입금, 02 지급, §10.2).

Code values the digest leaves open are the sandbox's reading, listed in `CODES`.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Literal

from openmydata.kit.clock import add_months
from openmydata.sandbox.population import Person, derive_rng, permute
from openmydata.sandbox.records import RecordSink
from openmydata.sandbox.timeline import Window, business_day_after, dtime, month_day, seconds_between

IrpSector = Literal["bank", "invest", "insu"]
Kind = Literal["saver", "transfer", "employer", "pension"]

CODES: dict[str, dict[str, str]] = {
    "account_status": {"01": "활동 (active)"},
    "irp_type": {"01": "원리금 보장", "02": "원리금 비보장", "03": "기타 (cash waiting to be invested)"},
    "trans_type": {"01": "입금 (contribution, transferred retirement pay)", "02": "지급 (pension paid out)"},
}

IRP_START = date(2012, 7, 26)  # 개인형 IRP replaced the IRA
RISKY_CAP = 0.7  # 위험자산 한도: at most 70% of an IRP in funds and ETFs that are not principal-protected
NEVER_FUNDED = 0.03

# The probability that a customer of one institution holds an IRP there, before age, occupation and income.
SECTOR_BASE: dict[str, float] = {"bank": 0.11, "invest": 0.13, "insu": 0.045}
OCCUPATION_FACTOR: dict[str, float] = {
    "salaried": 1.0,
    "self_employed": 0.55,
    "retired": 0.6,
    "homemaker": 0.12,
    "student": 0.03,
}
# (lowest age, factor)
AGE_FACTOR: tuple[tuple[int, float], ...] = (
    (19, 0.1),
    (25, 0.4),
    (30, 0.8),
    (35, 1.0),
    (40, 1.3),
    (50, 1.6),
    (55, 1.8),  # retirement pay moved in at retirement or early retirement
    (60, 1.2),
    (65, 0.4),
)

ACCOUNT_NAMES: dict[str, tuple[str, ...]] = {
    "bank": ("개인형IRP", "IRP 개인형퇴직연금", "비대면 개인형IRP"),
    "invest": ("개인형IRP(다이렉트)", "개인형퇴직연금(IRP)", "IRP 연금계좌"),
    "insu": ("개인형퇴직연금(IRP)", "IRP 퇴직연금보험"),
}
# Principal-protected products (irp_type 01): (name, term in months, lowest and highest annual rate in %)
SAFE_PRODUCTS: dict[str, tuple[tuple[str, int, float, float], ...]] = {
    "bank": (("정기예금 1년", 12, 3.0, 3.8), ("정기예금 2년", 24, 3.1, 3.9), ("정기예금 3년", 36, 3.2, 4.0)),
    "invest": (
        ("ELB 원금보장형 1년", 12, 3.3, 4.2),
        ("발행어음 1년", 12, 3.4, 4.1),
        ("저축은행 정기예금 1년", 12, 3.6, 4.3),
    ),
    "insu": (("이율보증형 1년", 12, 3.1, 3.8), ("이율보증형 3년", 36, 3.3, 4.0), ("이율보증형 5년", 60, 3.4, 4.1)),
}
# Funds and ETFs (irp_type 02): (name, expected yearly log return, yearly volatility)
RISKY_PRODUCTS: tuple[tuple[str, float, float], ...] = (
    ("TDF 2040 혼합자산 펀드", 0.05, 0.10),
    ("TDF 2050 혼합자산 펀드", 0.06, 0.13),
    ("미국 S&P500 인덱스 ETF", 0.08, 0.17),
    ("미국 나스닥100 ETF", 0.09, 0.22),
    ("글로벌 주식형 펀드", 0.06, 0.16),
    ("배당성장 혼합형 펀드", 0.04, 0.09),
    ("국내 채권형 펀드", 0.03, 0.04),
)
CASH_PRODUCT = "대기자금 (현금성자산)"


@dataclass(frozen=True)
class _Flow:
    day: date
    amount: int  # > 0 in, < 0 out
    employer: bool = False


@dataclass
class _Account:
    kind: Kind
    issue: date
    flows: list[_Flow] = field(default_factory=list)


def _factor(table: tuple[tuple[int, float], ...], age: int) -> float:
    value = table[0][1]
    for low, factor in table:
        if age >= low:
            value = factor
    return value


def share(person: Person, sector: str) -> float:
    """The probability that a customer of one institution of `sector` holds an IRP there: about 11% of a bank's
    salaried customers at 35–39, 20% at 55–59, fewer younger and past 60; more at investment firms and with
    income, 40% of that at insurers."""
    if person.age < 19 or sector not in SECTOR_BASE:
        return 0.0
    value = SECTOR_BASE[sector] * OCCUPATION_FACTOR.get(person.occupation, 0.1) * _factor(AGE_FACTOR, person.age)
    value *= math.exp(0.3 * person.income_level) * (0.6 if person.thin_file else 1.0)
    return min(0.45, value)


def _money(value: float) -> int:
    return round(value)


def _birthday(person: Person, years: int) -> date:
    born = date(int(person.birth_date[:4]), int(person.birth_date[4:6]), 1)
    return add_months(born, years * 12)


class IrpAccountGenerator:
    """One person's IRP at one institution (deterministic in seed, sector, org_code, person and as_of)."""

    def __init__(self, person: Person, sector: str, org_code: str, seed: int, as_of: date):
        self.person = person
        self.sector = sector
        self.org_code = org_code
        self.seed = seed
        self.as_of = as_of
        self.window = Window.ending(as_of)
        self.rng: random.Random = derive_rng(seed, "irp", sector, org_code, person.index)
        self.holds = self.rng.random() < share(person, sector)

    def build(self, sink: RecordSink, *, earliest: date) -> bool:
        """Add the holder's IRP-001…004 records to `sink` (nothing for a customer without one); the account opens
        no earlier than `earliest` (the customer's first product at the institution). Returns whether it did."""
        if not self.holds:
            return False
        rng = self.rng
        account = self._account(earliest)
        num = f"{permute(self.person.index, 10**10, self.seed, 'irp', self.sector, self.org_code):010d}7"
        listed = sink.add(
            "IRP-001",
            {
                "prod_name": rng.choice(ACCOUNT_NAMES.get(self.sector, ACCOUNT_NAMES["bank"])),
                "account_num": num,
                "is_consent": False,
                "account_status": "01",
            },
        )
        employer = sum(flow.amount for flow in account.flows if flow.amount > 0 and flow.employer)
        employee = sum(flow.amount for flow in account.flows if flow.amount > 0 and not flow.employer)
        paid_out = -sum(flow.amount for flow in account.flows if flow.amount < 0)
        accumulated = employer + employee - paid_out
        products = self._products(account, accumulated)
        basic: dict[str, Any] = {
            "accum_amt": accumulated,
            "eval_amt": sum(int(product["eval_amt"]) for product in products),
            "employer_amt": employer,
            "employee_amt": employee,
            "issue_date": account.issue.strftime("%Y%m%d"),
        }
        if account.flows:
            basic["first_deposit_date"] = account.flows[0].day.strftime("%Y%m%d")
        sink.add("IRP-002", basic, source=listed)
        for product in products:
            sink.add("IRP-003", product, source=listed)
        timed = [
            (dtime(flow.day, seconds_between(rng, 9, 17) if flow.amount > 0 else seconds_between(rng, 6, 9)), flow)
            for flow in account.flows
            if flow.day in self.window
        ]
        moments = sorted(timed, key=lambda item: item[0])
        for number, (moment, flow) in enumerate(moments, start=1):
            sink.add(
                "IRP-004",
                {
                    "trans_dtime": moment,
                    "trans_no": f"{number:08d}",
                    "trans_type": "01" if flow.amount > 0 else "02",
                    "trans_amt": abs(flow.amount),
                },
                source=listed,
            )
        return True

    # the account ------------------------------------------------------------------------------------------------
    def _kind(self) -> Kind:
        person, roll = self.person, self.rng.random()
        if person.age >= 57 and (person.occupation == "retired" or roll < 0.35):
            return "pension"
        if person.occupation == "salaried":
            return "saver" if roll < 0.45 else "transfer" if roll < 0.85 else "employer"
        return "saver"

    def _day_between(self, first: date, last: date) -> date:
        if last <= first:
            return min(first, self.as_of)
        return first + timedelta(days=self.rng.randint(0, (last - first).days))

    def _account(self, earliest: date) -> _Account:
        person, rng = self.person, self.rng
        kind = self._kind()
        first = max(earliest, IRP_START, _birthday(person, 20))
        last = self.as_of - timedelta(days=30)
        if kind == "pension":
            first = max(first, _birthday(person, 55))
        issue = self._day_between(first, last)
        account = _Account(kind, issue)
        if rng.random() < NEVER_FUNDED:
            return account
        monthly_pay = person.annual_income / 12
        if kind == "saver":
            self._contributions(account, issue)
        elif kind == "transfer":
            years = rng.randint(1, max(1, min(20, person.age - 24)))
            account.flows.append(_Flow(issue, max(1_000_000, _money(monthly_pay * years / 10_000) * 10_000), True))
            second = self._day_between(add_months(issue, 24), self.as_of)
            if second > add_months(issue, 24) and rng.random() < 0.25:
                account.flows.append(_Flow(second, _money(monthly_pay * rng.randint(1, 4) / 10_000) * 10_000, True))
            self._top_ups(account, issue, 0.3)
        elif kind == "employer":
            amount = max(50_000, _money(monthly_pay / 12 / 1000) * 1000)
            day = rng.choice((10, 15, 20, 25))
            self._monthly(account, issue, day, lambda: amount, employer=True, skip=0.0)
        else:
            years = rng.randint(15, 35)
            lump = max(5_000_000, _money(monthly_pay * years * rng.uniform(0.8, 1.2) / 100_000) * 100_000)
            account.flows.append(_Flow(issue, lump, True))
            self._payouts(account, issue, lump)
        account.flows.sort(key=lambda flow: flow.day)
        return account

    def _monthly(
        self,
        account: _Account,
        start: date,
        day: int,
        amount: Callable[[], int],
        *,
        employer: bool,
        skip: float,
    ) -> None:
        """A payment on `day` of every month after `start` up to as_of, some months skipped."""
        month = 0
        while True:
            due = business_day_after(month_day(*_year_month(add_months(start, month)), day))
            month += 1
            if due < start:
                continue
            if due > self.as_of:
                return
            if self.rng.random() >= skip:
                account.flows.append(_Flow(due, amount(), employer))

    def _contributions(self, account: _Account, issue: date) -> None:
        rng, person = self.rng, self.person
        base = person.monthly_net_income * rng.uniform(0.01, 0.06)
        amount = min(750_000, max(50_000, _money(base / 10_000) * 10_000))
        self._monthly(account, issue, rng.choice((1, 5, 10, 25)), lambda: amount, employer=False, skip=0.15)
        self._top_ups(account, issue, 0.25)

    def _top_ups(self, account: _Account, issue: date, chance: float) -> None:
        """December top-ups to use the year's tax credit (9,000,000 KRW with pension savings from 2023)."""
        rng = self.rng
        if rng.random() >= chance:
            return
        limit = self.person.annual_income * 0.1
        for year in range(issue.year, self.as_of.year + 1):
            day = business_day_after(date(year, 12, rng.randint(10, 24)))
            if issue < day <= self.as_of and rng.random() < 0.7:
                amount = max(500_000, min(9_000_000, _money(limit * rng.uniform(0.3, 1.0) / 100_000) * 100_000))
                account.flows.append(_Flow(day, amount))

    def _payouts(self, account: _Account, issue: date, lump: int) -> None:
        """Monthly pension from the month after the transfer, spread over 10–20 years."""
        months = self.rng.choice((120, 180, 240))
        payment = max(100_000, _money(lump / months / 1000) * 1000)
        paid = 0
        count = 0
        day = self.rng.choice((5, 15, 25))
        while True:
            count += 1
            due = business_day_after(month_day(*_year_month(add_months(issue, count)), day))
            if due > self.as_of or paid + payment > lump:
                return
            paid += payment
            account.flows.append(_Flow(due, -payment))

    # the products -----------------------------------------------------------------------------------------------
    def _products(self, account: _Account, accumulated: int) -> list[dict[str, Any]]:
        """IRP-003 entries: `accumulated` split over deposits, funds and cash; values as of as_of."""
        if accumulated <= 0:
            return []
        person, rng = self.person, self.rng
        tilt = {"bank": 0.15, "invest": 0.45, "insu": 0.05}.get(self.sector, 0.15)
        young = 0.1 if person.age < 40 else -0.1 if person.age >= 55 else 0.0
        risky_share = min(RISKY_CAP, max(0.0, tilt + young + 0.05 * person.income_level + rng.uniform(-0.15, 0.15)))
        cash_share = rng.uniform(0.0, 0.05)
        risky = int(accumulated * risky_share / 1000) * 1000
        cash = int(accumulated * cash_share / 1000) * 1000
        safe = accumulated - risky - cash
        entries: list[dict[str, Any]] = []
        safe_products = SAFE_PRODUCTS.get(self.sector, SAFE_PRODUCTS["bank"])
        for name, principal in self._split(safe, safe_products, 2):
            entries.append(self._deposit(account, name, principal))
        for product, principal in self._split(risky, RISKY_PRODUCTS, 3):
            entries.append(self._fund(account, product, principal))
        if cash > 0:
            opened = account.flows[-1].day if account.flows else account.issue
            entries.append(
                {
                    "irp_name": CASH_PRODUCT,
                    "irp_type": "03",
                    "eval_amt": cash,
                    "inv_principal": cash,
                    "open_date": opened.strftime("%Y%m%d"),
                }
            )
        return entries

    def _split(self, amount: int, products: tuple[Any, ...], most: int) -> list[tuple[Any, int]]:
        """`amount` over 1…`most` distinct products (the last takes the remainder)."""
        if amount <= 0:
            return []
        count = self.rng.randint(1, min(most, len(products)))
        chosen = self.rng.sample(list(products), count)
        weights = [self.rng.uniform(0.5, 1.5) for _ in chosen]
        total = sum(weights)
        parts = [int(amount * weight / total / 1000) * 1000 for weight in weights[:-1]]
        parts.append(amount - sum(parts))
        return [(product, part) for product, part in zip(chosen, parts, strict=True) if part > 0]

    def _opened(self, account: _Account, term_months: int = 0) -> date:
        """When a product was bought: after the account opened; a deposit is rolled over at maturity, so its
        current term started within `term_months` before as_of."""
        start = account.flows[0].day if account.flows else account.issue
        if term_months:
            start = max(start, add_months(self.as_of, -term_months) + timedelta(days=1))
        return self._day_between(start, self.as_of)

    def _deposit(self, account: _Account, product: tuple[str, int, float, float], principal: int) -> dict[str, Any]:
        name, term, low, high = product
        rng = self.rng
        opened = self._opened(account, term)
        rate = Decimal(f"{rng.uniform(low, high):.2f}")
        accrued = principal * float(rate) / 100 * (self.as_of - opened).days / 365
        return {
            "irp_name": name,
            "irp_type": "01",
            "eval_amt": _money(principal + accrued),
            "inv_principal": principal,
            "open_date": opened.strftime("%Y%m%d"),
            "exp_date": add_months(opened, term).strftime("%Y%m%d"),
            "int_rate": rate,
        }

    def _fund(self, account: _Account, product: tuple[str, float, float], principal: int) -> dict[str, Any]:
        name, drift, volatility = product
        rng = self.rng
        opened = self._opened(account)
        years = max((self.as_of - opened).days, 1) / 365
        nav = rng.uniform(900.0, 1500.0)  # 기준가 per 1,000 units
        units = math.floor(principal / nav * 1000)
        growth = math.exp(rng.gauss(drift * years, volatility * math.sqrt(years)))
        return {
            "irp_name": name,
            "irp_type": "02",
            "eval_amt": _money(units * nav * growth / 1000),
            "inv_principal": principal,
            "fund_num": Decimal(units),
            "open_date": opened.strftime("%Y%m%d"),
        }


def _year_month(day: date) -> tuple[int, int]:
    return day.year, day.month


def irp_account(person: Person, sector: str, org_code: str, seed: int, as_of: date) -> IrpAccountGenerator:
    """The IRP generator of `person` at the institution `org_code` of `sector` (bank, invest or insu)."""
    return IrpAccountGenerator(person, sector, org_code, seed, as_of)


def add_irp(
    sink: RecordSink, person: Person, sector: str, org_code: str, seed: int, as_of: date, *, earliest: date
) -> bool:
    """Add `person`'s IRP at the institution to `sink` when they hold one there (and the sink's catalogue has the
    IRP APIs); returns whether it added one."""
    if not sink.has("IRP-001"):
        return False
    return irp_account(person, sector, org_code, seed, as_of).build(sink, earliest=earliest)


__all__ = ["CODES", "IrpAccountGenerator", "add_irp", "irp_account", "share"]
