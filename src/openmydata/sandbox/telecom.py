"""One telecom customer's data: 통신-001…004 records.

Per customer one mobile line (15% have a second, data-only line). Each charge month of the window has a bill
(통신-002) for every line: the plan fee, a device instalment for people who bought a phone in the last two
years, and — on the main line — the micro-payments (통신-004) of the month before. Payments (통신-003, one record
per month and payment method) follow `behaviour.TELECOM_BILL`: riskier people miss months, and the arrears are
then paid together with a 2% late fee by direct payment (pay_method 03), which is the clearest delinquency signal
in the telecom data. Micro-payments are game and content purchases, many for a minority of (young, riskier)
heavy users.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from openmydata.sandbox import behaviour, merchants
from openmydata.sandbox.population import Person, derive_rng, permute
from openmydata.sandbox.records import RecordSink
from openmydata.sandbox.timeline import Window, month_day, month_text, previous_month

CODES: dict[str, dict[str, str]] = {
    "type": {"01": "이동전화 (mobile voice line)", "02": "데이터 전용 (tablet or wearable line)"},
    "status": {"01": "개인 (individual subscription)"},
    "pay_method": {
        "01": "자동이체 (bank account)",
        "02": "카드 자동납부 (card)",
        "03": "직접납부 (giro, virtual account)",
    },
}

CUSTOMER_SHARE = 0.97
LATE_FEE_RATE = 0.02  # 연체가산금, once on the overdue amount
PLANS = (33_000, 45_000, 55_000, 69_000, 79_000, 89_000, 109_000)
DATA_PLANS = (11_000, 16_500, 22_000)


@dataclass
class _Line:
    mgmt_id: str
    number: str
    type: str
    plan: int
    device: int  # monthly device instalment while `device_until` is not reached
    device_until: tuple[int, int]
    micro: list[tuple[date, int, str, str]] = field(default_factory=list)  # (date, amount, merchant, title)


class TelecomCustomer:
    """Generates one person's lines at one telecom operator."""

    def __init__(self, person: Person, org_code: str, seed: int, as_of: date):
        self.person = person
        self.org_code = org_code
        self.seed = seed
        self.as_of = as_of
        self.window = Window.ending(as_of)
        self.rng = derive_rng(seed, "telecom", org_code, person.index)
        self.due_day = self.rng.choice((10, 15, 20, 21, 25, 31))

    def build(self, sink: RecordSink) -> dict[str, str]:
        """Add the customer's records to `sink`; returns the customer fields of `CustomerData` (no records)."""
        person, rng = self.person, self.rng
        lines = [self._line(1, person.phone, "01")]
        if rng.random() < 0.15:
            extra = f"010{10**7 + permute(person.index, 9 * 10**7, self.seed, 'second-line', self.org_code):08d}"
            lines.append(self._line(2, extra, "02"))
        self._micro_payments(lines[0])
        pay_method = self._pay_method()
        contracts = {}
        for line in lines:
            contracts[line.mgmt_id] = sink.add(
                "통신-001",
                {
                    "mgmt_id": line.mgmt_id,
                    "is_consent": False,
                    "telecom_num": f"{line.number[:3]}-****-{line.number[-4:]}",
                    "type": line.type,
                    "status": "01",
                },
            )
        bills: dict[str, list[tuple[tuple[int, int], date, int]]] = {}
        for charge_month in self.window.charge_months():
            due = month_day(*charge_month, self.due_day)
            if due not in self.window:
                continue
            for line in lines:
                amount = self._bill_amount(line, charge_month)
                bills.setdefault(line.mgmt_id, []).append((charge_month, due, amount))
                sink.add(
                    "통신-002",
                    {"mgmt_id": line.mgmt_id, "charge_amt": Decimal(amount), "charge_date": due.strftime("%Y%m%d")},
                    context={"charge_month": month_text(*charge_month)},
                )
        for line in lines:
            source = contracts[line.mgmt_id]
            for payment in self._payments(bills.get(line.mgmt_id, []), pay_method):
                sink.add("통신-003", payment, source=source)
            for day, amount, merchant, title in line.micro:
                sink.add(
                    "통신-004",
                    {
                        "trans_date": day.strftime("%Y%m%d"),
                        "trans_amt": Decimal(amount),
                        "org_regno": merchants.business_regno(merchant),
                        "merchant_name": merchant,
                        "trans_title": title,
                    },
                    source=source,
                )
        return {
            "ci": person.ci,
            "name": person.name,
            "birth_date": person.birth_date,
            "phone": person.phone,
            "reg_date": self._reg_date().strftime("%Y%m%d"),
        }

    def _reg_date(self) -> date:
        birth = date(int(self.person.birth_date[:4]), int(self.person.birth_date[4:6]), 1)
        earliest = max(birth.replace(year=birth.year + 14), date(self.as_of.year - 20, 1, 1))
        latest = self.window.start - timedelta(days=1)
        if latest <= earliest:
            return latest
        return earliest + timedelta(days=self.rng.randint(0, (latest - earliest).days))

    def _line(self, number: int, phone: str, kind: str) -> _Line:
        person, rng = self.person, self.rng
        scrambled = permute(person.index, 10**10, self.seed, "mgmt", self.org_code)
        if kind == "01":
            tier = 0.5 + 0.25 * person.income_level + (0.3 if person.age < 35 else 0.0) + 0.2 * rng.gauss(0.0, 1.0)
            plan = PLANS[min(len(PLANS) - 1, max(0, round(tier * (len(PLANS) - 1))))]
        else:
            plan = rng.choice(DATA_PLANS)
        device, until = 0, (0, 0)
        if rng.random() < 0.6:
            device = rng.randint(15, 55) * 1000 if kind == "01" else rng.randint(8, 20) * 1000
            bought = self.as_of - timedelta(days=rng.randint(0, 729))
            total = bought.year * 12 + bought.month - 1 + 24
            until = (total // 12, total % 12 + 1)
        return _Line(f"{scrambled:010d}{number:02d}", phone, kind, plan, device, until)

    def _pay_method(self) -> str:
        if self.rng.random() < behaviour.logistic(-2.0 + 0.8 * self.person.risk):
            return "03"
        return "01" if self.rng.random() < 0.65 else "02"

    def _micro_payments(self, line: _Line) -> None:
        person, rng = self.person, self.rng
        heavy = rng.random() < behaviour.logistic(-2.6 + 0.5 * person.risk + (0.8 if person.age < 30 else 0.0))
        regular = rng.random() < 0.3
        mean = 6.0 if heavy else 1.0 if regular else 0.0
        seen: set[tuple[date, int, str, str]] = set()
        for year, month in self.window.months():
            for _ in range(behaviour.poisson(rng, mean)):
                day = self.window.random_day(rng, year, month)
                if day is None:
                    continue
                merchant, titles, median = rng.choice(merchants.MICRO_MERCHANTS)
                amount = min(300_000, merchants.lognormal_amount(rng, median * (1.5 if heavy else 1.0), 0.5))
                item = (day, amount, merchant, rng.choice(titles))
                while item in seen:
                    item = (day, item[1] + 100, merchant, item[3])
                seen.add(item)
                line.micro.append(item)
        line.micro.sort()

    def _bill_amount(self, line: _Line, charge_month: tuple[int, int]) -> int:
        """Plan + device instalment + (main line) last month's micro-payments."""
        usage = previous_month(*charge_month)
        amount = line.plan
        if line.device and charge_month <= line.device_until:
            amount += line.device
        amount += sum(item[1] for item in line.micro if (item[0].year, item[0].month) == usage)
        extra = self.rng.random()
        if extra < 0.1:  # data top-ups and international calls, now and then
            amount += self.rng.randint(1, 20) * 1100
        return amount

    def _payments(self, bills: list[tuple[tuple[int, int], date, int]], pay_method: str) -> list[dict[str, Any]]:
        """Monthly payment records (one per trans_month and method), from the bills and the payment states."""
        rng = self.rng
        states = behaviour.payment_states(rng, self.person.risk, len(bills), behaviour.TELECOM_BILL)
        paid: dict[tuple[tuple[int, int], str], int] = defaultdict(int)
        arrears = 0
        for (_, due, amount), state in zip(bills, states, strict=True):
            if state is behaviour.PaymentState.MISSED:
                arrears += amount
                continue
            pay_day = due if state is behaviour.PaymentState.ON_TIME else due + timedelta(days=rng.randint(1, 15))
            if pay_day > self.as_of:
                arrears += amount
                continue
            if arrears:
                total = arrears + amount + math.floor(arrears * LATE_FEE_RATE)
                paid[((pay_day.year, pay_day.month), "03")] += total
                arrears = 0
            else:
                method = pay_method if pay_day.month == due.month else "03"
                paid[((pay_day.year, pay_day.month), method)] += amount
        return [
            {"trans_month": month_text(*month), "paid_amt": Decimal(amount), "pay_method": method}
            for (month, method), amount in sorted(paid.items())
        ]


def share(person: Person) -> float:
    """The probability that `person` is a customer of one telecom institution."""
    return CUSTOMER_SHARE


def customer(person: Person, org_code: str, seed: int, as_of: date) -> TelecomCustomer:
    return TelecomCustomer(person, org_code, seed, as_of)


__all__ = ["CODES", "CUSTOMER_SHARE", "TelecomCustomer", "customer", "share"]
