"""The prepaid cards (선불카드) a card customer holds at the card company: 선불-001…004 records.

`card.CardCustomer` adds them after the customer's credit and check cards, from a random stream of its own, so the
other card records do not depend on whether a person holds a prepaid card. About a quarter of card customers hold
one (more of the young and of thin-file people, who have no credit card), some two of different kinds:
- a reloadable card (`충전식`, holding limit 2,000,000 won) topped up from a bank account, by hand when a payment
  needs it and now and then in advance; its domestic payments earn reward points, credited on the 10th of the next
  month into the reserve balance; a little of the balance is sometimes refunded to the bank account;
- a travel card (same limit), topped up before a trip abroad and used there (overseas approvals in the local
  currency, debited at their KRW amount), and a little at home;
- a gift card (`무기명`, limit 500,000), charged once when given and spent down, never topped up.

Payments follow the person's spending: the categories and merchants of the card approvals (`merchants`), amounts
scaled by income and spending propensity. A payment the balance cannot cover (a gift card running low) does not
happen. About 3% of payments are cancelled within three days: the approval turns to 02 승인취소 with its
cancel_dtime and the money comes back as a refund. Every balance movement is a 선불-003 transaction carrying the
total balance after it; the balances of 선불-002 are where the movements end. Nothing happens before the card is
issued; a card issued before the window opens the window with a balance carried over (and no reward points: those
credited more than a year ago have expired).

Code values are the sandbox's reading (`CODES`), as the standard's tables are not public.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from openmydata.kit.clock import add_months
from openmydata.sandbox import behaviour, merchants
from openmydata.sandbox.population import Person, derive_rng, permute
from openmydata.sandbox.records import RecordSink
from openmydata.sandbox.timeline import Window, dtime, month_day, next_month, seconds_between

CODES: dict[str, dict[str, str]] = {
    "trans_type": {
        "01": "충전 (top-up)",
        "02": "결제 (payment)",
        "03": "결제취소 (refund of a cancelled payment)",
        "04": "환불 (balance refunded to the bank account)",
        "05": "적립 (reward points credited)",
    },
    "pay_type": {"01": "국내 (domestic use)", "02": "해외 (overseas use)"},
}
CREDITS = frozenset({"01", "03", "05"})  # trans_types that add to the balance; the others take from it

RELOADABLE, TRAVEL, GIFT = "reloadable", "travel", "gift"
NAMES = {
    RELOADABLE: ("마이 선불카드", "충전식 선불카드", "데일리 선불카드"),
    TRAVEL: ("트래블 선불카드", "글로벌 선불카드"),
    GIFT: ("기프트카드", "선물하기 기프트카드"),
}
LIMITS = {RELOADABLE: 2_000_000, TRAVEL: 2_000_000, GIFT: 500_000}  # 보유한도: 기명 / 무기명
BANK_NAMES = ("KB국민은행", "신한은행", "우리은행", "하나은행", "NH농협은행", "IBK기업은행", "카카오뱅크", "토스뱅크")
POINT_RATE = 0.005
CANCEL_SHARE = 0.03
KRW = "KRW"


@dataclass(order=True)
class _Event:
    day: date
    seconds: int
    kind: str  # pay, cancel, credit, refund
    amount: int = 0
    data: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass
class _Prepaid:
    pp_id: str
    name: str
    kind: str
    issue: date
    limit: int
    charge: int = 0  # 충전 balance
    reserve: int = 0  # 적립 (reward points) balance
    pending: dict[int, int] = field(default_factory=dict)  # month index -> points earned, not yet credited
    credits: list[tuple[date, int]] = field(default_factory=list)
    last: tuple[date, int] | None = None  # moment of the latest transaction
    transactions: list[dict[str, Any]] = field(default_factory=list)
    approvals: list[dict[str, Any]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.charge + self.reserve


class PrepaidCards:
    """Generates the prepaid cards of one card customer (possibly none)."""

    def __init__(self, person: Person, org_code: str, seed: int, as_of: date):
        self.person = person
        self.org_code = org_code
        self.seed = seed
        self.as_of = as_of
        self.window = Window.ending(as_of)
        self.rng = derive_rng(seed, "card-prepaid", org_code, person.index)
        self.used: set[tuple[date, int]] = set()
        self._numbers = 0
        self.bank = self.rng.choice(BANK_NAMES)

    # the whole customer ----------------------------------------------------------------------------------
    def build(self, sink: RecordSink) -> date | None:
        """Add the customer's prepaid-card records to `sink`; returns the earliest issue date (None: no card)."""
        cards = self._cards()
        for card in cards:
            self._simulate(card)
        payloads = {
            card.pp_id: sink.add("선불-001", {"pp_id": card.pp_id, "is_consent": False, "pp_name": card.name})
            for card in cards
        }
        for card in cards:
            source = payloads[card.pp_id]
            sink.add("선불-002", self._balance(card), source=source)
            for transaction in card.transactions:
                sink.add("선불-003", transaction, source=source)
            for approval in card.approvals:
                sink.add("선불-004", approval, source=source)
        return min((card.issue for card in cards), default=None)

    def _holds(self) -> bool:
        person = self.person
        chance = 0.18 + (0.12 if person.age < 30 else 0.0) + (0.15 if person.thin_file else 0.0)
        return self.rng.random() < chance

    def _cards(self) -> list[_Prepaid]:
        rng = self.rng
        if not self._holds():
            return []
        kinds = [rng.choices((RELOADABLE, TRAVEL, GIFT), weights=(0.5, 0.25, 0.25))[0]]
        if rng.random() < 0.2:
            kinds.append(rng.choice([kind for kind in (RELOADABLE, TRAVEL, GIFT) if kind != kinds[0]]))
        scrambled = permute(self.person.index, 10**8, self.seed, "card-prepaid", self.org_code)
        return [
            _Prepaid(
                pp_id=f"PP{scrambled:08d}{number:02d}",
                name=rng.choice(NAMES[kind]),
                kind=kind,
                issue=self._issue_date(),
                limit=LIMITS[kind],
            )
            for number, kind in enumerate(kinds, start=1)
        ]

    def _issue_date(self) -> date:
        """After the 14th birthday and at most 5 years ago; about 30% during the window (a month before as_of at
        the latest)."""
        birth = date(int(self.person.birth_date[:4]), int(self.person.birth_date[4:6]), 1)
        earliest = max(add_months(birth, 14 * 12), add_months(self.as_of, -5 * 12))
        latest = self.as_of - timedelta(days=30)
        if self.rng.random() > 0.3:
            latest = min(latest, self.window.start - timedelta(days=1))
        if latest <= earliest:
            return min(earliest, latest)
        return earliest + timedelta(days=self.rng.randint(0, (latest - earliest).days))

    # planning ---------------------------------------------------------------------------------------------
    def _scale(self) -> float:
        """How big this person's purchases are relative to the category medians (income × spending)."""
        budget = self.person.monthly_net_income * self.person.spending
        return min(2.0, max(0.4, budget / 2_000_000))

    def _moment(self, day: date, first_hour: int, last_hour: int) -> int:
        while True:
            seconds = seconds_between(self.rng, first_hour, last_hour)
            if (day, seconds) not in self.used:
                self.used.add((day, seconds))
                return seconds

    def _free(self, day: date, seconds: int) -> int:
        """The first free second from `seconds` on (the day's last second at the latest), reserved."""
        candidate = seconds
        while (day, candidate) in self.used and candidate < 86_399:
            candidate += 1
        self.used.add((day, candidate))
        return candidate

    def _before(self, card: _Prepaid, day: date, seconds: int) -> int:
        """A free second up to 30 seconds before `seconds` but after the card's last transaction (a top-up that a
        payment needs); the payment's own second when there is no room, the top-up then being recorded first."""
        floor = card.last[1] + 1 if card.last is not None and card.last[0] == day else 0
        candidate = max(floor, seconds - 30)
        while candidate < seconds and (day, candidate) in self.used:
            candidate += 1
        if candidate < seconds:
            self.used.add((day, candidate))
        return candidate

    def _events(self, card: _Prepaid) -> list[_Event]:
        rng, person = self.rng, self.person
        young = person.age < 35
        mean = {RELOADABLE: 5.0 if young else 3.0, TRAVEL: 0.8, GIFT: 1.5}[card.kind] * (0.5 + person.spending)
        events: list[_Event] = []
        months = self.window.months()
        for year, month in months:
            for _ in range(behaviour.poisson(rng, mean)):
                day = self.window.random_day(rng, year, month)
                if day is not None and day > card.issue:
                    events.append(_Event(day, self._moment(day, 7, 23), "pay"))
            if card.kind == RELOADABLE:
                credit_day = month_day(*next_month(year, month), 10)
                if credit_day in self.window and credit_day > card.issue:
                    events.append(_Event(credit_day, self._free(credit_day, 3 * 3600), "credit"))
                if rng.random() < 0.04:
                    day = self.window.random_day(rng, year, month)
                    if day is not None and day > card.issue:
                        events.append(_Event(day, self._moment(day, 9, 21), "refund"))
        if card.kind == TRAVEL and rng.random() < 0.7:
            events += self._trip(card, rng.choice(months))
        return events

    def _trip(self, card: _Prepaid, month: tuple[int, int]) -> list[_Event]:
        """A trip abroad of 3–9 days: a top-up the evening before, then overseas payments."""
        rng = self.rng
        start = self.window.random_day(rng, *month)
        if start is None or start - timedelta(days=1) <= max(card.issue, self.window.start):
            return []
        country = rng.choice([place for place in merchants.OVERSEAS if place.country_code != "US"])
        days = [start + timedelta(days=offset) for offset in range(rng.randint(3, 9))]
        days = [day for day in days if day <= self.as_of]
        budget = round(sum(country.median * country.krw_per_unit for _ in days) * rng.uniform(1.5, 3.0), -4)
        eve = start - timedelta(days=1)
        events = [_Event(eve, self._moment(eve, 19, 23), "top_up", int(budget))]
        for day in days:
            for _ in range(rng.randint(1, 3)):
                events.append(_Event(day, self._moment(day, 0, 23), "pay", data={"country": country}))
        return events

    # the simulation --------------------------------------------------------------------------------------
    def _simulate(self, card: _Prepaid) -> None:
        rng = self.rng
        if card.issue < self.window.start:
            card.charge = rng.randint(0, 8) * 10_000 if card.kind != GIFT else rng.randint(0, 20) * 5_000
        else:  # issued in the window: the first charge (a gift card's face value)
            amount = rng.choice((50_000, 100_000, 100_000, 200_000, 300_000))
            seconds = self._moment(card.issue, 9, 21)
            self._top_up(card, card.issue, seconds, amount, bank=card.kind != GIFT)
        queue = self._events(card)
        heapq.heapify(queue)
        while queue:
            event = heapq.heappop(queue)
            if event.kind == "pay":
                cancel = self._pay(card, event)
                if cancel is not None:
                    heapq.heappush(queue, cancel)
            elif event.kind == "cancel":
                self._cancel(card, event)
            elif event.kind == "credit":
                self._credit(card, event)
            elif event.kind == "top_up":
                self._top_up(card, event.day, event.seconds, event.amount, bank=True)
            elif event.kind == "refund" and card.charge >= 50_000:
                amount = card.charge * rng.randint(3, 8) // 10 // 10_000 * 10_000
                card.charge -= amount
                self._transaction(card, event.day, event.seconds, "04", amount, trans_org_nm=self.bank)

    def _number(self) -> str:
        self._numbers += 1
        return f"T{self._numbers:09d}"

    def _transaction(self, card: _Prepaid, day: date, seconds: int, trans_type: str, amount: int, **extra: str) -> None:
        """A 선불-003 record; the card's balances are already updated."""
        card.transactions.append(
            {
                "trans_type": trans_type,
                "trans_dtime": dtime(day, seconds),
                "trans_no": self._number(),
                "trans_amt": amount,
                "balance_amt": card.total,
                **extra,
            }
        )
        card.last = (day, seconds)

    def _top_up(self, card: _Prepaid, day: date, seconds: int, amount: int, *, bank: bool) -> bool:
        amount = min(amount, card.limit - card.total)
        if amount <= 0:
            return False
        card.charge += amount
        extra = {"trans_org_nm": self.bank} if bank else {}
        self._transaction(card, day, seconds, "01", amount, **extra)
        return True

    def _cover(self, card: _Prepaid, day: date, seconds: int, amount: int) -> bool:
        """Whether the charge balance can pay `amount`, after a top-up by hand just before when it cannot (in
        10,000 won steps, now and then a little more; never a gift card)."""
        if card.charge >= amount:
            return True
        if card.kind == GIFT or amount > card.limit - card.reserve:
            return False
        missing = amount - card.charge
        top_up = -(-missing // 10_000) * 10_000 + (self.rng.choice((0, 10_000, 50_000)))
        moment = self._before(card, day, seconds)
        return self._top_up(card, day, moment, max(missing, top_up), bank=True) and card.charge >= amount

    def _pay(self, card: _Prepaid, event: _Event) -> _Event | None:
        """One approval and its payment; returns the cancellation to come, if any."""
        rng = self.rng
        country: merchants.Overseas | None = event.data.get("country")
        approval: dict[str, Any]
        if country is None:
            category = merchants.pick_category(rng)
            while category.installable and card.kind == GIFT:  # gift cards go to everyday shops
                category = merchants.pick_category(rng)
            amount = merchants.lognormal_amount(rng, category.median * self._scale(), category.sigma, 10)
            merchant = merchants.merchant_name(rng, category)
            krw = amount
            approval = {
                "pay_type": "01",
                "merchant_name": merchant,
                "merchant_regno": merchants.business_regno(merchant),
                "approved_amt": amount,
            }
        else:
            scale = 10**country.decimals
            foreign = max(1, round(country.median * math.exp(0.7 * rng.gauss(0.0, 1.0)) * scale))
            krw = max(1, round(foreign / scale * country.krw_per_unit))
            approval = {
                "pay_type": "02",
                "merchant_name": rng.choice(country.merchants),
                "approved_amt": Decimal(foreign).scaleb(-country.decimals),
                "country_code": country.country_code,
                "currency_code": country.currency_code,
                "krw_amt": krw,
            }
        if not self._cover(card, event.day, event.seconds, krw):
            return None
        approved_num = f"{len(card.approvals) + 1:04d}{rng.randrange(10**8):08d}"
        card.charge -= krw
        record = {"approved_num": approved_num, "approved_dtime": dtime(event.day, event.seconds), "status": "01"}
        card.approvals.append(record | approval)
        self._transaction(card, event.day, event.seconds, "02", krw, approved_num=approved_num)
        points = math.floor(krw * POINT_RATE) if card.kind == RELOADABLE and country is None else 0
        month = event.day.year * 12 + event.day.month - 1
        card.pending[month] = card.pending.get(month, 0) + points
        if rng.random() >= CANCEL_SHARE or event.day.day > 25:
            return None
        day = event.day + timedelta(days=rng.randint(0, 3))
        if day > self.as_of:
            return None
        seconds = self._free(day, min(86_399, event.seconds + 1800)) if day == event.day else self._moment(day, 9, 21)
        data = {"approval": card.approvals[-1], "points": points, "month": month}
        return _Event(day, seconds, "cancel", krw, data)

    def _cancel(self, card: _Prepaid, event: _Event) -> None:
        approval = event.data["approval"]
        approval["status"] = "02"
        approval["cancel_dtime"] = dtime(event.day, event.seconds)
        card.charge += event.amount
        month = event.data["month"]
        card.pending[month] -= event.data["points"]
        self._transaction(card, event.day, event.seconds, "03", event.amount, approved_num=approval["approved_num"])

    def _credit(self, card: _Prepaid, event: _Event) -> None:
        """The 10th: the points earned in the month before are credited to the reserve balance."""
        year, month = event.day.year, event.day.month
        earned = card.pending.pop((year * 12 + month - 1) - 1, 0)
        if earned <= 0:
            return
        card.reserve += earned
        card.credits.append((event.day, earned))
        self._transaction(card, event.day, event.seconds, "05", earned)

    # records --------------------------------------------------------------------------------------------
    def _balance(self, card: _Prepaid) -> dict[str, Any]:
        values: dict[str, Any] = {
            "total_balance_amt": card.total,
            "charge_balance_amt": card.charge,
            "reserve_balance_amt": card.reserve,
            "limit_amt": card.limit,
        }
        if card.kind == RELOADABLE:
            values["reserve_due_amt"] = sum(card.pending.values())
            # points expire a year after they are credited: those credited 11 or more months ago go within a month
            values["exp_due_amt"] = sum(points for day, points in card.credits if day <= add_months(self.as_of, -11))
        return values


def prepaid_cards(person: Person, org_code: str, seed: int, as_of: date) -> PrepaidCards:
    return PrepaidCards(person, org_code, seed, as_of)


__all__ = ["CODES", "CREDITS", "KRW", "LIMITS", "PrepaidCards", "prepaid_cards"]
