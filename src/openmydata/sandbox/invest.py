"""One securities-firm customer's data: 금투-001…005 records.

Per customer a brokerage account (위탁종합, account_type 101) and, for some, a pension-savings account (연금저축,
201). Who is a customer: people aged 25–60 most, more with higher income (`share`).

Brokerage accounts hold domestic stocks, domestic ETFs, US stocks and funds from `SECURITIES`, chosen by the
person's age and risk (leveraged and inverse ETFs only for risk-takers). Prices follow one random walk per
(seed, security) and trading day, shared by every customer, so two people holding the same stock on the same
day hold it at the same price. During the 12-month window the person deposits (monthly for regular savers),
buys and sells (more often when young and risk-taking), receives dividends and quarterly interest on cash
(예탁금이용료), and now and then withdraws. US stocks are bought with dollars exchanged just before (환전, a KRW
record and a USD record). Fees, the securities transaction tax on domestic stock sales and the withholding tax
on dividends make settle_amt differ from trans_amt.

Pension-savings accounts receive a monthly contribution that buys funds and ETFs allowed in pension accounts;
people past 55 whose account is five years old may be receiving a monthly pension instead (sold from the
holdings, 연금소득세 withheld). 금투-005 reports the paid-in totals, the part eligible for the tax credit
(6,000,000 KRW a year) and the pension received.

Invariants (the tests check them): within an account and currency, each transaction's balance_amt is the
previous one plus or minus its settle_amt (direction by trans_type, `INFLOW` / `OUTFLOW`), never negative;
금투-002's withholdings_amt is the last KRW balance; 금투-004 values holdings at the as_of price.

Code values the digest leaves unconfirmed are the sandbox's reading, listed in `CODES`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from functools import cache
from typing import Any

from openmydata.kit.clock import add_months
from openmydata.sandbox import behaviour
from openmydata.sandbox.population import Person, derive_rng, permute
from openmydata.sandbox.records import RecordSink
from openmydata.sandbox.timeline import Window, business_day_after, dtime, month_day, seconds_between

CODES: dict[str, dict[str, str]] = {
    "account_type": {"101": "위탁종합 (brokerage)", "201": "연금저축 (pension savings)"},
    "account_status": {"01": "활동 (active)"},
    "prod_type": {"101": "국내주식", "102": "해외주식", "103": "ETF (국내상장)", "201": "펀드 (fund)"},
    "trans_type": {
        "101": "매수 (buy)",
        "102": "매도 (sell)",
        "201": "입금 (deposit)",
        "202": "출금 (withdrawal)",
        "203": "연금지급 (pension payout)",
        "301": "배당·분배금 (dividend, distribution)",
        "302": "예탁금이용료 (interest on cash)",
        "401": "환전출금 (cash exchanged out)",
        "402": "환전입금 (cash exchanged in)",
    },
}
INFLOW = frozenset({"102", "201", "301", "302", "402"})
OUTFLOW = frozenset({"101", "202", "203", "401"})

KRW = "KRW"
USD = "USD"
COMMISSION_RATE = Decimal("0.00015")  # online domestic brokerage commission
OVERSEAS_COMMISSION_RATE = Decimal("0.0025")
FX_SPREAD = Decimal("0.005")
DIVIDEND_TAX_RATE = Decimal("0.154")  # 소득세 14% + 지방소득세 1.4%
US_DIVIDEND_TAX_RATE = Decimal("0.15")
CASH_INTEREST_RATE = Decimal("0.001")  # per quarter
PENSION_CREDIT_LIMIT = 6_000_000  # yearly paid-in eligible for the 연금저축 tax credit
PENSION_PAID_IN_LIMIT = 18_000_000  # yearly paid-in limit
PENSION_PAYOUT_MONTHS = 120

BROKERAGE_NAMES = ("종합매매계좌", "위탁종합계좌", "주식 위탁계좌", "비대면 종합계좌")
PENSION_NAMES = ("연금저축계좌", "연금저축펀드", "비대면 연금저축계좌")


@dataclass(frozen=True)
class Security:
    code: str
    name: str
    prod_type: str  # CODES["prod_type"]
    detail: str  # prod_type_detail
    currency: str
    price: float  # typical price (a fund's NAV per 1,000 units)
    volatility: float  # daily log-return spread
    dividend_yield: float = 0.0
    dividend_months: tuple[int, ...] = ()
    pension: bool = False  # may be held in a pension-savings account
    leveraged: bool = False

    @property
    def is_fund(self) -> bool:
        return self.prod_type == "201"


_QUARTERS = (1, 4, 7, 10)
_US_QUARTERS = (3, 6, 9, 12)
_MONTHLY = tuple(range(1, 13))

SECURITIES: dict[str, Security] = {
    security.code: security
    for security in (
        Security("005930", "삼성전자", "101", "코스피", KRW, 72_000, 0.018, 0.02, (4, 5, 8, 11)),
        Security("000660", "SK하이닉스", "101", "코스피", KRW, 185_000, 0.028, 0.01, (4, 5, 8, 11)),
        Security("373220", "LG에너지솔루션", "101", "코스피", KRW, 360_000, 0.025),
        Security("005380", "현대차", "101", "코스피", KRW, 230_000, 0.019, 0.045, (4, 8, 11)),
        Security("000270", "기아", "101", "코스피", KRW, 98_000, 0.019, 0.055, (4,)),
        Security("035420", "NAVER", "101", "코스피", KRW, 175_000, 0.021, 0.006, (4,)),
        Security("035720", "카카오", "101", "코스피", KRW, 41_000, 0.024, 0.002, (4,)),
        Security("068270", "셀트리온", "101", "코스피", KRW, 180_000, 0.022, 0.004, (4,)),
        Security("105560", "KB금융", "101", "코스피", KRW, 78_000, 0.017, 0.04, (4, 5, 8, 11)),
        Security("055550", "신한지주", "101", "코스피", KRW, 52_000, 0.017, 0.04, (4, 5, 8, 11)),
        Security("012450", "한화에어로스페이스", "101", "코스피", KRW, 260_000, 0.03, 0.004, (4,)),
        Security("247540", "에코프로비엠", "101", "코스닥", KRW, 190_000, 0.035),
        Security("196170", "알테오젠", "101", "코스닥", KRW, 240_000, 0.035),
        Security("028300", "HLB", "101", "코스닥", KRW, 78_000, 0.036),
        Security("069500", "KODEX 200", "103", "국내주식형 ETF", KRW, 36_500, 0.011, 0.017, _QUARTERS, True),
        Security("360750", "TIGER 미국S&P500", "103", "해외주식형 ETF", KRW, 19_000, 0.01, 0.011, _QUARTERS, True),
        Security("133690", "TIGER 미국나스닥100", "103", "해외주식형 ETF", KRW, 118_000, 0.013, 0.005, _QUARTERS, True),
        Security(
            "458730", "TIGER 미국배당다우존스", "103", "해외주식형 ETF", KRW, 11_200, 0.009, 0.036, _MONTHLY, True
        ),
        Security("122630", "KODEX 레버리지", "103", "레버리지 ETF", KRW, 18_500, 0.022, leveraged=True),
        Security("252670", "KODEX 200선물인버스2X", "103", "인버스 ETF", KRW, 2_300, 0.022, leveraged=True),
        Security("AAPL", "애플", "102", "나스닥", USD, 220.0, 0.016, 0.0045, (2, 5, 8, 11)),
        Security("NVDA", "엔비디아", "102", "나스닥", USD, 125.0, 0.03, 0.0003, (1, 4, 7, 10)),
        Security("TSLA", "테슬라", "102", "나스닥", USD, 240.0, 0.035),
        Security("MSFT", "마이크로소프트", "102", "나스닥", USD, 420.0, 0.015, 0.007, _US_QUARTERS),
        Security("SCHD", "SCHWAB US DIVIDEND EQUITY ETF", "102", "NYSE ETF", USD, 27.5, 0.008, 0.035, _US_QUARTERS),
        Security("QQQ", "INVESCO QQQ TRUST", "102", "나스닥 ETF", USD, 480.0, 0.012, 0.006, _US_QUARTERS),
        Security(
            "KR5235AK9808",
            "미래에셋전략배분TDF2045혼합자산자투자신탁",
            "201",
            "혼합자산형 펀드",
            KRW,
            1_420,
            0.006,
            pension=True,
        ),
        Security(
            "KR5101AH2466",
            "한국투자TDF알아서2040증권자투자신탁(주식혼합-재간접형)",
            "201",
            "주식혼합형 펀드",
            KRW,
            1_310,
            0.006,
            pension=True,
        ),
        Security(
            "KR5301AD5532",
            "KB온국민TDF2050증권자투자신탁(주식혼합-재간접형)",
            "201",
            "주식혼합형 펀드",
            KRW,
            1_260,
            0.007,
            pension=True,
        ),
        Security(
            "KR5223AX1207", "삼성한국형TDF2035증권투자신탁H", "201", "채권혼합형 펀드", KRW, 1_180, 0.004, pension=True
        ),
        Security(
            "KR5370AR4413",
            "피델리티글로벌테크놀로지증권자투자신탁(주식-재간접형)",
            "201",
            "해외주식형 펀드",
            KRW,
            2_150,
            0.013,
            pension=True,
        ),
    )
}
USD_KRW = Security("USDKRW", "미국 달러", "", "환율", KRW, 1_370.0, 0.004)
_KINDS: dict[str, tuple[Security, ...]] = {
    kind: tuple(s for s in SECURITIES.values() if s.prod_type == kind) for kind in ("101", "102", "103", "201")
}


def transaction_tax_rate(day: date) -> Decimal:
    """증권거래세 (with 농어촌특별세) on a domestic stock sale: 0.23% to 2022, 0.20% in 2023, 0.18% in 2024,
    0.15% in 2025 and 0.20% again from 2026 (the 2025 tax revision). ETFs and funds are exempt."""
    if day.year <= 2022:
        return Decimal("0.0023")
    return {2023: Decimal("0.0020"), 2024: Decimal("0.0018"), 2025: Decimal("0.0015")}.get(day.year, Decimal("0.0020"))


def pension_tax_rate(age: int) -> Decimal:
    """연금소득세 withheld from a pension-savings payout: 5.5% under 70, 4.4% under 80, 3.3% from 80."""
    if age < 70:
        return Decimal("0.055")
    return Decimal("0.044") if age < 80 else Decimal("0.033")


def _krw_tick(price: float) -> int:
    """Domestic price tick (호가단위) for stocks; ETFs trade in 5-won ticks."""
    for limit, tick in ((2_000, 1), (5_000, 5), (20_000, 10), (50_000, 50), (200_000, 100), (500_000, 500)):
        if price < limit:
            return tick
    return 1_000


def _quote(security: Security, level: float) -> Decimal:
    if security.currency == USD or security.is_fund:
        return Decimal(f"{level:.2f}")
    if security is USD_KRW:
        return Decimal(f"{level:.1f}")
    tick = 5 if security.prod_type == "103" else _krw_tick(level)
    return Decimal(max(tick, round(level / tick) * tick))


@cache
def price_path(seed: int, code: str, start: date, end: date) -> dict[date, Decimal]:
    """The closing price of `code` on every weekday of [start, end]: one random walk per (seed, security),
    kept within a third and three times its typical price."""
    security = USD_KRW if code == USD_KRW.code else SECURITIES[code]
    rng = derive_rng(seed, "invest-price", code, start.isoformat())
    base = security.price * math.exp(rng.gauss(0.0, 0.1))
    level = base
    prices: dict[date, Decimal] = {}
    day = start
    while day <= end:
        if day.weekday() < 5:
            level = min(3 * base, max(base / 3, level * math.exp(rng.gauss(0.0, security.volatility))))
            prices[day] = _quote(security, level)
        day += timedelta(days=1)
    return prices


def _krw(value: Decimal, rounding: str = ROUND_HALF_UP) -> Decimal:
    return value.quantize(Decimal(1), rounding=rounding)


def _cents(value: Decimal, rounding: str = ROUND_HALF_UP) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=rounding)


def _money(value: Decimal, currency: str, rounding: str = ROUND_HALF_UP) -> Decimal:
    return _cents(value, rounding) if currency == USD else _krw(value, rounding)


@dataclass
class _Holding:
    security: Security
    quantity: int = 0  # shares, or fund units
    cost: Decimal = Decimal(0)
    first_paid_in: date | None = None
    last_paid_in: date | None = None
    paid_in: Decimal = Decimal(0)
    withdrawn: Decimal = Decimal(0)


@dataclass
class _Account:
    account_num: str
    account_type: str
    name: str
    issue: date
    cash: dict[str, Decimal] = field(default_factory=lambda: {KRW: Decimal(0)})
    holdings: dict[str, _Holding] = field(default_factory=dict)
    transactions: list[dict[str, Any]] = field(default_factory=list)
    credit_loan: int = 0
    mortgage: int = 0

    @property
    def pension(self) -> bool:
        return self.account_type.startswith("2")


@dataclass
class _Pension:
    """The pension-savings figures 금투-005 reports."""

    monthly: int
    contributions: dict[int, int] = field(default_factory=dict)  # calendar year -> paid in
    rcv_start: date | None = None
    payout: int = 0
    received: int = 0


# (day, second of day, order within the moment, action)
_Event = tuple[date, int, int, Callable[[date, int], None]]


def _at(method: Callable[..., None], account: _Account, *rest: Any) -> Callable[[date, int], None]:
    """An event action: `method(account, (day, seconds), *rest)` when the event happens."""

    def action(day: date, seconds: int) -> None:
        method(account, (day, seconds), *rest)

    return action


class InvestCustomer:
    """Generates one person's accounts at one securities firm (deterministic in seed, org_code, person, as_of)."""

    def __init__(self, person: Person, org_code: str, seed: int, as_of: date):
        self.person = person
        self.org_code = org_code
        self.seed = seed
        self.as_of = as_of
        self.window = Window.ending(as_of)
        self.rng = derive_rng(seed, "invest", org_code, person.index)
        self.size = self._portfolio_size()

    # prices ---------------------------------------------------------------------------------------------
    def price(self, security: Security, day: date) -> Decimal:
        """The closing price on `day`, or on the last weekday before it (weekends, as_of on a Sunday)."""
        path = price_path(self.seed, security.code, self.window.start, self.as_of)
        probe = day
        while probe not in path:
            probe -= timedelta(days=1)
            if probe < self.window.start:
                return _quote(security, security.price)
        return path[probe]

    # the whole customer ----------------------------------------------------------------------------------
    def build(self, sink: RecordSink) -> dict[str, str]:
        """Add the customer's records to `sink`; returns the customer fields of `CustomerData` (no records)."""
        person, rng = self.person, self.rng
        accounts: list[tuple[_Account, _Pension | None]] = [(self._brokerage(), None)]
        if rng.random() < self._pension_share():
            accounts.append(self._pension_account())
        listed = [
            sink.add(
                "금투-001",
                {
                    "account_num": account.account_num,
                    "is_consent": False,
                    "account_name": account.name,
                    "account_type": account.account_type,
                    "account_status": "01",
                },
            )
            for account, _ in accounts
        ]
        for (account, pension), source in zip(accounts, listed, strict=True):
            sink.add(
                "금투-002",
                {
                    "issue_date": account.issue.strftime("%Y%m%d"),
                    "is_tax_benefits": account.pension,
                    "withholdings_amt": account.cash[KRW],
                    "credit_loan_amt": account.credit_loan,
                    "mortgage_amt": account.mortgage,
                    "currency_code": KRW,
                },
                source=source,
            )
            for transaction in account.transactions:
                sink.add("금투-003", transaction, source=source)
            for product in self._products(account):
                sink.add("금투-004", product, source=source)
            if pension is not None:
                sink.add("금투-005", self._pension_info(pension), source=source)
        return {
            "ci": person.ci,
            "name": person.name,
            "birth_date": person.birth_date,
            "phone": person.phone,
            "reg_date": min(account.issue for account, _ in accounts).strftime("%Y%m%d"),
        }

    # people -------------------------------------------------------------------------------------------------
    def _portfolio_size(self) -> int:
        """What the person keeps invested here, in KRW: grows with income and age, log-normal spread."""
        person = self.person
        years = min(30, max(1, person.age - 22))
        value = person.annual_income * (0.08 + 0.025 * years) * math.exp(0.8 * self.rng.gauss(0.0, 1.0))
        return max(300_000, min(3_000_000_000, int(value / 10_000) * 10_000))

    def _pension_share(self) -> float:
        person = self.person
        if person.age < 25 or person.occupation == "student":
            return 0.02
        prime = 0.5 if 35 <= person.age <= 60 else 0.0
        return behaviour.logistic(-2.2 + 0.7 * person.income_level + prime)

    def _birth(self) -> date:
        text = self.person.birth_date
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))

    def _opening_date(self, earliest_age: int, years_back: int, latest: date) -> date:
        earliest = max(add_months(self._birth(), earliest_age * 12), add_months(self.as_of, -years_back * 12))
        if latest <= earliest:
            return min(latest, self.as_of)
        return earliest + timedelta(days=self.rng.randint(0, (latest - earliest).days))

    def _account_num(self, product: str) -> str:
        # a per-firm permutation of the person (8 digits) + the product code (2): unique per firm
        return f"{permute(self.person.index, 10**8, self.seed, 'invest', self.org_code):08d}{product}"

    # ledger ------------------------------------------------------------------------------------------------
    def _record(
        self,
        account: _Account,
        moment: tuple[date, int],
        trans_type: str,
        detail: str,
        currency: str,
        amount: Decimal,
        settle: Decimal,
        *,
        security: Security | None = None,
        quantity: Decimal | int | None = None,
        price: Decimal | None = None,
    ) -> None:
        sign = 1 if trans_type in INFLOW else -1
        balance = account.cash.get(currency, Decimal(0)) + sign * settle
        if balance < 0:
            raise RuntimeError(f"{account.account_num} would overdraw {currency}")  # a generator bug
        account.cash[currency] = balance
        day, seconds = moment
        transaction: dict[str, Any] = {}
        if security is not None:
            transaction["prod_name"] = security.name
            transaction["prod_code"] = security.code
        transaction["trans_dtime"] = dtime(day, seconds)
        transaction["trans_no"] = f"{day:%Y%m%d}{len(account.transactions) + 1:06d}"
        transaction["trans_type"] = trans_type
        transaction["trans_type_detail"] = detail
        if quantity is not None:
            transaction["trans_num"] = Decimal(quantity)
        if price is not None:
            transaction["base_amt"] = price
        transaction.update(
            {"trans_amt": amount, "settle_amt": settle, "balance_amt": balance, "currency_code": currency}
        )
        account.transactions.append(transaction)

    def _deposit(self, account: _Account, moment: tuple[date, int], amount: int, detail: str = "이체입금") -> None:
        if amount > 0:
            self._record(account, moment, "201", detail, KRW, Decimal(amount), Decimal(amount))

    def _buy(self, account: _Account, moment: tuple[date, int], security: Security, budget: Decimal) -> bool:
        """Buy what `budget` (in the security's currency, fees included) pays for; False when it buys nothing."""
        day = moment[0]
        price = self.price(security, day)
        holding = account.holdings.get(security.code) or _Holding(security)
        if security.is_fund:
            units = int(budget * 1000 / price)
            amount = _krw(Decimal(units) * price / 1000)
            if units < 1 or amount < 1:
                return False
            self._record(
                account, moment, "101", "펀드매수", KRW, amount, amount, security=security, quantity=units, price=price
            )
            holding.quantity += units
            holding.paid_in += amount
            holding.first_paid_in = holding.first_paid_in or day
            holding.last_paid_in = day
            holding.cost += amount
        else:
            rate = OVERSEAS_COMMISSION_RATE if security.currency == USD else COMMISSION_RATE
            quantity = int(budget / (price * (1 + rate)))
            if quantity < 1:
                return False
            amount = Decimal(quantity) * price
            fee = _money(amount * rate, security.currency, ROUND_FLOOR)
            detail = "해외주식매수" if security.currency == USD else "현금매수"
            self._record(
                account,
                moment,
                "101",
                detail,
                security.currency,
                amount,
                amount + fee,
                security=security,
                quantity=quantity,
                price=price,
            )
            holding.quantity += quantity
            holding.cost += amount + fee
        account.holdings[security.code] = holding
        return True

    def _sell(self, account: _Account, moment: tuple[date, int], holding: _Holding, quantity: int) -> Decimal:
        """Sell `quantity` of a holding; returns the net proceeds credited."""
        security, day = holding.security, moment[0]
        quantity = min(quantity, holding.quantity)
        price = self.price(security, day)
        cost = _money(holding.cost * quantity / holding.quantity, security.currency)
        if security.is_fund:
            amount = _krw(Decimal(quantity) * price / 1000, ROUND_FLOOR)
            settle = amount
            holding.withdrawn += amount
            detail = "펀드환매"
        else:
            amount = Decimal(quantity) * price
            rate = OVERSEAS_COMMISSION_RATE if security.currency == USD else COMMISSION_RATE
            fee = _money(amount * rate, security.currency, ROUND_FLOOR)
            tax = _krw(amount * transaction_tax_rate(day), ROUND_FLOOR) if security.prod_type == "101" else Decimal(0)
            settle = amount - fee - tax
            detail = "해외주식매도" if security.currency == USD else "현금매도"
        self._record(
            account,
            moment,
            "102",
            detail,
            security.currency,
            amount,
            settle,
            security=security,
            quantity=quantity,
            price=price,
        )
        holding.quantity -= quantity
        holding.cost -= cost
        if holding.quantity == 0:
            holding.cost = Decimal(0)
        return settle

    def _exchange(self, account: _Account, moment: tuple[date, int], usd: Decimal) -> None:
        """Exchange KRW for `usd` dollars (a KRW record then a USD record)."""
        rate = self.price(USD_KRW, moment[0])
        krw = _krw(usd * rate * (1 + FX_SPREAD), ROUND_CEILING)
        self._record(
            account, moment, "401", "환전(원화→달러)", KRW, krw, krw, security=USD_KRW, quantity=usd, price=rate
        )
        self._record(account, moment, "402", "환전입금", USD, usd, usd, security=USD_KRW, quantity=usd, price=rate)

    def _dividend(self, account: _Account, moment: tuple[date, int], security: Security) -> None:
        holding = account.holdings.get(security.code)
        if holding is None or holding.quantity == 0 or not security.dividend_months:
            return
        price = self.price(security, moment[0])
        per_payment = Decimal(str(security.dividend_yield / len(security.dividend_months)))
        gross = _money(holding.quantity * price * per_payment, security.currency, ROUND_FLOOR)
        if gross <= 0:
            return
        if account.pension:
            tax = Decimal(0)  # taxed as pension income when paid out
        elif security.currency == USD:
            tax = _cents(gross * US_DIVIDEND_TAX_RATE, ROUND_FLOOR)
        else:
            tax = _krw(gross * DIVIDEND_TAX_RATE, ROUND_FLOOR)
        detail = "분배금입금" if security.prod_type == "103" else "배당금입금"
        self._record(
            account,
            moment,
            "301",
            detail,
            security.currency,
            gross,
            gross - tax,
            security=security,
            quantity=holding.quantity,
        )

    def _interest(self, account: _Account, moment: tuple[date, int]) -> None:
        gross = _krw(account.cash[KRW] * CASH_INTEREST_RATE, ROUND_FLOOR)
        if gross >= 10:
            tax = Decimal(0) if account.pension else _krw(gross * DIVIDEND_TAX_RATE, ROUND_FLOOR)
            self._record(account, moment, "302", "예탁금이용료", KRW, gross, gross - tax)

    def _withdraw_some(self, account: _Account, moment: tuple[date, int]) -> None:
        """Withdraw 30–100% of the cash (to the person's bank account)."""
        share = Decimal(str(self.rng.uniform(0.3, 1.0)))
        self._withdraw(account, moment, _krw(account.cash[KRW] * share, ROUND_FLOOR))

    def _withdraw(self, account: _Account, moment: tuple[date, int], amount: Decimal, detail: str = "이체출금") -> None:
        if amount > 0:
            self._record(account, moment, "202", detail, KRW, amount, amount)

    # calendar --------------------------------------------------------------------------------------------
    def _trading_day(self, year: int, month: int, day: int) -> date | None:
        moved = business_day_after(month_day(year, month, day))
        return moved if moved in self.window else None

    def _random_trading_day(self, year: int, month: int, since: date) -> date | None:
        day = self.window.random_day(self.rng, year, month)
        if day is None:
            return None
        moved = business_day_after(day)
        return moved if moved in self.window and moved >= since else None

    def _quarter_ends(self, since: date) -> list[date]:
        days = []
        for year, month in self.window.months():
            if month in (3, 6, 9, 12):
                day = month_day(year, month, 31)
                while day.weekday() >= 5:
                    day -= timedelta(days=1)
                if day in self.window and day >= since:
                    days.append(day)
        return days

    @staticmethod
    def _run(events: list[_Event]) -> None:
        for day, seconds, _order, action in sorted(events, key=lambda event: event[:3]):
            action(day, seconds)

    # brokerage --------------------------------------------------------------------------------------------
    def _watchlist(self) -> list[Security]:
        person, rng = self.person, self.rng
        if person.age < 35:
            weights = {"101": 0.35, "103": 0.25, "102": 0.35, "201": 0.05}
        elif person.age < 55:
            weights = {"101": 0.45, "103": 0.25, "102": 0.2, "201": 0.10}
        else:
            weights = {"101": 0.5, "103": 0.2, "102": 0.05, "201": 0.25}
        bold = person.risk > 0.3
        kinds = list(weights)
        picked: dict[str, Security] = {}
        for _ in range(rng.randint(3, 8)):
            kind = rng.choices(kinds, weights=[weights[k] for k in kinds])[0]
            candidates = [s for s in _KINDS[kind] if bold or not s.leveraged]
            security = rng.choice(candidates)
            picked.setdefault(security.code, security)
        return list(picked.values())

    def _brokerage(self) -> _Account:
        person, rng, window = self.person, self.rng, self.window
        issue = self._opening_date(19, 15, self.as_of - timedelta(days=20))
        account = _Account(self._account_num("01"), "101", rng.choice(BROKERAGE_NAMES), issue)
        watchlist = self._watchlist()
        size = self.size
        start = business_day_after(max(window.start, issue))
        opened_in_window = issue >= window.start
        if not opened_in_window:
            self._initial_holdings(account, watchlist, size)
        activity = behaviour.logistic(-1.5 + 0.8 * person.risk + (0.6 if person.age < 40 else 0.0))
        trades_per_month = (0.3 + 6.0 * activity) * rng.uniform(0.5, 1.5)
        regular = rng.random() < 0.45
        monthly = max(100_000, int(person.monthly_net_income * rng.uniform(0.03, 0.15) / 10_000) * 10_000)
        deposit_day = min(28, person.payday + rng.randint(0, 3))
        if rng.random() < 0.25 * activity and person.risk > 0.5:
            account.credit_loan = int(size * rng.uniform(0.1, 0.4) / 10_000) * 10_000
        if rng.random() < 0.04 and person.income_level > 0:
            account.mortgage = int(size * rng.uniform(0.1, 0.3) / 100_000) * 100_000
        events: list[_Event] = []
        order = 0

        def add(day: date | None, seconds: int, action: Callable[[date, int], None]) -> None:
            nonlocal order
            if day is not None and day in window and day >= start:
                order += 1
                events.append((day, seconds, order, action))

        if opened_in_window:  # the first deposit
            add(start, seconds_between(rng, 9, 11), _at(self._deposit, account, max(100_000, size // 20_000 * 10_000)))
        # dividends are paid on what is held at the time: everything the account may hold is tracked
        tracked = list(
            {
                **{h.security.code: h.security for h in account.holdings.values()},
                **{s.code: s for s in watchlist},
            }.values()
        )
        for year, month in window.months():
            if regular:
                add(
                    self._trading_day(year, month, deposit_day),
                    seconds_between(rng, 7, 9),
                    _at(self._deposit, account, monthly),
                )
            if rng.random() < 0.08:
                lump = int(size * rng.uniform(0.05, 0.3) / 10_000) * 10_000
                add(
                    self._random_trading_day(year, month, start),
                    seconds_between(rng, 8, 20),
                    _at(self._deposit, account, lump),
                )
            for _ in range(behaviour.poisson(rng, trades_per_month)):
                day = self._random_trading_day(year, month, start)
                overseas = any(s.currency == USD for s in watchlist) and rng.random() < 0.35
                seconds = seconds_between(rng, 22, 23) if overseas else rng.randint(9 * 3600, 15 * 3600 + 1200)
                add(day, seconds, _at(self._trade, account, watchlist, overseas))
            if rng.random() < 0.04 + 0.04 * max(0.0, person.risk):
                add(
                    self._random_trading_day(year, month, start),
                    seconds_between(rng, 9, 21),
                    _at(self._withdraw_some, account),
                )
            for security in tracked:
                if month in security.dividend_months:
                    pay_day = 15 if security.currency == USD else 20
                    add(
                        self._trading_day(year, month, pay_day),
                        seconds_between(rng, 6, 7),
                        _at(self._dividend, account, security),
                    )
        for day in self._quarter_ends(start):
            add(day, 23 * 3600 + 50 * 60, _at(self._interest, account))
        self._run(events)
        return account

    def _initial_holdings(self, account: _Account, watchlist: list[Security], size: int) -> None:
        """What the account held when the window starts (bought earlier, at another price)."""
        rng, start = self.rng, self.window.start
        first_day = business_day_after(start)
        held = rng.sample(watchlist, rng.randint(1, len(watchlist)))
        weights = [rng.uniform(0.5, 1.5) for _ in held]
        total = sum(weights)
        for security, weight in zip(held, weights, strict=True):
            price = self.price(security, first_day)
            value = Decimal(size * 0.85 * weight / total)
            if security.currency == USD:
                value /= self.price(USD_KRW, first_day)
            quantity = int(value * 1000 / price) if security.is_fund else int(value / price)
            if quantity < 1:
                continue
            paid = Decimal(quantity) * price * Decimal(str(math.exp(rng.gauss(-0.03, 0.2))))
            if security.is_fund:
                paid /= 1000
            cost = _money(paid, security.currency)
            holding = _Holding(security, quantity, cost)
            if security.is_fund:
                holding.paid_in = cost
                holding.first_paid_in = account.issue + timedelta(days=rng.randint(0, (start - account.issue).days))
                holding.last_paid_in = holding.first_paid_in
            account.holdings[security.code] = holding
        account.cash[KRW] = Decimal(int(size * rng.uniform(0.01, 0.15) / 1000) * 1000)
        if any(h.security.currency == USD for h in account.holdings.values()):
            account.cash[USD] = _cents(Decimal(str(rng.uniform(0, 300))))

    def _trade(self, account: _Account, moment: tuple[date, int], watchlist: list[Security], overseas: bool) -> None:
        rng = self.rng
        currency = USD if overseas else KRW
        mine = [h for h in account.holdings.values() if h.quantity > 0 and (h.security.currency == currency)]
        if mine and rng.random() < 0.45:
            holding = rng.choice(mine)
            whole = rng.random() < 0.4
            quantity = holding.quantity if whole else max(1, int(holding.quantity * rng.uniform(0.3, 0.7)))
            self._sell(account, moment, holding, quantity)
            return
        candidates = [s for s in watchlist if s.currency == currency] or watchlist
        security = rng.choice(mine).security if mine and rng.random() < 0.4 else rng.choice(candidates)
        day = moment[0]
        minimum = max(100_000, int(self.size * 0.03))
        krw_cash = account.cash[KRW]
        if security.currency == KRW:
            if krw_cash < minimum:
                top_up = max(minimum, int(self.size * rng.uniform(0.05, 0.2) / 10_000) * 10_000)
                self._deposit(account, moment, top_up)
            budget = _krw(account.cash[KRW] * Decimal(str(rng.uniform(0.3, 0.9))), ROUND_FLOOR)
            self._buy(account, moment, security, budget)
            return
        rate = self.price(USD_KRW, day) * (1 + FX_SPREAD)
        usd_cash = account.cash.get(USD, Decimal(0))
        if krw_cash + usd_cash * rate < minimum:
            top_up = max(minimum, int(self.size * rng.uniform(0.05, 0.2) / 10_000) * 10_000)
            self._deposit(account, moment, top_up)
        available = account.cash.get(USD, Decimal(0)) + account.cash[KRW] / rate
        budget = _cents(available * Decimal(str(rng.uniform(0.3, 0.9))), ROUND_FLOOR)
        price = self.price(security, day)
        quantity = int(budget / (price * (1 + OVERSEAS_COMMISSION_RATE)))
        if quantity < 1:
            return
        amount = Decimal(quantity) * price
        needed = amount + _cents(amount * OVERSEAS_COMMISSION_RATE, ROUND_FLOOR) - account.cash.get(USD, Decimal(0))
        if needed > 0:
            self._exchange(account, moment, needed)
        self._buy(account, moment, security, budget)

    def _products(self, account: _Account) -> list[dict[str, Any]]:
        products = []
        for holding in account.holdings.values():
            if holding.quantity == 0:
                continue
            security = holding.security
            price = self.price(security, self.as_of)
            value = Decimal(holding.quantity) * price
            if security.is_fund:
                value /= 1000
            product: dict[str, Any] = {
                "prod_type": security.prod_type,
                "prod_type_detail": security.detail,
                "prod_code": security.code,
                "prod_name": security.name,
                "purchase_amt": holding.cost,
                "holding_num": Decimal(holding.quantity),
                "avail_for_sale_num": Decimal(holding.quantity),
                "eval_amt": _money(value, security.currency),
                "currency_code": security.currency,
            }
            if security.is_fund:
                if holding.first_paid_in is not None:
                    product["issue_date"] = holding.first_paid_in.strftime("%Y%m%d")
                product["paid_in_amt"] = holding.paid_in
                product["withdrawal_amt"] = holding.withdrawn
                if holding.last_paid_in is not None:
                    product["last_paid_in_date"] = holding.last_paid_in.strftime("%Y%m%d")
            products.append(product)
        return products

    # pension savings --------------------------------------------------------------------------------------
    def _pension_account(self) -> tuple[_Account, _Pension]:
        person, rng, window, as_of = self.person, self.rng, self.window, self.as_of
        issue = self._opening_date(20, 15, as_of - timedelta(days=40))
        account = _Account(self._account_num("22"), "201", rng.choice(PENSION_NAMES), issue)
        monthly = min(
            1_500_000, max(100_000, int(person.monthly_net_income * rng.uniform(0.02, 0.1) / 50_000) * 50_000)
        )
        pension = _Pension(monthly=monthly)
        eligible = max(add_months(self._birth(), 55 * 12), add_months(issue, 60))
        eligible = add_months(eligible.replace(day=1), 1)
        if person.age >= 56 and eligible < add_months(as_of, -1) and rng.random() < 0.5:
            latest = add_months(as_of, -1)
            pension.rcv_start = add_months(eligible, rng.randint(0, max(0, _months_between(eligible, latest))))
        else:
            pension.rcv_start = max(eligible, add_months(as_of.replace(day=1), 1))
        products = rng.sample([s for s in SECURITIES.values() if s.pension], rng.randint(1, 3))
        contribution_day = min(28, person.payday + rng.randint(1, 5))
        receiving = pension.rcv_start <= as_of
        # contributions before the window, with gaps
        keeping = rng.uniform(0.6, 1.0)
        month = issue.replace(day=1)
        while month < window.start.replace(day=1):
            if receiving and month >= pension.rcv_start:
                break
            if rng.random() < keeping:
                pension.contributions[month.year] = pension.contributions.get(month.year, 0) + monthly
            month = add_months(month, 1)
        start = business_day_after(max(window.start, issue))
        if issue < window.start:
            value = sum(pension.contributions.values()) * rng.uniform(0.95, 1.35)
            if receiving:
                elapsed = _months_between(pension.rcv_start, window.start)
                value *= max(0.2, 1 - elapsed / PENSION_PAYOUT_MONTHS)
            last_paid_in = min(add_months(window.start, -1), add_months(pension.rcv_start, -1))
            self._initial_pension_holdings(account, products, value, last_paid_in)
        events: list[_Event] = []
        order = 0

        def add(day: date | None, seconds: int, action: Callable[[date, int], None]) -> None:
            nonlocal order
            if day is not None and day in window and day >= start:
                order += 1
                events.append((day, seconds, order, action))

        for year, month_number in window.months():
            first = date(year, month_number, 1)
            paying_out = receiving and pension.rcv_start is not None and first >= pension.rcv_start
            if paying_out:
                add(
                    self._trading_day(year, month_number, 25),
                    seconds_between(rng, 8, 9),
                    _at(self._payout, account, pension),
                )
            else:
                day = self._trading_day(year, month_number, contribution_day)
                add(day, seconds_between(rng, 6, 8), _at(self._contribute, account, pension))
                add(day, seconds_between(rng, 10, 14), _at(self._invest_cash, account, products))
            for security in products:
                if month_number in security.dividend_months:
                    add(
                        self._trading_day(year, month_number, 20),
                        seconds_between(rng, 6, 7),
                        _at(self._dividend, account, security),
                    )
        for day in self._quarter_ends(start):
            add(day, 23 * 3600 + 50 * 60, _at(self._interest, account))
        self._run(events)
        if receiving and pension.rcv_start is not None and pension.rcv_start < window.start and pension.payout:
            pension.received += pension.payout * _months_between(pension.rcv_start, window.start)
        return account, pension

    def _initial_pension_holdings(
        self, account: _Account, products: list[Security], value: float, last_paid_in: date
    ) -> None:
        rng, start = self.rng, self.window.start
        first_day = business_day_after(start)
        for security in products:
            price = self.price(security, first_day)
            share = Decimal(value / len(products))
            quantity = int(share * 1000 / price) if security.is_fund else int(share / price)
            if quantity < 1:
                continue
            cost = _krw(share / Decimal(str(rng.uniform(1.0, 1.3))))
            holding = _Holding(security, quantity, cost)
            if security.is_fund:
                holding.paid_in = cost
                holding.first_paid_in = account.issue
                holding.last_paid_in = max(account.issue, last_paid_in)
            account.holdings[security.code] = holding
        account.cash[KRW] = Decimal(rng.randint(0, 50) * 1000)

    def _contribute(self, account: _Account, moment: tuple[date, int], pension: _Pension) -> None:
        year = moment[0].year
        if pension.contributions.get(year, 0) + pension.monthly > PENSION_PAID_IN_LIMIT:
            return
        pension.contributions[year] = pension.contributions.get(year, 0) + pension.monthly
        self._deposit(account, moment, pension.monthly, "연금저축 납입")

    def _invest_cash(self, account: _Account, moment: tuple[date, int], products: list[Security]) -> None:
        cash = account.cash[KRW]
        if cash < 10_000:
            return
        for number, security in enumerate(products):
            budget = _krw(account.cash[KRW] / (len(products) - number), ROUND_FLOOR)
            self._buy(account, moment, security, budget)

    def _payout(self, account: _Account, moment: tuple[date, int], pension: _Pension) -> None:
        day = moment[0]
        held = [h for h in account.holdings.values() if h.quantity > 0]
        if not pension.payout:
            value = sum(
                (h.quantity * self.price(h.security, day) / (1000 if h.security.is_fund else 1) for h in held),
                Decimal(0),
            )
            elapsed = _months_between(pension.rcv_start or day, day)
            remaining = max(12, PENSION_PAYOUT_MONTHS - elapsed)
            pension.payout = max(100_000, int((value + account.cash[KRW]) / remaining / 10_000) * 10_000)
        payout = Decimal(pension.payout)
        for holding in held:
            if account.cash[KRW] >= payout:
                break
            price = self.price(holding.security, day)
            missing = payout - account.cash[KRW]
            unit_value = price / 1000 if holding.security.is_fund else price
            quantity = min(holding.quantity, int(missing / unit_value) + 1)
            self._sell(account, moment, holding, quantity)
        payout = min(payout, account.cash[KRW])
        if payout <= 0:
            return
        tax = _krw(payout * pension_tax_rate(self.person.age), ROUND_FLOOR)
        self._record(account, moment, "203", "연금지급", KRW, payout, payout - tax)
        pension.received += int(payout)

    def _pension_info(self, pension: _Pension) -> dict[str, Any]:
        total = sum(pension.contributions.values())
        deductible = sum(min(paid, PENSION_CREDIT_LIMIT) for paid in pension.contributions.values())
        info: dict[str, Any] = {
            "total_paid_in_amt": total,
            "cur_year_paid_in_amt": pension.contributions.get(self.as_of.year, 0),
            "tax_deductible_amt": deductible,
            "non_deductible_amt": total - deductible,
            "paid_in_limit_amt": PENSION_PAID_IN_LIMIT,
            "currency_code": KRW,
        }
        if pension.rcv_start is not None:
            info = {"pension_rcv_start_date": pension.rcv_start.strftime("%Y%m%d"), **info}
        if pension.received:
            info["rcv_amt"] = pension.received
        return info


def _months_between(start: date, end: date) -> int:
    return max(0, (end.year - start.year) * 12 + end.month - start.month)


def share(person: Person) -> float:
    """The probability that `person` is a customer of one securities firm: highest at 25–60, rising with income."""
    age = person.age
    if age < 25:
        base = 0.07
    elif age <= 60:
        base = 0.16
    elif age <= 70:
        base = 0.09
    else:
        base = 0.04
    income = math.exp(0.35 * person.income_level)
    thin = 0.7 if person.thin_file else 1.0
    return min(0.45, base * income * thin)


def customer(person: Person, org_code: str, seed: int, as_of: date) -> InvestCustomer:
    return InvestCustomer(person, org_code, seed, as_of)


__all__ = ["CODES", "SECURITIES", "InvestCustomer", "customer", "price_path", "share"]
