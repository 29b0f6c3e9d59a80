"""One card customer's data: 카드-001…012 records, and 선불-001…004 for the prepaid cards some hold (`prepaid`).

Per customer 1–3 cards (credit 01 and check 02; thin-file customers hold one check card). Each month of the
window has domestic approvals (카드-008) whose count and amounts follow the person's spending propensity and a
category mix (`merchants.CATEGORIES`), a few cancellations, instalment purchases on big tickets, and for some
people overseas approvals (카드-009: a trip, or online purchases abroad).

Billing rule (what the tests check): the bill of charge month M (카드-004, seqno "1", one bill per month for all
credit cards) covers the credit-card usage of calendar month M-1: every approved, not cancelled lump-sum
domestic approval, every overseas approval at its KRW amount, and slice k of every instalment purchase made in
month M-k. Its lines are the 카드-005 bill details, and charge_amt = Σ paid_amt + Σ credit_fee_amt of the lines.
Bills are issued for charge dates up to `as_of`; the next bills appear as upcoming payments (카드-006).
The bill's paid_out_date (출금일) is the charge date, later for late payers (`behaviour.CARD_BILL`).
Revolving (카드-007), outstanding cash advances (카드-011) and card loans (카드-012) go to riskier people; they
are settled outside the bills.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from openmydata.kit.clock import add_months
from openmydata.sandbox import behaviour, merchants, prepaid
from openmydata.sandbox.population import Person, derive_rng, permute
from openmydata.sandbox.records import RecordSink
from openmydata.sandbox.timeline import (
    Window,
    business_day_after,
    dtime,
    month_day,
    month_text,
    next_month,
    seconds_between,
)

CODES: dict[str, dict[str, str]] = {
    "prod_type": {"01": "일시불 (lump sum)", "02": "할부 (instalment)", "03": "해외 일시불 (overseas)"},
    "loan_type": {"01": "장기카드대출 (card loan)"},
    "repay_method": {"02": "원리금균등분할상환 (annuity)"},
}

CUSTOMER_SHARE = 0.70  # of people with a credit history
THIN_FILE_SHARE = 0.20  # of thin-file people, who hold one check card
INSTALMENT_MONTHS = (2, 3, 3, 6, 6, 10, 12)
INSTALMENT_FEE_RATE = 0.16  # yearly, on the remaining instalment balance
OVERSEAS_FEE_RATE = 0.01
CANCEL_SHARE = 0.03
KRW = "KRW"

CREDIT_CARDS = (
    "에브리 포인트 카드",
    "올데이 할인 카드",
    "생활 플러스 카드",
    "프리미엄 마일리지 카드",
    "디지털 캐시백 카드",
)
CHECK_CARDS = ("스마트 체크카드", "청춘 체크카드", "트래블 체크카드", "데일리 체크카드")
BANK_CODES = ("004", "088", "020", "081", "011", "090", "089", "003")
BRAND_PREFIX = {"I01": "4", "I02": "5", "I04": "3", "I05": "3", "D06": "9", "D08": "9"}


@dataclass(slots=True)
class _Approval:
    card_id: str
    approved_num: str
    moment: tuple[date, int]
    merchant: str
    amount: int  # KRW (domestic) or the foreign amount in minor units scaled by `decimals`
    cancelled_at: tuple[date, int] | None = None
    instalments: int | None = None
    overseas: merchants.Overseas | None = None
    krw: int = 0
    month_index: int = field(init=False)  # year * 12 + month - 1 of the approval
    dtime: str = field(init=False)

    def __post_init__(self) -> None:
        day = self.moment[0]
        self.month_index = day.year * 12 + day.month - 1
        self.dtime = dtime(*self.moment)


@dataclass
class _Card:
    card_id: str
    card_num: str
    name: str
    card_type: str
    brand: str
    issue: date
    weight: float
    approvals: list[_Approval] = field(default_factory=list)


class CardCustomer:
    """Generates one person's cards at one card company."""

    def __init__(self, person: Person, org_code: str, seed: int, as_of: date):
        self.person = person
        self.org_code = org_code
        self.seed = seed
        self.as_of = as_of
        self.window = Window.ending(as_of)
        self.rng = derive_rng(seed, "card", org_code, person.index)
        self.charge_day = self.rng.choice((1, 5, 10, 12, 14, 14, 15, 17, 21, 23, 25, 27))

    def build(self, sink: RecordSink) -> dict[str, str]:
        """Add the customer's records to `sink`; returns the customer fields of `CustomerData` (no records)."""
        person = self.person
        cards = self._cards()
        for card in cards:
            self._domestic(card)
            self._overseas(card)
        card_payloads = {}
        for card in cards:
            card_payloads[card.card_id] = sink.add(
                "카드-001",
                {
                    "card_id": card.card_id,
                    "card_num": card.card_num,
                    "is_consent": False,
                    "card_name": card.name,
                    "card_member": "2" if self.rng.random() < 0.03 else "1",
                },
            )
        for card in cards:
            source = card_payloads[card.card_id]
            basic: dict[str, Any] = {
                "card_type": card.card_type,
                "is_trans_payable": card.card_type == "01" or self.rng.random() < 0.5,
                "is_cash_card": card.card_type == "02" and self.rng.random() < 0.4,
                "card_brand": card.brand,
                "issue_date": card.issue.strftime("%Y%m%d"),
            }
            if card.card_type == "02":
                basic["linked_bank_code"] = self.rng.choice(BANK_CODES)
            else:
                basic["annual_fee"] = Decimal(self.rng.choice((10_000, 15_000, 20_000, 30_000, 100_000)))
            sink.add("카드-002", basic, source=source)
            for approval in card.approvals:
                if approval.overseas is None:
                    sink.add("카드-008", self._domestic_payload(card, approval), source=source)
                else:
                    sink.add("카드-009", self._overseas_payload(card, approval), source=source)
        self._points(sink, cards)
        self._bills(sink, cards)
        revolving = self._revolving(sink, cards)
        short_term = self._short_term(sink, cards)
        long_term = self._long_term(sink)
        sink.add(
            "카드-010",
            {"is_loan_revolving": revolving, "is_loan_short_term": short_term, "is_loan_long_term": long_term},
        )
        # 선불-001…004, from a random stream of their own (the records above do not depend on them)
        first_prepaid = prepaid.prepaid_cards(person, self.org_code, self.seed, self.as_of).build(sink)
        first = min(card.issue for card in cards)
        return {
            "ci": person.ci,
            "name": person.name,
            "birth_date": person.birth_date,
            "phone": person.phone,
            "reg_date": min(first, first_prepaid or first).strftime("%Y%m%d"),
        }

    # cards ----------------------------------------------------------------------------------------------
    def _cards(self) -> list[_Card]:
        person, rng = self.person, self.rng
        if person.thin_file:
            kinds = ["02"]
        else:
            count = rng.choices((1, 2, 3), weights=(0.5, 0.35, 0.15))[0]
            kinds = ["01"] + ["01" if rng.random() < 0.6 else "02" for _ in range(count - 1)]
        weights = [0.7, 0.2, 0.1][: len(kinds)]
        total = sum(weights)
        scrambled = permute(person.index, 10**8, self.seed, "card", self.org_code)
        cards = []
        for number, (kind, weight) in enumerate(zip(kinds, weights, strict=True), start=1):
            brand = (
                rng.choice(("I01", "I02", "D08", "I05", "I04"))
                if kind == "01"
                else rng.choice(("D08", "I01", "I02", "D06"))
            )
            head = BRAND_PREFIX[brand] + f"{rng.randrange(1000):03d}"
            tail = f"{rng.randrange(10_000):04d}"
            cards.append(
                _Card(
                    card_id=f"{scrambled:08d}{number:02d}",
                    card_num=f"{head}-{rng.randrange(100):02d}**-****-{tail}",
                    name=rng.choice(CREDIT_CARDS if kind == "01" else CHECK_CARDS),
                    card_type=kind,
                    brand=brand,
                    issue=self._issue_date(),
                    weight=weight / total,
                )
            )
        return cards

    def _issue_date(self) -> date:
        birth = date(int(self.person.birth_date[:4]), int(self.person.birth_date[4:6]), 1)
        earliest = max(add_months(birth, 19 * 12), add_months(self.as_of, -10 * 12))
        latest = self.as_of - timedelta(days=30)
        if self.rng.random() > 0.15:  # most cards predate the window
            latest = min(latest, self.window.start - timedelta(days=1))
        if latest <= earliest:
            return min(earliest, latest)
        return earliest + timedelta(days=self.rng.randint(0, (latest - earliest).days))

    # approvals ------------------------------------------------------------------------------------------
    def _monthly_budget(self) -> float:
        person = self.person
        share = 0.4 if person.thin_file else 0.6
        return person.monthly_net_income * person.spending * share

    def _domestic(self, card: _Card) -> None:
        person, rng = self.person, self.rng
        count_mean = (6 + 18 * min(person.spending, 1.2) / 1.2) * card.weight * (1.6 if person.thin_file else 1.0)
        mean_ticket = sum(c.weight * c.median * math.exp(c.sigma**2 / 2) for c in merchants.CATEGORIES)
        total_weight = sum(c.weight for c in merchants.CATEGORIES)
        factor = self._monthly_budget() * card.weight / (count_mean * mean_ticket / total_weight)
        factor = min(3.0, max(0.3, factor))
        used: set[tuple[date, int]] = set()
        for year, month in self.window.months():
            for _ in range(behaviour.poisson(rng, count_mean)):
                day = self.window.random_day(rng, year, month)
                if day is None or day <= card.issue:
                    continue
                category = merchants.pick_category(rng)
                amount = merchants.lognormal_amount(rng, category.median * factor, category.sigma, 10)
                moment = self._unique_moment(used, day, 7, 23)
                instalments = None
                if card.card_type == "01" and category.installable and amount >= 50_000 and rng.random() < 0.3:
                    instalments = rng.choice(INSTALMENT_MONTHS)
                cancelled = None
                if rng.random() < CANCEL_SHARE and day.day <= 25:
                    cancel_day = day + timedelta(days=rng.randint(0, 3))
                    if cancel_day <= self.as_of:
                        cancelled = (
                            cancel_day,
                            min(86_399, moment[1] + 3600) if cancel_day == day else seconds_between(rng, 9, 20),
                        )
                card.approvals.append(
                    _Approval(
                        card.card_id,
                        self._approved_num(card),
                        moment,
                        merchants.merchant_name(rng, category),
                        amount,
                        cancelled_at=cancelled,
                        instalments=instalments,
                    )
                )
        card.approvals.sort(key=lambda approval: approval.moment)

    def _overseas(self, card: _Card) -> None:
        person, rng = self.person, self.rng
        if not card.brand.startswith("I"):
            return
        used = {approval.moment for approval in card.approvals}
        events: list[tuple[int, int, merchants.Overseas]] = []
        if rng.random() < min(0.45, max(0.05, 0.15 + 0.08 * person.income_level)) * card.weight * 1.5:
            year, month = rng.choice(self.window.months())
            country = rng.choice(merchants.OVERSEAS)
            events += [(year, month, country)] * rng.randint(4, 12)
        if rng.random() < 0.2 * card.weight * 1.5:
            online = merchants.OVERSEAS[1]
            for year, month in self.window.months():
                events += [(year, month, online)] * behaviour.poisson(rng, 0.8)
        for year, month, country in events:
            day = self.window.random_day(rng, year, month)
            if day is None or day <= card.issue:
                continue
            scale = 10**country.decimals
            amount = max(1, round(country.median * math.exp(0.7 * rng.gauss(0.0, 1.0)) * scale))
            krw = round(amount / scale * country.krw_per_unit)
            card.approvals.append(
                _Approval(
                    card.card_id,
                    self._approved_num(card),
                    self._unique_moment(used, day, 0, 23),
                    rng.choice(country.merchants),
                    amount,
                    overseas=country,
                    krw=max(1, krw),
                )
            )
        card.approvals.sort(key=lambda approval: approval.moment)

    def _unique_moment(self, used: set[tuple[date, int]], day: date, first: int, last: int) -> tuple[date, int]:
        while True:
            moment = (day, seconds_between(self.rng, first, last))
            if moment not in used:
                used.add(moment)
                return moment

    def _approved_num(self, card: _Card) -> str:
        return f"{len(card.approvals) + 1:04d}{self.rng.randrange(10**8):08d}"

    def _domestic_payload(self, card: _Card, approval: _Approval) -> dict[str, Any]:
        values: dict[str, Any] = {
            "approved_num": approval.approved_num,
            "approved_dtime": approval.dtime,
            "status": "02" if approval.cancelled_at else "01",
            "pay_type": "01" if card.card_type == "01" else "02",
            "merchant_name": approval.merchant,
            "merchant_regno": merchants.business_regno(approval.merchant),
            "approved_amt": approval.amount,
        }
        if approval.cancelled_at is not None:
            values["cancel_dtime"] = dtime(*approval.cancelled_at)
        if approval.instalments is not None:
            values["total_install_cnt"] = approval.instalments
        return values

    def _overseas_payload(self, card: _Card, approval: _Approval) -> dict[str, Any]:
        assert approval.overseas is not None
        return {
            "approved_num": approval.approved_num,
            "approved_dtime": approval.dtime,
            "status": "01",
            "pay_type": "01" if card.card_type == "01" else "02",
            "merchant_name": approval.merchant,
            "approved_amt": Decimal(approval.amount).scaleb(-approval.overseas.decimals),
            "country_code": approval.overseas.country_code,
            "currency_code": approval.overseas.currency_code,
            "krw_amt": approval.krw,
        }

    # bills ----------------------------------------------------------------------------------------------
    def _bill_lines(self, cards: list[_Card]) -> dict[int, list[dict[str, Any]]]:
        """The 카드-005 lines of every bill, by charge month (as year * 12 + month - 1).

        The bill of charge month M holds the usage of month M-1: every approved, not cancelled lump-sum or
        overseas approval of month M-1, and slice k of every instalment purchase of month M-k. Lines are in
        (paid_dtime, card_id) order.
        """
        bills: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for card in cards:
            if card.card_type != "01":
                continue
            for approval in card.approvals:
                if approval.cancelled_at is not None:
                    continue
                line: dict[str, Any] = {
                    "card_id": card.card_id,
                    "paid_dtime": approval.dtime,
                    "currency_code": KRW,
                    "merchant_name": approval.merchant,
                }
                following = approval.month_index + 1
                if approval.overseas is not None:
                    bills[following].append(
                        line
                        | {
                            "paid_amt": approval.krw,
                            "prod_type": "03",
                            "credit_fee_amt": round(approval.krw * OVERSEAS_FEE_RATE),
                        }
                    )
                elif approval.instalments is None:
                    bills[following].append(
                        line | {"paid_amt": approval.amount, "prod_type": "01", "credit_fee_amt": 0}
                    )
                else:
                    for slice_number in range(1, approval.instalments + 1):
                        principal, fee, remaining = instalment_slice(
                            approval.amount, approval.instalments, slice_number
                        )
                        bills[approval.month_index + slice_number].append(
                            line
                            | {
                                "paid_amt": principal,
                                "prod_type": "02",
                                "credit_fee_amt": fee,
                                "total_install_cnt": approval.instalments,
                                "cur_install_cnt": slice_number,
                                "balance_amt": remaining,
                            }
                        )
        for lines in bills.values():
            lines.sort(key=lambda line: (line["paid_dtime"], line["card_id"]))
        return bills

    def _charge_date(self, year: int, month: int) -> date:
        return business_day_after(month_day(year, month, self.charge_day))

    def _bills(self, sink: RecordSink, cards: list[_Card]) -> None:
        if not any(card.card_type == "01" for card in cards):
            return
        issued: list[tuple[tuple[int, int], date, list[dict[str, Any]]]] = []
        upcoming: list[tuple[date, list[dict[str, Any]]]] = []
        bills = self._bill_lines(cards)
        for usage in self.window.months():
            charge_month = next_month(*usage)
            charge_date = self._charge_date(*charge_month)
            lines = bills.get(charge_month[0] * 12 + charge_month[1] - 1, [])
            if charge_date <= self.as_of:
                issued.append((charge_month, charge_date, lines))
            else:
                upcoming.append((charge_date, lines))
        states = behaviour.payment_states(self.rng, self.person.risk, len(issued), behaviour.CARD_BILL)
        for index, ((charge_month, charge_date, lines), state) in enumerate(zip(issued, states, strict=True)):
            if not lines:
                continue
            paid_out = charge_date
            if state is behaviour.PaymentState.LATE:
                paid_out = charge_date + timedelta(days=self.rng.randint(1, 20))
            elif state is behaviour.PaymentState.MISSED:
                following = issued[index + 1][1] if index + 1 < len(issued) else self.as_of
                paid_out = max(charge_date, following)
            bill = sink.add(
                "카드-004",
                {
                    "seqno": "1",
                    "charge_amt": _total(lines),
                    "charge_day": f"{self.charge_day:02d}",
                    "charge_month": month_text(*charge_month),
                    "paid_out_date": min(paid_out, self.as_of).strftime("%Y%m%d"),
                    "card_type": "01",
                },
            )
            for line in lines:
                sink.add("카드-005", line, source=bill)
        for charge_date, lines in upcoming:
            if lines:
                sink.add(
                    "카드-006", {"seqno": "1", "pay_due_date": charge_date.strftime("%Y%m%d"), "pay_amt": _total(lines)}
                )

    # points, revolving, loans ---------------------------------------------------------------------------
    def _points(self, sink: RecordSink, cards: list[_Card]) -> None:
        spent = sum(a.krw if a.overseas else a.amount for c in cards for a in c.approvals if a.cancelled_at is None)
        carried = self.rng.randint(0, 20_000)
        sink.add(
            "카드-003",
            {
                "point_name": "카드 포인트",
                "remain_point_amt": Decimal(int(spent * 0.005) + carried),
                "expiring_point_amt": Decimal(min(carried, self.rng.randint(0, 3_000))),
            },
        )
        if any("마일리지" in card.name for card in cards):
            sink.add("카드-003", {"point_name": "항공 마일리지", "remain_point_amt": Decimal(int(spent / 1500))})

    def _has(self, base: float, slope: float) -> bool:
        return self.rng.random() < behaviour.logistic(base + slope * self.person.risk)

    def _revolving(self, sink: RecordSink, cards: list[_Card]) -> bool:
        if not any(card.card_type == "01" for card in cards) or not self._has(-2.4, 1.2):
            return False
        rng = self.rng
        req_date = self.window.start + timedelta(days=rng.randint(0, (self.as_of - self.window.start).days))
        min_rate = rng.choice((10, 20, 30))
        remained = int(self._monthly_budget() * rng.uniform(0.5, 3.0) / 10) * 10
        sink.add(
            "카드-007",
            {
                "req_date": req_date.strftime("%Y%m%d"),
                "min_pay_rate": Decimal(min_rate),
                "min_pay_amt": Decimal(int(remained * min_rate / 100)),
                "agreed_pay_rate": Decimal(rng.choice((min_rate, 50, 70, 90))),
                "remained_amt": Decimal(remained),
            },
        )
        return True

    def _short_term(self, sink: RecordSink, cards: list[_Card]) -> bool:
        """현금서비스 taken since the last statement, to be repaid with the next bill."""
        if not any(card.card_type == "01" for card in cards) or not self._has(-2.2, 1.0):
            return False
        rng = self.rng
        due_year, due_month = next_month(self.as_of.year, self.as_of.month)
        due = self._charge_date(due_year, due_month)
        used: set[tuple[date, int]] = set()
        for _ in range(rng.randint(1, 2)):
            day = self.as_of - timedelta(days=rng.randint(0, min(20, self.as_of.day - 1)))
            sink.add(
                "카드-011",
                {
                    "loan_dtime": dtime(*self._unique_moment(used, day, 9, 22)),
                    "loan_amt": Decimal(rng.randint(3, 30) * 100_000),
                    "pay_due_date": due.strftime("%Y%m%d"),
                    "int_rate": Decimal(f"{rng.uniform(15.0, 19.9):.2f}"),
                },
            )
        return True

    def _long_term(self, sink: RecordSink) -> bool:
        """장기카드대출 (카드론) taken during the window, repaid monthly (annuity)."""
        if self.person.thin_file or not self._has(-2.6, 0.9):
            return False
        rng = self.rng
        count = rng.randint(1, 2)
        for number in range(1, count + 1):
            day = self.window.start + timedelta(days=rng.randint(0, (self.as_of - self.window.start).days - 1))
            principal = rng.randint(3, 30) * 1_000_000
            term = rng.choice((12, 24, 36))
            rate = min(19.9, 7.0 + 2.5 * max(self.person.risk + 1.0, 0.0) + rng.uniform(-1.0, 1.0))
            balance, interest = _annuity_balance(
                principal, rate, term, _months_after((day.year, day.month), (self.as_of.year, self.as_of.month))
            )
            sink.add(
                "카드-012",
                {
                    "loan_dtime": dtime(day, seconds_between(rng, 9, 20)),
                    "loan_cnt": number,
                    "loan_type": "01",
                    "loan_name": "장기카드대출(카드론)",
                    "loan_amt": Decimal(principal),
                    "int_rate": Decimal(f"{rate:.2f}"),
                    "exp_date": add_months(day, term).strftime("%Y%m%d"),
                    "balance_amt": Decimal(balance),
                    "repay_method": "02",
                    "int_amt": Decimal(interest),
                },
            )
        return True


def instalment_slice(amount: int, count: int, number: int) -> tuple[int, int, int]:
    """Slice `number` of an instalment purchase: (principal, fee, remaining balance after it).

    Principal is amount // count, the last slice takes the remainder; the fee is INSTALMENT_FEE_RATE / 12 on the
    balance before the slice.
    """
    part = amount // count
    before = amount - part * (number - 1)
    principal = before if number == count else part
    fee = round(before * INSTALMENT_FEE_RATE / 12)
    return principal, fee, before - principal


def _annuity_balance(principal: int, rate: float, term: int, paid: int) -> tuple[int, int]:
    """(balance, last month's interest) after `paid` monthly annuity payments."""
    monthly = rate / 100 / 12
    payment = principal * monthly / (1 - (1 + monthly) ** -term)
    balance = float(principal)
    interest = 0.0
    for _ in range(min(paid, term)):
        interest = balance * monthly
        balance -= payment - interest
    return max(0, round(balance)), round(interest)


def _total(lines: list[dict[str, Any]]) -> int:
    return sum(line["paid_amt"] + line["credit_fee_amt"] for line in lines)


def _months_after(start: tuple[int, int], end: tuple[int, int]) -> int:
    return (end[0] - start[0]) * 12 + end[1] - start[1]


def share(person: Person) -> float:
    """The probability that `person` is a customer of one card institution."""
    return THIN_FILE_SHARE if person.thin_file else CUSTOMER_SHARE


def customer(person: Person, org_code: str, seed: int, as_of: date) -> CardCustomer:
    return CardCustomer(person, org_code, seed, as_of)


__all__ = ["CODES", "CUSTOMER_SHARE", "THIN_FILE_SHARE", "CardCustomer", "customer", "instalment_slice", "share"]
