"""Where a person's money goes: card spending by month, category and merchant, telecom bills, and the card
payments coming up — from the records collected from every card company and telecom operator.

Card approvals (카드-008 domestic, 카드-009 overseas at their KRW amount) count once each, cancelled ones not at
all, a partly cancelled one at its modified amount. Telecom bills (통신-002) are their own category ("통신"); the
micro-payments they include are shown apart (통신-004). Bank transfers are left out: card bills and telecom bills
are paid from the bank account, so counting its debits too would count the same money twice.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from openmydata.operator.i18n import N_
from openmydata.operator.insights.categories import ORDER, OTHER, category_of, merchant_label
from openmydata.operator.insights.features import number

TELECOM = N_("통신")


@dataclass(frozen=True)
class Line:
    label: str
    amount: float
    count: int = 0
    category: str = ""
    share: float = 0.0


@dataclass
class Spending:
    months: list[Line] = field(default_factory=list)  # label YYYYMM, oldest first
    categories: list[Line] = field(default_factory=list)  # largest first
    merchants: list[Line] = field(default_factory=list)  # top merchants by amount
    telecom_months: list[Line] = field(default_factory=list)
    micro_payments: float = 0.0
    upcoming: list[dict[str, Any]] = field(default_factory=list)  # 카드-006: due date, amount, org
    total: float = 0.0
    monthly_average: float = 0.0
    # approvals that came without the merchant's name (the person did not consent to is_consent_merchant_name_regno)
    unnamed_approvals: int = 0

    @property
    def empty(self) -> bool:
        return not self.months


def _approval_amount(payload: Mapping[str, Any], overseas: bool) -> float:
    if str(payload.get("status", "01")) == "02":  # cancelled
        return 0.0
    if overseas:
        return number(payload.get("krw_amt"))
    modified = payload.get("modified_amt")
    return number(modified if modified not in (None, "") else payload.get("approved_amt"))


def analyse(records: Iterable[tuple[str, str, Mapping[str, Any]]], *, top_merchants: int = 10) -> Spending:
    """`records`: (org_code, api_id, payload) of everything held for the person."""
    by_month: dict[str, float] = defaultdict(float)
    by_category: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    by_merchant: dict[str, list[Any]] = {}
    telecom: dict[str, float] = defaultdict(float)
    view = Spending()
    for org_code, api_id, payload in records:
        if api_id in ("카드-008", "카드-009"):
            amount = _approval_amount(payload, overseas=api_id == "카드-009")
            if amount <= 0:
                continue
            if not payload.get("merchant_name"):
                view.unnamed_approvals += 1
            month = str(payload.get("approved_dtime", ""))[:6]
            category = category_of(payload.get("merchant_name"))
            if category == OTHER and api_id == "카드-009":
                category = N_("여행")  # an overseas approval nothing else names is travel
            by_month[month] += amount
            by_category[category][0] += amount
            by_category[category][1] += 1
            label = merchant_label(payload.get("merchant_name"))
            entry = by_merchant.setdefault(label, [0.0, 0, category])
            entry[0] += amount
            entry[1] += 1
        elif api_id == "통신-002":
            month = str(payload.get("charge_date", ""))[:6]
            amount = number(payload.get("charge_amt"))
            telecom[month] += amount
            by_month[month] += amount
            by_category[TELECOM][0] += amount
            by_category[TELECOM][1] += 1
        elif api_id == "통신-004":
            view.micro_payments += number(payload.get("trans_amt"))
        elif api_id == "카드-006":
            view.upcoming.append(
                {
                    "org_code": org_code,
                    "pay_due_date": str(payload.get("pay_due_date", "")),
                    "pay_amt": number(payload.get("pay_amt")),
                }
            )
    months = sorted(month for month in by_month if len(month) == 6)[-12:]
    view.months = [Line(month, by_month[month]) for month in months]
    view.telecom_months = [Line(month, telecom.get(month, 0.0)) for month in months]
    view.total = sum(line.amount for line in view.months)
    view.monthly_average = view.total / len(months) if months else 0.0
    everything = sum(total for total, _ in by_category.values()) or 1.0
    order = {name: position for position, name in enumerate((*ORDER, TELECOM))}
    view.categories = sorted(
        (
            Line(name, total, int(count), name, total / everything)
            for name, (total, count) in by_category.items()
            if total > 0
        ),
        key=lambda line: (-line.amount, order.get(line.label, 99)),
    )
    view.merchants = [
        Line(label, float(total), int(count), str(category), float(total) / everything)
        for label, (total, count, category) in sorted(by_merchant.items(), key=lambda item: -item[1][0])[:top_merchants]
    ]
    view.upcoming.sort(key=lambda item: item["pay_due_date"])
    return view
