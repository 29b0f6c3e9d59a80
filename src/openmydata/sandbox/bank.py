"""One bank customer's data: 은행-001…010 records.

Per customer: a demand-deposit account (1001) that carries income, spending and transfers; sometimes an
installment savings account (1003) and a time deposit (1002); sometimes a fund (2001); and loans (3100 credit,
3150 student, 3170 jeonse, 3220 mortgage) for a share of people driven by age, income and risk. Loan repayments
follow `behaviour.payment_states`, so riskier people have late (trans_type 02) and missed months. Every flow
between the person's own accounts at this bank appears on both sides, and every balance is the running sum of
its transactions.

Code values the digest leaves unconfirmed are the sandbox's reading, listed in `CODES`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from openmydata.kit.clock import add_months
from openmydata.sandbox import behaviour, merchants
from openmydata.sandbox.population import Person, derive_rng, permute, seeded_faker
from openmydata.sandbox.records import RecordSink
from openmydata.sandbox.timeline import (
    Window,
    business_day_after,
    business_day_before,
    dtime,
    month_day,
    seconds_between,
)

CODES: dict[str, dict[str, str]] = {
    "account_type": {
        "1001": "입출금 (demand deposit)",
        "1002": "정기예금 (time deposit)",
        "1003": "적금 (installment savings)",
        "2001": "펀드 (fund)",
        "3100": "신용대출",
        "3150": "학자금대출",
        "3170": "전세자금대출",
        "3220": "주택담보대출",
    },
    "account_status": {"01": "활동 (active)"},
    "saving_method": {"01": "임의식 (free deposits)", "02": "적립식 (regular instalments)", "03": "거치식 (lump sum)"},
    "paid_in_type": {"02": "적립식", "03": "거치식"},
    "deposit trans_type": {"01": "입금 (credit)", "02": "출금 (debit)", "03": "이자 (interest credit)"},
    "invest trans_type": {"01": "매수 (purchase)"},
    "repay_method": {
        "01": "만기일시상환 (bullet)",
        "02": "원리금균등분할상환 (annuity)",
        "03": "원금균등분할상환 (equal principal)",
    },
    "loan trans_type": {"01": "약정상환 (on time)", "02": "연체상환 (after the due date)"},
    "int_type": {"01": "정상이자 (normal interest)", "02": "연체이자 (overdue interest)"},
}

CUSTOMER_SHARE = 0.90
PRIMARY_SHARE = 0.70  # of a bank's customers, those whose income arrives there
OVERDUE_SPREAD = Decimal(3)  # 연체가산금리: contract rate + 3 percentage points
KRW = "KRW"

DEMAND_PRODUCTS = ("입출금자유예금", "주거래 우대통장", "월급 플러스 통장", "모바일 자유입출금통장", "청년 우대통장")
SAVINGS_PRODUCTS = ("자유적금", "정기적금", "청년 희망적금", "주택청약종합저축")
TIME_DEPOSIT_PRODUCTS = ("정기예금", "회전식 정기예금", "온라인 정기예금")
FUND_PRODUCTS = ("글로벌 주식형 펀드", "코리아 인덱스 펀드", "채권혼합형 펀드", "배당주 펀드")


def _money(value: float | int) -> int:
    """A KRW amount (whole won; the wire form of an integral Decimal is its integer's)."""
    return round(value)


def _rate(value: float) -> Decimal:
    return Decimal(f"{value:.2f}")


def _fit(text: str, limit: int = 60) -> str:
    """Cut text to at most `limit` UTF-8 bytes (trans_memo is AH(60))."""
    if len(text) * 4 <= limit:  # no character takes more than 4 bytes
        return text
    while len(text.encode("utf-8")) > limit:
        text = text[:-1]
    return text


@dataclass(slots=True)
class _Flow:
    """One movement on the demand-deposit account before balances are known."""

    day: date
    seconds: int
    amount: int  # > 0 credit, < 0 debit
    trans_class: str
    memo: str
    mandatory: bool = True  # a discretionary debit the balance cannot cover is declined instead
    interest: bool = False  # quarterly interest: the amount is computed from the balance at that moment


@dataclass
class _Account:
    account_num: str
    account_type: str
    prod_name: str
    issue: date
    exp: date | None = None
    rate: Decimal = Decimal("0.10")
    transactions: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class _Loan(_Account):
    principal: int = 0
    balance: int = 0
    repay_day: int = 15
    repay_method: str = "01"
    term_months: int = 12
    next_repay_date: date | None = None


class BankCustomer:
    """Generates one person's accounts at one bank (deterministic in seed, org_code, person and as_of)."""

    def __init__(self, person: Person, org_code: str, seed: int, as_of: date):
        self.person = person
        self.org_code = org_code
        self.seed = seed
        self.window = Window.ending(as_of)
        self.as_of = as_of
        self.rng = derive_rng(seed, "bank", org_code, person.index)
        self.primary = self.rng.random() < PRIMARY_SHARE
        self.income = person.monthly_net_income
        self._account_seq = 0
        self.flows: list[_Flow] = []
        self.demand_num = ""

    # identifiers -----------------------------------------------------------------------------------------
    def _account_num(self, product: str) -> str:
        # branch (3) + product family (2) + a per-bank permutation of the person (8) + sequence (1): unique per bank
        self._account_seq += 1
        scrambled = permute(self.person.index, 10**8, self.seed, "account", self.org_code)
        branch = 100 + self.rng.randrange(900)
        return f"{branch}{product}{scrambled:08d}{self._account_seq % 10}"

    # the whole customer ----------------------------------------------------------------------------------
    def build(self, sink: RecordSink) -> dict[str, str]:
        """Add the customer's records to `sink`; returns the customer fields of `CustomerData` (no records)."""
        person, rng = self.person, self.rng
        demand = _Account(self._account_num("01"), "1001", rng.choice(DEMAND_PRODUCTS), self._opening_date())
        self.demand_num = demand.account_num
        accounts: list[_Account] = [demand]
        savings = self._savings() if rng.random() < self._savings_share() else None
        time_deposit = self._time_deposit() if rng.random() < self._time_deposit_share() else None
        fund = self._fund() if rng.random() < self._fund_share() else None
        loans = self._loans()
        accounts += [held[0] for held in (savings, time_deposit, fund) if held is not None]
        accounts += loans

        self._income_flows()
        self._spending_flows()
        opening = self._opening_balance()
        demand_balance = self._settle_demand(demand, opening)

        for account in accounts:
            sink.add(
                "은행-001",
                {
                    "account_num": account.account_num,
                    "is_consent": False,
                    "is_foreign_deposit": False,
                    "is_minus": False,
                    "prod_name": account.prod_name,
                    "account_type": account.account_type,
                    "account_status": "01",
                },
            )
        self._deposit_records(sink, demand, demand_balance, saving_method="01")
        if savings is not None:
            self._deposit_records(
                sink, savings[0], savings[1], saving_method="02", monthly=savings[2], paid_in_cnt=savings[3]
            )
        if time_deposit is not None:
            self._deposit_records(sink, time_deposit[0], time_deposit[1], saving_method="03")
        if fund is not None:
            self._fund_records(sink, fund)
        for loan in loans:
            self._loan_records(sink, loan)
        return {
            "ci": person.ci,
            "name": person.name,
            "birth_date": person.birth_date,
            "phone": person.phone,
            "reg_date": min(account.issue for account in accounts).strftime("%Y%m%d"),
        }

    # shares ---------------------------------------------------------------------------------------------
    def _savings_share(self) -> float:
        return min(0.6, max(0.05, (0.30 if self.primary else 0.12) + 0.08 * self.person.income_level))

    def _time_deposit_share(self) -> float:
        return min(0.5, max(0.03, (0.18 if self.primary else 0.08) + 0.10 * self.person.income_level))

    def _fund_share(self) -> float:
        if self.person.age < 23:
            return 0.02
        return min(0.4, max(0.02, 0.08 + 0.06 * self.person.income_level))

    # dates ----------------------------------------------------------------------------------------------
    def _birth(self) -> date:
        text = self.person.birth_date
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))

    def _opening_date(self) -> date:
        """The demand account opened between the 17th birthday (or 15 years ago) and 13 months ago."""
        birth = self._birth()
        earliest = max(add_months(birth, 17 * 12), add_months(self.as_of, -15 * 12))
        latest = add_months(self.as_of, -13)
        if latest <= earliest:
            return earliest
        return earliest + timedelta(days=self.rng.randint(0, (latest - earliest).days))

    # demand-deposit flows -------------------------------------------------------------------------------
    def _months(self, issue: date) -> list[tuple[int, int]]:
        return [(y, m) for (y, m) in self.window.months() if month_day(y, m, 31) > issue]

    def _add(
        self,
        day: date | None,
        amount: int,
        trans_class: str,
        memo: str,
        *,
        hours: tuple[int, int] = (8, 22),
        mandatory: bool = True,
        seconds: int | None = None,
    ) -> None:
        if day is None or day not in self.window or amount == 0:
            return
        when = seconds if seconds is not None else seconds_between(self.rng, *hours)
        self.flows.append(_Flow(day, when, amount, trans_class, _fit(memo), mandatory))

    def _income_flows(self) -> None:
        person, rng = self.person, self.rng
        fake = seeded_faker(self.seed, "bank", self.org_code, person.index)
        parent = person.name[0] + fake.first_name()
        spouse = fake.name()
        for year, month in self.window.months():
            if not self.primary:
                share = 0.1 + 0.2 * rng.random()
                day = month_day(year, month, min(28, person.payday + 1))
                self._add(day, int(self.income * share / 10_000) * 10_000, "이체입금", person.name, hours=(9, 21))
                continue
            payday = business_day_before(month_day(year, month, person.payday))
            if person.occupation == "salaried":
                self._add(payday, self.income, "급여", f"{person.employer} 급여", hours=(0, 8))
                if month == 1 and rng.random() < 0.6:
                    self._add(payday, self.income // 2, "급여", f"{person.employer} 성과급", hours=(0, 8))
                if month in (2, 9) and rng.random() < 0.4:
                    self._add(payday, self.income // 3, "급여", f"{person.employer} 상여", hours=(0, 8))
            elif person.occupation == "self_employed":
                parts = rng.randint(3, 6)
                for _ in range(parts):
                    sales_day = self.window.random_day(rng, year, month)
                    company = rng.choice(merchants.CARD_COMPANIES)
                    amount = int(self.income / parts * (0.6 + 0.8 * rng.random()) / 100) * 100
                    self._add(sales_day, amount, "이체입금", f"{company} 가맹점대금", hours=(9, 18))
            elif person.occupation == "student":
                self._add(
                    month_day(year, month, 1),
                    int(self.income * 0.6 / 10_000) * 10_000,
                    "이체입금",
                    parent,
                    hours=(9, 22),
                )
                if rng.random() < 0.6:
                    self._add(
                        payday, int(self.income * 0.4 / 1000) * 1000, "이체입금", "아르바이트 급여", hours=(9, 18)
                    )
            elif person.occupation == "retired":
                self._add(
                    business_day_before(month_day(year, month, 25)),
                    int(self.income * 0.8 / 10) * 10,
                    "이체입금",
                    "국민연금공단",
                    hours=(6, 9),
                )
                self._add(
                    business_day_before(month_day(year, month, 20)),
                    int(self.income * 0.2 / 10) * 10,
                    "이체입금",
                    "기초연금",
                    hours=(6, 9),
                )
            else:
                self._add(payday, self.income, "이체입금", spouse, hours=(9, 21))

    def _spending_flows(self) -> None:
        person, rng = self.person, self.rng
        fake = seeded_faker(self.seed, "bank-transfers", self.org_code, person.index)
        friends = [fake.name() for _ in range(6)]
        landlord = fake.name()
        renter = person.age < 40 and rng.random() < 0.45
        rent = int(self.income * rng.uniform(0.18, 0.35) / 10_000) * 10_000
        maintenance = rng.randint(8, 30) * 10_000
        telco = rng.choice(merchants.TELCOS)
        phone_bill = rng.randint(45, 110) * 1000
        insurer = rng.choice(merchants.INSURERS) if rng.random() < 0.55 else None
        premium = rng.randint(5, 40) * 10_000
        card_company = rng.choice(merchants.CARD_COMPANIES)
        card_day = rng.choice((1, 5, 10, 12, 14, 15, 17, 21, 23, 25))
        uses_credit_card = not person.thin_file
        check_card_rate = (8.0 if person.thin_file else 3.0) * (0.5 + person.spending) * (1.0 if self.primary else 0.4)
        scale = self.income * (1.0 if self.primary else 0.3)
        own_share = min(0.5, max(0.0, 0.45 - 0.3 * person.spending + 0.1 * person.income_level))
        own_transfer = int(self.income * own_share / 10_000) * 10_000
        for year, month in self.window.months():
            if self.primary:
                if renter:
                    self._add(month_day(year, month, 1), -rent, "이체출금", landlord, hours=(8, 12))
                self._add(
                    business_day_after(month_day(year, month, 25)),
                    -maintenance,
                    "자동이체",
                    "아파트관리비",
                    hours=(5, 8),
                )
                self._add(
                    business_day_after(month_day(year, month, 21)),
                    -phone_bill,
                    "자동이체",
                    f"{telco} 통신요금",
                    hours=(5, 8),
                )
                if uses_credit_card:
                    bill = int(scale * person.spending * rng.uniform(0.35, 0.65) / 10) * 10
                    self._add(
                        business_day_after(month_day(year, month, card_day)),
                        -bill,
                        "자동이체",
                        f"{card_company} 카드대금",
                        hours=(5, 8),
                    )
            if insurer is not None:
                self._add(
                    business_day_after(month_day(year, month, 10)),
                    -premium,
                    "자동이체",
                    f"{insurer} 보험료",
                    hours=(5, 8),
                )
            for _ in range(behaviour.poisson(rng, check_card_rate)):
                category = merchants.pick_category(rng)
                amount = merchants.lognormal_amount(rng, category.median, category.sigma)
                self._add(
                    self.window.random_day(rng, year, month),
                    -amount,
                    "체크카드",
                    merchants.merchant_name(rng, category),
                    mandatory=False,
                )
            for _ in range(behaviour.poisson(rng, 2.0 if self.primary else 0.6)):
                amount = merchants.lognormal_amount(rng, scale * 0.04 * (0.5 + person.spending), 0.7, 1000)
                self._add(
                    self.window.random_day(rng, year, month), -amount, "이체출금", rng.choice(friends), mandatory=False
                )
            for _ in range(behaviour.poisson(rng, 1.0 if self.primary else 0.3)):
                amount = merchants.lognormal_amount(rng, 30_000 + scale * 0.01, 0.6, 10_000)
                self._add(self.window.random_day(rng, year, month), amount, "이체입금", rng.choice(friends))
            for _ in range(behaviour.poisson(rng, 1.5 * person.spending)):
                amount = rng.choice((10_000, 20_000, 30_000, 50_000, 100_000))
                self._add(
                    self.window.random_day(rng, year, month),
                    -amount,
                    "간편결제충전",
                    rng.choice(merchants.PAY_APPS),
                    mandatory=False,
                )
            if rng.random() < 0.5 + 0.4 * min(1.0, person.age / 70):
                amount = rng.choice((50_000, 100_000, 200_000, 300_000))
                self._add(
                    self.window.random_day(rng, year, month), -amount, "ATM출금", "ATM", hours=(7, 23), mandatory=False
                )
            if self.primary and own_transfer >= 10_000:  # to the person's own accounts elsewhere
                self._add(
                    month_day(year, month, min(28, person.payday + 2)),
                    -own_transfer,
                    "이체출금",
                    person.name,
                    hours=(9, 21),
                    mandatory=False,
                )
            if month in (3, 6, 9, 12):  # 결산이자 on the third Friday
                self.flows.append(_Flow(_third_friday(year, month), 3600, 0, "결산", "결산이자", interest=True))

    def _opening_balance(self) -> int:
        factor = math.exp(0.6 * self.person.income_level - 0.3 * self.person.risk) * self.rng.uniform(0.2, 2.5)
        return max(5_000, int(self.income * factor * (1.0 if self.primary else 0.4) / 10) * 10)

    def _settle_demand(self, account: _Account, opening: int) -> int:
        """Run the flows in time order; returns the closing balance."""
        balance = opening
        flows = sorted(
            (f for f in self.flows if f.day > account.issue),
            key=lambda f: (f.day, f.seconds, -f.amount),
        )
        for flow in flows:
            amount = flow.amount
            if flow.interest:
                amount = int(balance * float(account.rate) / 100 / 4)
                if amount <= 0:
                    continue
                account.transactions.append(
                    self._deposit_tx(account, flow.day, flow.seconds, "03", "결산", amount, balance + amount, flow.memo)
                )
                balance += amount
                continue
            if amount < 0 and balance + amount < 0:
                if not flow.mandatory:
                    continue
                cover = -(-(-amount - balance) // 100_000) * 100_000
                balance += cover
                when = max(0, flow.seconds - 60)
                account.transactions.append(
                    self._deposit_tx(account, flow.day, when, "01", "이체입금", cover, balance, self.person.name)
                )
            balance += amount
            trans_type = "01" if amount > 0 else "02"
            account.transactions.append(
                self._deposit_tx(
                    account, flow.day, flow.seconds, trans_type, flow.trans_class, abs(amount), balance, flow.memo
                )
            )
        return balance

    def _deposit_tx(
        self,
        account: _Account,
        day: date,
        seconds: int,
        trans_type: str,
        trans_class: str,
        amount: int,
        balance: int,
        memo: str,
        paid_in_cnt: int | None = None,
    ) -> dict[str, Any]:
        values: dict[str, Any] = {
            "trans_dtime": dtime(day, seconds),
            "trans_no": f"{len(account.transactions) + 1:08d}",
            "trans_type": trans_type,
            "trans_class": trans_class,
            "currency_code": KRW,
            "trans_amt": _money(amount),
            "balance_amt": _money(balance),
            "trans_memo": _fit(memo),
        }
        if paid_in_cnt is not None:
            values["paid_in_cnt"] = paid_in_cnt
        return values

    # savings and time deposits --------------------------------------------------------------------------
    def _savings(self) -> tuple[_Account, int, int, int]:
        """적금: a fixed monthly transfer from the demand account.

        Returns (account, balance, monthly amount, instalments paid).
        """
        rng = self.rng
        term = rng.choice((12, 24, 36))
        monthly = min(1_000_000, max(50_000, int(self.income * rng.uniform(0.05, 0.2) / 10_000) * 10_000))
        issue = self.as_of - timedelta(days=rng.randint(20, term * 30 - 20))
        account = _Account(
            self._account_num("02"),
            "1003",
            rng.choice(SAVINGS_PRODUCTS),
            issue,
            exp=add_months(issue, term),
            rate=_rate(rng.uniform(3.0, 4.5)),
        )
        count = 0
        seconds = seconds_between(rng, 6, 8)
        due = issue
        while due <= self.as_of and count < term:
            count += 1
            if due in self.window:
                self._add(due, -monthly, "자동이체", f"{account.prod_name} 납입", seconds=seconds)
                account.transactions.append(
                    self._deposit_tx(
                        account,
                        due,
                        seconds + 1,
                        "01",
                        "자동이체",
                        monthly,
                        monthly * count,
                        "자동이체 입금",
                        paid_in_cnt=count,
                    )
                )
            due = add_months(issue, count)
        return account, monthly * count, monthly, count

    def _time_deposit(self) -> tuple[_Account, int]:
        rng = self.rng
        term = rng.choice((6, 12, 12, 24))
        principal = max(1_000_000, int(self.income * rng.uniform(2, 15) / 1_000_000) * 1_000_000)
        issue = self.as_of - timedelta(days=rng.randint(10, term * 30 - 10))
        account = _Account(
            self._account_num("03"),
            "1002",
            rng.choice(TIME_DEPOSIT_PRODUCTS),
            issue,
            exp=add_months(issue, term),
            rate=_rate(rng.uniform(3.0, 3.9)),
        )
        if issue in self.window:
            seconds = seconds_between(rng, 10, 16)
            self._add(issue, -principal, "이체출금", f"{account.prod_name} 신규", seconds=seconds)
            account.transactions.append(
                self._deposit_tx(
                    account, issue, seconds + 1, "01", "신규", principal, principal, "신규 입금", paid_in_cnt=1
                )
            )
        return account, principal

    def _deposit_records(
        self,
        sink: RecordSink,
        account: _Account,
        balance: int,
        *,
        saving_method: str,
        monthly: int | None = None,
        paid_in_cnt: int | None = None,
    ) -> None:
        source = {"account_num": account.account_num}
        basic: dict[str, Any] = {
            "saving_method": saving_method,
            "holder_name": self.person.name,
            "issue_date": account.issue.strftime("%Y%m%d"),
            "currency_code": KRW,
        }
        if account.exp is not None:
            basic["exp_date"] = account.exp.strftime("%Y%m%d")
        if monthly is not None:
            basic["monthly_paid_in_amt"] = _money(monthly)
            basic["commit_amt"] = _money(monthly * self._savings_term(account))
        sink.add("은행-002", basic, source=source)
        detail: dict[str, Any] = {
            "currency_code": KRW,
            "balance_amt": _money(balance),
            "withdrawable_amt": _money(balance if account.account_type == "1001" else 0),
            "offered_rate": account.rate,
        }
        if paid_in_cnt is not None:
            detail["last_paid_in_cnt"] = paid_in_cnt
        sink.add("은행-003", detail, source=source)
        for transaction in account.transactions:
            sink.add("은행-004", transaction, source=source)

    @staticmethod
    def _savings_term(account: _Account) -> int:
        assert account.exp is not None
        return (account.exp.year - account.issue.year) * 12 + account.exp.month - account.issue.month

    # fund -----------------------------------------------------------------------------------------------
    def _fund(self) -> tuple[_Account, str, str, int, int, float]:
        """A fund bought monthly (적립식) or once (거치식).

        Returns (account, fund code, paid_in_type, units, principal, current NAV).
        """
        rng = self.rng
        issue = self.as_of - timedelta(days=rng.randint(60, 5 * 365))
        account = _Account(self._account_num("04"), "2001", rng.choice(FUND_PRODUCTS), issue)
        fund_code = f"KR5{permute(self.person.index, 10**9, self.seed, 'fund', self.org_code):09d}"
        regular = rng.random() < 0.7
        amount = (
            max(100_000, int(self.income * rng.uniform(0.03, 0.12) / 10_000) * 10_000)
            if regular
            else max(1_000_000, int(self.income * rng.uniform(1, 6) / 1_000_000) * 1_000_000)
        )
        nav = rng.uniform(900.0, 1400.0)
        units = 0
        principal = 0
        seconds = seconds_between(rng, 9, 15)
        purchase = 0
        day = issue
        while day <= self.as_of:
            nav = round(nav * math.exp(rng.gauss(0.005, 0.04)), 2)
            bought = math.floor(amount / nav * 1000)
            units += bought
            principal += amount
            if day in self.window:
                self._add(day, -amount, "자동이체", f"{account.prod_name} 매수", seconds=seconds)
                account.transactions.append(
                    {
                        "trans_dtime": dtime(day, seconds + 1),
                        "trans_no": f"{len(account.transactions) + 1:08d}",
                        "trans_type": "01",
                        "currency_code": KRW,
                        "base_amt": Decimal(f"{nav:.2f}"),
                        "trans_fund_num": Decimal(bought),
                        "trans_amt": _money(amount),
                        "balance_amt": _money(principal),
                    }
                )
            if not regular:
                break
            purchase += 1
            day = add_months(issue, purchase)
        nav_now = round(nav * math.exp(rng.gauss(0.0, 0.02)), 2)
        return account, fund_code, "02" if regular else "03", units, principal, nav_now

    def _fund_records(self, sink: RecordSink, fund: tuple[_Account, str, str, int, int, float]) -> None:
        account, fund_code, paid_in_type, units, principal, nav = fund
        source = {"account_num": account.account_num}
        sink.add(
            "은행-005",
            {
                "standard_fund_code": fund_code,
                "paid_in_type": paid_in_type,
                "issue_date": account.issue.strftime("%Y%m%d"),
            },
            source=source,
        )
        sink.add(
            "은행-006",
            {
                "currency_code": KRW,
                "balance_amt": _money(principal),
                "eval_amt": _money(units * nav / 1000),
                "inv_principal": _money(principal),
                "fund_num": Decimal(units),
            },
            source=source,
        )
        for transaction in account.transactions:
            sink.add("은행-007", transaction, source=source)

    # loans ----------------------------------------------------------------------------------------------
    def _loans(self) -> list[_Loan]:
        person, rng = self.person, self.rng
        factor = 1.0 if self.primary else 0.5
        wanted: list[str] = []
        if person.age <= 29 and rng.random() < 0.10 * factor:
            wanted.append("3150")
        if not person.thin_file:
            if (
                33 <= person.age <= 70
                and person.income_level > -0.5
                and rng.random() < (0.22 + 0.08 * person.income_level) * factor
            ):
                wanted.append("3220")
            elif 25 <= person.age <= 45 and rng.random() < 0.22 * factor:
                wanted.append("3170")
            credit_share = min(0.5, max(0.03, 0.16 + 0.09 * person.risk + 0.03 * person.income_level))
            if rng.random() < credit_share * factor:
                wanted.append("3100")
        return [self._loan(code) for code in wanted]

    def _loan(self, code: str) -> _Loan:
        person, rng, as_of = self.person, self.rng, self.as_of
        annual = person.annual_income
        if code == "3220":
            term, method = 360, "02"
            principal = min(900_000_000, max(50_000_000, int(annual * rng.uniform(2.5, 5.0) / 1e6) * 1_000_000))
            issue = as_of - timedelta(days=rng.randint(400, 15 * 365))
            rate, name = rng.uniform(3.6, 4.8), "주택담보대출(아파트)"
        elif code == "3170":
            term, method = 24, "01"
            principal = min(400_000_000, max(50_000_000, int(annual * rng.uniform(1.5, 4.0) / 1e6) * 1_000_000))
            issue = as_of - timedelta(days=rng.randint(370, 700))
            rate, name = rng.uniform(3.5, 4.5), "전세자금대출"
        elif code == "3150":
            term, method = 120, "02"
            principal = rng.randint(3, 15) * 1_000_000
            issue = as_of - timedelta(days=rng.randint(40, 6 * 365))
            rate, name = 1.7, "학자금대출"
        else:
            amortizing = rng.random() < 0.4
            term, method = (rng.choice((36, 48, 60)), "03") if amortizing else (12, "01")
            principal = max(3_000_000, min(100_000_000, int(annual * rng.uniform(0.1, 0.8) / 1e6) * 1_000_000))
            issue = as_of - timedelta(days=rng.randint(40, term * 30 - 40 if amortizing else 4 * 365))
            rate = min(15.0, 4.5 + 1.8 * max(person.risk + 1.0, 0.0) + rng.uniform(-0.5, 0.5))
            name = "직장인 신용대출" if person.occupation == "salaried" else "개인 신용대출"
        exp = add_months(issue, term)
        while exp <= as_of:  # bullet loans are renewed for another term
            exp = add_months(exp, 12)
        loan = _Loan(
            self._account_num("05"),
            code,
            name,
            issue,
            exp=exp,
            rate=_rate(rate),
            principal=principal,
            balance=principal,
            repay_day=min(28, issue.day),
            repay_method=method,
            term_months=term,
        )
        if issue in self.window and code in ("3100", "3150"):
            self._add(issue, principal, "대출실행", f"{name} 입금", hours=(9, 16))
        self._repayments(loan)
        return loan

    def _installment(self, loan: _Loan, number: int, balance: int) -> tuple[int, int]:
        """(principal, interest) of repayment `number` on `balance` under the loan's repayment method."""
        monthly_rate = float(loan.rate) / 100 / 12
        interest = round(balance * monthly_rate)
        if loan.repay_method == "01":
            return 0, interest
        if loan.repay_method == "03":
            return min(balance, math.ceil(loan.principal / loan.term_months)), interest
        payment = loan.principal * monthly_rate / (1 - (1 + monthly_rate) ** -loan.term_months)
        return min(balance, max(0, round(payment) - interest)), interest

    def _repayments(self, loan: _Loan) -> None:
        """Monthly dues from the month after issue; dues before the window were paid on time."""
        rng = self.rng
        dues: list[date] = []
        number = 1
        while True:
            due = month_day(*_year_month(add_months(loan.issue, number)), loan.repay_day)
            if due > self.as_of:
                loan.next_repay_date = due
                break
            dues.append(due)
            number += 1
        balance = loan.principal
        in_window = [due for due in dues if due >= self.window.start]
        states = iter(behaviour.payment_states(rng, self.person.risk, len(in_window), behaviour.BANK_LOAN))
        arrears: list[tuple[date, date, int, int]] = []  # (period start, due, principal, interest)
        previous = loan.issue
        for index, due in enumerate(dues, start=1):
            principal, interest = self._installment(loan, index, balance - sum(a[2] for a in arrears))
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
            periods = [*arrears, period]
            arrears = []
            balance = self._repay(loan, periods, paid_on, late_days > 0, balance)
        loan.balance = balance

    def _repay(
        self, loan: _Loan, periods: list[tuple[date, date, int, int]], paid_on: date, late: bool, balance: int
    ) -> int:
        """One repayment covering `periods` (arrears first); debited from the demand account the same moment."""
        rng = self.rng
        principal = sum(p[2] for p in periods)
        interest = sum(p[3] for p in periods)
        int_list: list[dict[str, Any]] = [
            {
                "int_start_date": start.strftime("%Y%m%d"),
                "int_end_date": (due - timedelta(days=1)).strftime("%Y%m%d"),
                "int_rate": loan.rate,
                "int_type": "01",
            }
            for start, due, _, _ in periods
        ]
        overdue_rate = loan.rate + OVERDUE_SPREAD
        overdue = 0
        if late:
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
        amount = principal + interest + overdue
        seconds = seconds_between(rng, 9, 20) if late else seconds_between(rng, 6, 7)
        loan.transactions.append(
            {
                "trans_dtime": dtime(paid_on, seconds + 1),
                "trans_no": f"{len(loan.transactions) + 1:08d}",
                "trans_type": "02" if late else "01",
                "trans_amt": _money(amount),
                "balance_amt": _money(balance),
                "principal_amt": _money(principal),
                "int_amt": _money(interest + overdue),
                "int_cnt": len(int_list),
                "int_list": int_list,
            }
        )
        memo = "대출이자" if principal == 0 else "대출원리금"
        self._add(paid_on, -amount, "대출상환", f"{loan.prod_name} {memo}", seconds=seconds)
        return balance

    def _loan_records(self, sink: RecordSink, loan: _Loan) -> None:
        source = {"account_num": loan.account_num}
        sink.add(
            "은행-008",
            {
                "holder_name": self.person.name,
                "issue_date": loan.issue.strftime("%Y%m%d"),
                "exp_date": (loan.exp or self.as_of).strftime("%Y%m%d"),
                "last_offered_rate": loan.rate,
                "repay_date": f"{loan.repay_day:02d}",
                "repay_method": loan.repay_method,
                "repay_org_code": self.org_code,
                "repay_account_num": self.demand_num,
            },
            source=source,
        )
        detail: dict[str, Any] = {"balance_amt": _money(loan.balance), "loan_principal": _money(loan.principal)}
        if loan.next_repay_date is not None:
            detail["next_repay_date"] = loan.next_repay_date.strftime("%Y%m%d")
        sink.add("은행-009", detail, source=source)
        for transaction in loan.transactions:
            sink.add("은행-010", transaction, source=source)


def _third_friday(year: int, month: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(4 - first.weekday()) % 7 + 14)


def _year_month(day: date) -> tuple[int, int]:
    return day.year, day.month


def share(person: Person) -> float:
    """The probability that `person` is a customer of one bank institution."""
    return CUSTOMER_SHARE


def customer(person: Person, org_code: str, seed: int, as_of: date) -> BankCustomer:
    return BankCustomer(person, org_code, seed, as_of)


__all__ = ["CODES", "CUSTOMER_SHARE", "BankCustomer", "customer", "share"]
