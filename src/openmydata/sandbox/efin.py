"""One e-finance customer's data (a pay app: 간편결제 and 선불충전): 전금-001…004 and 전금-101…103 records.

Per customer one member account (`sub_key`, 전금-101) with a linked bank account and, for people with a credit
history, one or two cards registered as payment methods (전금-102). Most customers also hold the app's prepaid money
(`페이머니`, 전금-001) and some a gift balance (`모바일상품권`). Every month of the window has payments at merchants
(`merchants.CATEGORIES`, weighted towards online shopping, delivery and cafés), made with the money, the reward
points, a card or the bank account; money and gift payments appear both as prepaid transactions (전금-004) and as
payments (전금-103), card and account payments only as payments. The money is topped up from the bank account: by hand
when a payment needs it, or by an automatic top-up (전금-003: on a day of the month, or when the balance falls below a
base amount), and it also moves by transfers to and from friends and withdrawals back to the bank. Payments with money
earn 0.5% reward points, credited together on the 10th of each month (points not yet credited are `reserve_due_amt`);
a cancelled payment gives its money back and its points up. Balances (전금-002) are the running sums of the
transactions.

Younger people use pay apps more (share and activity fall with age); thin-file people register no card. Code values
are the sandbox's reading (`CODES`), as the standard's tables are not public.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from openmydata.kit.clock import add_months
from openmydata.sandbox import behaviour, merchants
from openmydata.sandbox.population import Person, derive_rng, permute, seeded_faker
from openmydata.sandbox.records import RecordSink
from openmydata.sandbox.timeline import Window, dtime, month_day, next_month, seconds_between

CODES: dict[str, dict[str, str]] = {
    "account_status": {"01": "활동 (active)"},
    "charge_option": {
        "01": "정기충전 (on charge_day every month)",
        "02": "잔액충전 (when the balance falls below charge_base_amt)",
    },
    "prepaid trans_type": {
        "01": "충전 (top-up from the bank account)",
        "02": "결제 (payment)",
        "03": "결제취소 (refund of a payment)",
        "04": "송금 (sent to someone)",
        "05": "입금 (received from someone, or a gift)",
        "06": "출금 (withdrawn to the bank account)",
        "07": "적립 (reward points credited)",
    },
    "payment trans_type": {"01": "결제 (payment)", "02": "결제취소 (cancellation)"},
    "pay_type": {"01": "계좌 (bank account)", "02": "카드 (card)"},
    "pay_method": {"01": "선불충전금 (prepaid money)", "02": "포인트 (reward points)", "03": "카드", "04": "계좌"},
    "trans_category": {f"{number:02d}": category.name for number, category in enumerate(merchants.CATEGORIES, 1)},
}

KRW = "KRW"
MONEY_LIMIT = 2_000_000  # 기명식 선불전자지급수단 보유한도
GIFT_LIMIT = 500_000
POINT_RATE = 0.005
CANCEL_SHARE = 0.03
BANK_CODES = ("004", "088", "020", "081", "011", "090", "089", "003", "023", "027")
# KFTC codes of the card companies in `merchants.CARD_COMPANIES`, in the same order
CARD_CODES = ("366", "381", "365", "367", "368", "041", "374", "361", "371")
MONEY_NAME = "페이머니"
GIFT_NAME = "모바일상품권"

# (category name, weight) of pay-app payments
PAY_CATEGORIES: tuple[tuple[str, float], ...] = (
    ("온라인쇼핑", 0.30),
    ("배달", 0.18),
    ("카페", 0.12),
    ("편의점", 0.10),
    ("교통", 0.10),
    ("구독", 0.06),
    ("문화", 0.06),
    ("음식점", 0.05),
    ("뷰티·잡화", 0.03),
)
GIFT_CATEGORIES = ("카페", "편의점")
TITLES: dict[str, tuple[str, ...]] = {
    "온라인쇼핑": ("생활용품 외 2건", "의류", "전자기기 액세서리", "식료품", "도서", "주방용품"),
    "배달": ("치킨", "피자", "분식", "족발·보쌈", "중식", "한식 도시락"),
    "카페": ("아메리카노 외 1건", "카페라떼", "음료 외 2건", "케이크"),
    "편의점": ("도시락 외 2건", "음료", "간편식", "생활용품"),
    "교통": ("택시 이용", "기차 승차권", "교통카드 충전"),
    "구독": ("월 구독료",),
    "문화": ("영화 예매", "공연 예매", "도서"),
    "음식점": ("식사", "포장 주문"),
    "뷰티·잡화": ("화장품", "잡화"),
}
MEMOS_SENT = ("점심값", "커피값", "회비", "택시비", "생일 축하해", "더치페이", "빌린 돈")
MEMOS_RECEIVED = ("점심값", "회비", "정산", "용돈", "더치페이")
_CATEGORY_BY_NAME = {category.name: category for category in merchants.CATEGORIES}
_CATEGORY_CODE = {category.name: f"{number:02d}" for number, category in enumerate(merchants.CATEGORIES, 1)}


@dataclass
class _Method:
    pay_org_code: str
    pay_type: str  # 01 bank account, 02 card
    pay_id: str
    is_primary: bool
    name: str = ""  # card name


@dataclass
class _Fob:
    fob_id: str
    name: str
    limit: int
    withdrawable: bool
    charge: int = 0  # 충전 balance
    reserve: int = 0  # 적립 (points) balance
    transactions: list[dict[str, Any]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.charge + self.reserve


@dataclass
class _AutoCharge:
    option: str
    amount: int
    day: int = 0  # option 01
    base: int = 0  # option 02


@dataclass(order=True)
class _Event:
    day: date
    seconds: int
    kind: str  # pay, send, receive, gift, gift_pay, monthly, credit, withdraw, refill, cancel
    amount: int = 0
    category: str = ""
    data: dict[str, Any] = field(default_factory=dict, compare=False)


def _masked_name(name: str) -> str:
    return name[0] + "*" + name[2:] if len(name) > 2 else name[0] + "*"


class EfinCustomer:
    """Generates one person's member account at one e-finance institution."""

    def __init__(self, person: Person, org_code: str, seed: int, as_of: date):
        self.person = person
        self.org_code = org_code
        self.seed = seed
        self.as_of = as_of
        self.window = Window.ending(as_of)
        self.rng = derive_rng(seed, "efin", org_code, person.index)
        self.used: set[tuple[date, int]] = set()
        self.payments: list[dict[str, Any]] = []
        self._numbers = 0
        self.pending_points = 0
        self.last = (self.window.start, -1)  # moment of the latest record

    # the whole customer ----------------------------------------------------------------------------------
    def build(self, sink: RecordSink) -> dict[str, str]:
        """Add the customer's records to `sink`; returns the customer fields of `CustomerData` (no records)."""
        person, rng = self.person, self.rng
        scrambled = permute(person.index, 10**10, self.seed, "efin", self.org_code)
        self.joined = self._join_date()
        methods = self._methods()
        self.bank = methods[0]
        self.cards = [method for method in methods if method.pay_type == "02"]
        money = _Fob(f"PM{scrambled:010d}01", MONEY_NAME, MONEY_LIMIT, True) if rng.random() < 0.85 else None
        gift = _Fob(f"PM{scrambled:010d}02", GIFT_NAME, GIFT_LIMIT, False) if rng.random() < 0.2 else None
        charges = self._auto_charges() if money is not None and rng.random() < 0.45 else []
        if money is not None and self.joined < self.window.start:
            money.charge = rng.randint(0, 5) * 10_000
            money.reserve = rng.randint(0, 3_000)
        fake = seeded_faker(self.seed, "efin", self.org_code, person.index)
        self.friends = [_masked_name(fake.name()) for _ in range(5)]
        self._simulate(money, gift, charges)

        login = f"{person.phone[:3]}-****-{person.phone[-4:]}"
        fob_payloads = {}
        for fob, is_charge in ((money, bool(charges)), (gift, False)):
            if fob is None:
                continue
            fob_payloads[fob.fob_id] = sink.add(
                "전금-001",
                {
                    "fob_id": fob.fob_id,
                    "fob_name": fob.name,
                    "is_consent": False,
                    "limit_amt": fob.limit,
                    "is_charge": is_charge,
                    "is_withdrawable": fob.withdrawable,
                    "currency_code": KRW,
                    "account_cnt": 1,
                    "account_list": [{"account_id": login}],
                },
            )
        for fob in (money, gift):
            if fob is None:
                continue
            source = fob_payloads[fob.fob_id]
            sink.add("전금-002", self._balance(fob), source=source)
            if fob is money:
                for seq, charge in enumerate(charges, start=1):
                    sink.add("전금-003", self._charge_payload(seq, charge), source=source)
            for transaction in fob.transactions:
                sink.add("전금-004", transaction, source=source)
        account = sink.add(
            "전금-101",
            {
                "sub_key": f"SK{scrambled:010d}",
                "account_id": login,
                "is_consent": False,
                "is_pay": True,
                "account_status": "01",
            },
        )
        for method in methods:
            sink.add(
                "전금-102",
                {
                    "pay_org_code": method.pay_org_code,
                    "pay_type": method.pay_type,
                    "pay_id": method.pay_id,
                    "is_primary": method.is_primary,
                },
                source=account,
            )
        for payment in self.payments:
            sink.add("전금-103", payment, source=account)
        return {
            "ci": person.ci,
            "name": person.name,
            "birth_date": person.birth_date,
            "phone": person.phone,
            "reg_date": self.joined.strftime("%Y%m%d"),
        }

    # set-up ---------------------------------------------------------------------------------------------
    def _join_date(self) -> date:
        """Joined after the 14th birthday and at most 8 years ago; 15% joined during the window's first half."""
        birth = date(int(self.person.birth_date[:4]), int(self.person.birth_date[4:6]), 1)
        if self.rng.random() < 0.15:
            return self.window.start + timedelta(days=self.rng.randint(0, 180))
        earliest = max(add_months(birth, 14 * 12), add_months(self.as_of, -8 * 12))
        latest = self.window.start - timedelta(days=1)
        if latest <= earliest:
            return latest
        return earliest + timedelta(days=self.rng.randint(0, (latest - earliest).days))

    def _methods(self) -> list[_Method]:
        rng = self.rng
        bank = _Method(rng.choice(BANK_CODES), "01", f"{rng.randint(100, 999)}-****-{rng.randrange(10_000):04d}", False)
        methods = [bank]
        if not self.person.thin_file:
            for _ in range(1 if rng.random() < 0.6 else 2):
                index = rng.randrange(len(merchants.CARD_COMPANIES))
                number = f"{rng.choice('3459')}{rng.randrange(1000):03d}-****-****-{rng.randrange(10_000):04d}"
                methods.append(
                    _Method(CARD_CODES[index], "02", number, False, f"{merchants.CARD_COMPANIES[index]} 카드")
                )
        primary = methods[1] if len(methods) > 1 and rng.random() < 0.6 else bank
        primary.is_primary = True
        return methods

    def _auto_charges(self) -> list[_AutoCharge]:
        rng = self.rng
        monthly = _AutoCharge(
            "01", rng.choice((50_000, 100_000, 100_000, 200_000, 300_000)), day=rng.choice((1, 5, 10, 15, 20, 25))
        )
        threshold = _AutoCharge(
            "02", rng.choice((30_000, 50_000, 50_000, 100_000)), base=rng.choice((10_000, 20_000, 30_000, 50_000))
        )
        roll = rng.random()
        if roll < 0.1:
            return [monthly, threshold]
        return [monthly] if roll < 0.4 else [threshold]

    def _activity(self) -> float:
        """Mean pay-app payments a month: about 14 at 20, falling with age; more for big spenders."""
        age_factor = max(0.15, 1.0 - max(0, self.person.age - 22) / 45)
        return 14.0 * age_factor * (0.5 + self.person.spending)

    # the month-by-month simulation ---------------------------------------------------------------------
    def _moment(self, day: date, first_hour: int = 7, last_hour: int = 23) -> int:
        while True:
            seconds = seconds_between(self.rng, first_hour, last_hour)
            if (day, seconds) not in self.used:
                self.used.add((day, seconds))
                return seconds

    def _near(self, day: date, seconds: int) -> int:
        """The first free second from `seconds` on (wrapping to midnight), reserved."""
        candidate = seconds
        while (day, candidate) in self.used:
            candidate = (candidate + 1) % 86_400
        self.used.add((day, candidate))
        return candidate

    def _before(self, day: date, seconds: int) -> int:
        """A free second up to 40 seconds before `seconds` but after the last record (for a top-up that a debit
        needs); the debit's own second when there is no room, the top-up then being recorded first."""
        floor = self.last[1] + 1 if self.last[0] == day else 0
        candidate = max(floor, seconds - 40)
        while candidate < seconds and (day, candidate) in self.used:
            candidate += 1
        if candidate >= seconds:
            return seconds
        self.used.add((day, candidate))
        return candidate

    def _after(self, day: date, seconds: int, offset: int) -> int:
        """A free second `offset` or more seconds after `seconds` on the same day, else `seconds` itself."""
        candidate = seconds + offset
        while candidate <= 86_399 and (day, candidate) in self.used:
            candidate += 1
        if candidate > 86_399:
            return seconds
        self.used.add((day, candidate))
        return candidate

    def _events(self, money: _Fob | None, gift: _Fob | None, charges: list[_AutoCharge]) -> list[_Event]:
        rng, person = self.rng, self.person
        names = [name for name, _ in PAY_CATEGORIES]
        weights = [weight for _, weight in PAY_CATEGORIES]
        young = person.age < 35
        events: list[_Event] = []

        def day_in(year: int, month: int) -> date | None:
            day = self.window.random_day(rng, year, month)
            return day if day is not None and day > self.joined else None

        for year, month in self.window.months():
            for _ in range(behaviour.poisson(rng, self._activity())):
                day = day_in(year, month)
                category = rng.choices(names, weights)[0]
                if day is not None:
                    events.append(_Event(day, self._moment(day), "pay", category=category))
            if money is None:
                continue
            for kind, mean in (("send", 1.2 if young else 0.4), ("receive", 1.0 if young else 0.3)):
                for _ in range(behaviour.poisson(rng, mean)):
                    day = day_in(year, month)
                    if day is not None:
                        amount = merchants.lognormal_amount(rng, 25_000, 0.7, 1000)
                        events.append(_Event(day, self._moment(day, 8, 23), kind, min(amount, 300_000)))
            for charge in charges:
                if charge.option == "01":
                    day = month_day(year, month, charge.day)
                    if day in self.window and day > self.joined:
                        events.append(_Event(day, self._near(day, 6 * 3600), "monthly", charge.amount))
            credit_year, credit_month = next_month(year, month)
            credit_day = month_day(credit_year, credit_month, 10)
            if credit_day in self.window:
                events.append(_Event(credit_day, self._near(credit_day, 3 * 3600), "credit"))
            if rng.random() < 0.1:
                day = day_in(year, month)
                if day is not None:
                    events.append(_Event(day, self._moment(day, 9, 22), "withdraw"))
            if gift is not None:
                if rng.random() < 0.25:
                    day = day_in(year, month)
                    if day is not None:
                        amount = rng.choice((5_000, 10_000, 20_000, 30_000, 50_000))
                        events.append(_Event(day, self._moment(day, 9, 22), "gift", amount))
                for _ in range(behaviour.poisson(rng, 0.6)):
                    day = day_in(year, month)
                    if day is not None:
                        events.append(_Event(day, self._moment(day), "gift_pay", category=rng.choice(GIFT_CATEGORIES)))
        events.sort()
        return events

    def _simulate(self, money: _Fob | None, gift: _Fob | None, charges: list[_AutoCharge]) -> None:
        """Run the events in time order; refills and cancellations join the queue at their own moment."""
        threshold = next((charge for charge in charges if charge.option == "02"), None)
        queue = self._events(money, gift, charges)
        heapq.heapify(queue)
        while queue:
            event = heapq.heappop(queue)
            if event.kind == "pay":
                self._pay(queue, event, money, threshold)
            elif event.kind == "cancel":
                self._cancel(event, money)
            elif event.kind == "gift_pay" and gift is not None:
                self._gift_pay(event, gift)
            elif event.kind == "gift" and gift is not None:
                amount = min(event.amount, gift.limit - gift.total)
                if amount > 0:
                    gift.charge += amount
                    self._prepaid(gift, event.day, event.seconds, "05", amount, trans_memo="선물 받기")
            elif money is None:
                continue
            elif event.kind == "send" and self._coverable(money, event.amount):
                self._cover(money, event.day, event.seconds, event.amount, threshold)
                money.charge -= event.amount
                memo = self.rng.choice(MEMOS_SENT)
                self._prepaid(money, event.day, event.seconds, "04", event.amount, counterpart=True, trans_memo=memo)
                self._queue_refill(queue, event, threshold)
            elif event.kind == "receive":
                amount = min(event.amount, money.limit - money.total)
                if amount > 0:
                    money.charge += amount
                    memo = self.rng.choice(MEMOS_RECEIVED)
                    self._prepaid(money, event.day, event.seconds, "05", amount, counterpart=True, trans_memo=memo)
            elif event.kind == "monthly":
                self._top_up(money, event.day, event.seconds, event.amount, scheduled=True)
            elif event.kind == "refill" and threshold is not None and money.charge < threshold.base:
                self._top_up(money, event.day, event.seconds, threshold.amount, scheduled=True)
            elif event.kind == "credit" and self.pending_points:
                money.reserve += self.pending_points
                self._prepaid(money, event.day, event.seconds, "07", self.pending_points)
                self.pending_points = 0
            elif event.kind == "withdraw" and money.charge >= 100_000:
                amount = money.charge * self.rng.randint(5, 9) // 10 // 10_000 * 10_000
                money.charge -= amount
                self._prepaid(money, event.day, event.seconds, "06", amount, bank=True)

    # money movements -----------------------------------------------------------------------------------
    def _number(self, prefix: str) -> str:
        self._numbers += 1
        return f"{prefix}{self._numbers:09d}"

    def _prepaid(
        self,
        fob: _Fob,
        day: date,
        seconds: int,
        trans_type: str,
        amount: int,
        *,
        bank: bool = False,
        counterpart: bool = False,
        scheduled: bool = False,
        trans_memo: str | None = None,
        sale: dict[str, Any] | None = None,
    ) -> None:
        """A 전금-004 record; the fob's balances are already updated."""
        values: dict[str, Any] = {
            "trans_dtime": dtime(day, seconds),
            "trans_no": self._number("T"),
            "trans_type": trans_type,
            "trans_amt": amount,
            "balance_amt": fob.total,
        }
        if bank:
            values["trans_org_code"] = self.bank.pay_org_code
            values["trans_id"] = self.bank.pay_id
        elif counterpart:
            values["trans_id"] = self.rng.choice(self.friends)
        if trans_memo is not None:
            values["trans_memo"] = trans_memo
        if sale is not None:
            values.update(sale)
        if trans_type in ("01", "02", "03"):
            values["is_scheduled"] = scheduled
        fob.transactions.append(values)
        self.last = (day, seconds)

    def _top_up(self, money: _Fob, day: date, seconds: int, amount: int, *, scheduled: bool) -> int:
        amount = min(amount, money.limit - money.total)
        if amount <= 0:
            return 0
        money.charge += amount
        self._prepaid(money, day, seconds, "01", amount, bank=True, scheduled=scheduled)
        return amount

    @staticmethod
    def _coverable(money: _Fob, amount: int) -> bool:
        """Whether top-ups within the holding limit can bring the charge balance to `amount`."""
        return amount <= money.limit - money.reserve

    def _cover(self, money: _Fob, day: date, seconds: int, amount: int, threshold: _AutoCharge | None) -> None:
        """Top up just before a debit the charge balance cannot cover: by the automatic top-up amount when one
        is set, else by hand in 10,000 won steps (now and then a little more)."""
        if money.charge >= amount:
            return
        missing = amount - money.charge
        step = threshold.amount if threshold is not None else 10_000
        top_up = -(-missing // step) * step
        if threshold is None and self.rng.random() < 0.5:
            top_up += self.rng.choice((10_000, 20_000, 50_000))
        top_up = max(missing, min(top_up, money.limit - money.total))
        self._top_up(money, day, self._before(day, seconds), top_up, scheduled=threshold is not None)

    def _queue_refill(self, queue: list[_Event], event: _Event, threshold: _AutoCharge | None) -> None:
        if threshold is not None:
            heapq.heappush(queue, _Event(event.day, self._after(event.day, event.seconds, 20), "refill"))

    def _sale(self, category_name: str) -> dict[str, Any]:
        """Merchant fields of a payment (전금-004 and 전금-103)."""
        category = _CATEGORY_BY_NAME[category_name]
        merchant = merchants.merchant_name(self.rng, category)
        return {
            "trans_num": self._number("O"),
            "merchant_name": merchant,
            "merchant_regno": merchants.business_regno(merchant),
            "trans_title": self.rng.choice(TITLES[category_name]),
            "trans_category": _CATEGORY_CODE[category_name],
        }

    def _payment(
        self,
        day: date,
        seconds: int,
        trans_type: str,
        amount: int,
        sale: dict[str, Any],
        pay_method: str,
        extra: dict[str, Any] | None = None,
    ) -> None:
        """A 전금-103 record."""
        values: dict[str, Any] = {
            "trans_dtime": dtime(day, seconds),
            "trans_no": self._number("P"),
            "trans_num": sale["trans_num"],
            "trans_type": trans_type,
            "currency_code": KRW,
            "trans_amt": amount,
            **(extra or {}),
        }
        values.update({name: value for name, value in sale.items() if name != "trans_num"})
        values["pay_method"] = pay_method
        self.payments.append(values)
        self.last = (day, seconds)

    def _queue_cancel(self, queue: list[_Event], event: _Event, amount: int, data: dict[str, Any]) -> None:
        """Now and then a payment is cancelled, the same day or up to three days later (not after as_of)."""
        if self.rng.random() >= CANCEL_SHARE:
            return
        day = event.day + timedelta(days=self.rng.randint(0, 3))
        if day > self.as_of:
            return
        seconds = self._after(day, event.seconds, 1800) if day == event.day else self._moment(day, 9, 21)
        heapq.heappush(queue, _Event(day, seconds, "cancel", amount, data=data))

    def _cancel(self, event: _Event, money: _Fob | None) -> None:
        sale, pay_method = event.data["sale"], event.data["pay_method"]
        if pay_method == "01" and money is not None:
            money.charge += event.amount
            self.pending_points = max(0, self.pending_points - math.floor(event.amount * POINT_RATE))
            self._prepaid(money, event.day, event.seconds, "03", event.amount, sale={**sale, "pay_method": "01"})
        self._payment(event.day, event.seconds, "02", event.amount, sale, pay_method, event.data.get("extra"))

    def _pay(self, queue: list[_Event], event: _Event, money: _Fob | None, threshold: _AutoCharge | None) -> None:
        rng = self.rng
        category = _CATEGORY_BY_NAME[event.category]
        amount = min(1_000_000, merchants.lognormal_amount(rng, category.median, category.sigma, 10))
        sale = self._sale(event.category)
        scheduled = event.category == "구독"
        day, seconds = event.day, event.seconds
        use_money = (
            money is not None
            and rng.random() < (0.65 if self.person.age < 35 else 0.45)
            and self._coverable(money, amount)
        )
        if money is not None and use_money and money.reserve >= amount and rng.random() < 0.5:
            money.reserve -= amount
            self._prepaid(money, day, seconds, "02", amount, scheduled=scheduled, sale={**sale, "pay_method": "02"})
            self._payment(day, seconds, "01", amount, sale, "02")
            return
        if money is not None and use_money:
            self._cover(money, day, seconds, amount, threshold)
            money.charge -= amount
            self.pending_points += math.floor(amount * POINT_RATE)
            self._prepaid(money, day, seconds, "02", amount, scheduled=scheduled, sale={**sale, "pay_method": "01"})
            self._payment(day, seconds, "01", amount, sale, "01")
            self._queue_cancel(queue, event, amount, {"sale": sale, "pay_method": "01"})
            self._queue_refill(queue, event, threshold)
            return
        method = rng.choice(self.cards) if self.cards else self.bank
        extra: dict[str, Any] = {
            "trans_org_code": method.pay_org_code,
            "pay_type": method.pay_type,
            "pay_id": method.pay_id,
        }
        if method.pay_type == "02":
            extra["approved_num"] = f"{rng.randrange(10**8):08d}"
            extra["card_name"] = method.name
            if category.installable and amount >= 50_000 and rng.random() < 0.25:
                extra["total_install_cnt"] = rng.choice((2, 3, 6, 10, 12))
        pay_method = "03" if method.pay_type == "02" else "04"
        self._payment(day, seconds, "01", amount, sale, pay_method, extra)
        self._queue_cancel(queue, event, amount, {"sale": sale, "pay_method": pay_method, "extra": extra})

    def _gift_pay(self, event: _Event, gift: _Fob) -> None:
        if gift.charge <= 0:
            return
        category = _CATEGORY_BY_NAME[event.category]
        amount = min(gift.charge, merchants.lognormal_amount(self.rng, category.median, category.sigma, 10))
        sale = self._sale(event.category)
        gift.charge -= amount
        self._prepaid(gift, event.day, event.seconds, "02", amount, sale={**sale, "pay_method": "01"})
        self._payment(event.day, event.seconds, "01", amount, sale, "01")

    # records --------------------------------------------------------------------------------------------
    def _balance(self, fob: _Fob) -> dict[str, Any]:
        values: dict[str, Any] = {
            "total_balance_amt": fob.total,
            "charge_balance_amt": fob.charge,
            "reserve_balance_amt": fob.reserve,
            "withdrawable_amt": fob.charge if fob.withdrawable else 0,
        }
        if fob.name == MONEY_NAME:
            values["reserve_due_amt"] = self.pending_points
            values["exp_due_amt"] = min(fob.reserve, self.rng.randint(0, 500)) if fob.reserve else 0
        return values

    def _charge_payload(self, seq: int, charge: _AutoCharge) -> dict[str, Any]:
        values: dict[str, Any] = {
            "auto_charge_seq": seq,
            "charge_org_code": self.bank.pay_org_code,
            "charge_account_num": self.bank.pay_id,
            "charge_option": charge.option,
            "charge_amt": charge.amount,
        }
        if charge.option == "01":
            values["charge_day"] = f"{charge.day:02d}"
        else:
            values["charge_base_amt"] = charge.base
        return values


def share(person: Person) -> float:
    """The probability that `person` is a customer of one e-finance institution: about 60% of people in their
    twenties, falling with age to 5% at 70."""
    base = 0.62 - 0.0115 * max(0, person.age - 25)
    return min(0.7, max(0.05, base))


def customer(person: Person, org_code: str, seed: int, as_of: date) -> EfinCustomer:
    return EfinCustomer(person, org_code, seed, as_of)


__all__ = ["CODES", "EfinCustomer", "customer", "share"]
