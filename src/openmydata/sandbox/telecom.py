"""One telecom customer's data: 통신-001…004 records.

Per customer one mobile line (15% have a second, data-only line). Each charge month of the window has a bill
(통신-002) for every line: the plan fee, a device instalment for people who bought a phone in the last two
years, and — on the main line — the micro-payments (통신-004) of the month before. Payments (통신-003, one record
per month and payment method) follow `behaviour.TELECOM_BILL`: riskier people miss months, and the arrears are
then paid together with a 2% late fee by direct payment (pay_method 03), which is the clearest delinquency signal
in the telecom data. Micro-payments are game and content purchases, many for a minority of (young, riskier)
heavy users.

The nationwide profile's telecom APIs (통신(전국)-001…004) are written from the same lines, bills and payments
when the sink's catalogue has them (`Catalogue.for_profile`): the contract list with the plan's name
(`PLAN_NAMES`), each contract's bills and payments per month, and its monthly usage — voice minutes, messages and
data MB, for every month a bill of the window charges (the month before the charge month) inside the window's 12
charge months. Usage comes from its own random stream, so the financial records stay the same whichever profile
is generated; heavier plans and younger people use more data, older people talk more, data-only lines have data
only.
"""

from __future__ import annotations

import math
import random
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
# 서비스요금제명 of each monthly fee (the project's own plan names, no real carrier's).
PLAN_NAMES: dict[int, str] = {
    33_000: "LTE 슬림 33",
    45_000: "5G 라이트 45",
    55_000: "5G 베이직 55",
    69_000: "5G 스탠다드 69",
    79_000: "5G 플러스 79",
    89_000: "5G 프리미엄 89",
    109_000: "5G 무제한 109",
    11_000: "데이터 쉐어링 11",
    16_500: "태블릿 데이터 16.5",
    22_000: "태블릿 데이터 22",
}
# Monthly data (MB) a plan's median user uses, by fee: the unlimited plans' users stream far more.
PLAN_DATA_MB: dict[int, int] = {
    33_000: 2_500,
    45_000: 6_000,
    55_000: 10_000,
    69_000: 18_000,
    79_000: 30_000,
    89_000: 45_000,
    109_000: 70_000,
    11_000: 1_500,
    16_500: 4_000,
    22_000: 9_000,
}
NATIONWIDE_APIS = ("통신(전국)-001", "통신(전국)-002", "통신(전국)-003", "통신(전국)-004")


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
        financial, nationwide = sink.has("통신-001"), sink.has(NATIONWIDE_APIS[0])
        contracts: dict[str, dict[str, Any]] = {}
        nationwide_contracts: dict[str, dict[str, Any]] = {}
        for line in lines:
            contract = {
                "mgmt_id": line.mgmt_id,
                "is_consent": False,
                "telecom_num": f"{line.number[:3]}-****-{line.number[-4:]}",
                "type": line.type,
                "status": "01",
            }
            if financial:
                contracts[line.mgmt_id] = sink.add("통신-001", contract)
            if nationwide:
                nationwide_contracts[line.mgmt_id] = sink.add(
                    NATIONWIDE_APIS[0], {**contract, "plan_name": PLAN_NAMES[line.plan]}
                )
        bills: dict[str, list[tuple[tuple[int, int], date, int]]] = {}
        for charge_month in self.window.charge_months():
            due = month_day(*charge_month, self.due_day)
            if due not in self.window:
                continue
            for line in lines:
                amount = self._bill_amount(line, charge_month)
                bills.setdefault(line.mgmt_id, []).append((charge_month, due, amount))
                if financial:
                    sink.add(
                        "통신-002",
                        {"mgmt_id": line.mgmt_id, "charge_amt": Decimal(amount), "charge_date": due.strftime("%Y%m%d")},
                        context={"charge_month": month_text(*charge_month)},
                    )
        for line in lines:
            payments = self._payments(bills.get(line.mgmt_id, []), pay_method)
            if nationwide:
                self._nationwide(sink, line, nationwide_contracts[line.mgmt_id], bills.get(line.mgmt_id, []), payments)
            if not financial:
                continue
            source = contracts[line.mgmt_id]
            for payment in payments:
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

    def _nationwide(
        self,
        sink: RecordSink,
        line: _Line,
        contract: dict[str, Any],
        bills: list[tuple[tuple[int, int], date, int]],
        payments: list[dict[str, Any]],
    ) -> None:
        """통신(전국)-002…004 of one line: usage of the months its bills charge, its bills, its payments."""
        months = set(self.window.charge_months())
        usage_rng = derive_rng(self.seed, "telecom-usage", self.org_code, self.person.index, line.mgmt_id)
        for charge_month, _due, _amount in bills:
            used = previous_month(*charge_month)
            if used in months:
                sink.add(NATIONWIDE_APIS[1], self._usage(usage_rng, line, used), source=contract)
        for charge_month, due, amount in bills:
            bill = {"charge_month": month_text(*charge_month), "charge_amt": Decimal(amount)}
            sink.add(NATIONWIDE_APIS[2], {**bill, "charge_date": due.strftime("%Y%m%d")}, source=contract)
        for payment in payments:
            sink.add(NATIONWIDE_APIS[3], payment, source=contract)

    def _usage(self, rng: random.Random, line: _Line, month: tuple[int, int]) -> dict[str, Any]:
        """One month's voice minutes, messages and data MB on `line`."""
        age = self.person.age
        data_mb = PLAN_DATA_MB[line.plan] * (1.3 if age < 30 else 0.7 if age >= 60 else 1.0)
        data_mb *= math.exp(rng.gauss(0.0, 0.35))
        if line.type == "01":
            voice = max(0, round((120 + 3.0 * max(0, age - 25)) * math.exp(rng.gauss(0.0, 0.4))))
            sms = max(0, round((45 if age < 30 else 25) * math.exp(rng.gauss(0.0, 0.6))))
        else:
            voice, sms = 0, 0
        return {
            "use_month": month_text(*month),
            "voice_usage": voice,
            "sms_usage": sms,
            "data_usage": Decimal(round(data_mb * 1000)) / 1000,
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
