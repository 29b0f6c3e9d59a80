"""Credit features from the records a person has moved to the operator (the standard's wire payloads).

The same function turns a sandbox customer's generated records (training) and a person's collected records (the
credit view) into one row of numbers, so the model sees in production exactly what it was trained on. Each
feature belongs to a group: `financial` (bank and card APIs) or `telecom` (통신-001…004); the comparison model
is trained on the financial group alone.

Amounts are the standard's `F(18,3)` strings, dates `YYYYMMDD`, months `YYYYMM`. Ratios are 0 where their
denominator is (no income seen, no bill seen), and flags say whether a group has any data at all, so that
"nothing seen" is never confused with "a good record".
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

Group = Literal["financial", "telecom"]
# what the operator holds for a person, opened: (org_code, api_id, selector or asset key, payload)
Held = tuple[str, str, str, Mapping[str, Any]]


@dataclass(frozen=True)
class Feature:
    name: str
    group: Group
    label_ko: str
    label_en: str


FEATURES: tuple[Feature, ...] = (
    Feature("fin_has_bank", "financial", "은행 계좌 정보 있음", "bank account data present"),
    Feature("fin_income_monthly_log", "financial", "월평균 입금액", "average monthly money in"),
    Feature("fin_income_cv", "financial", "월 입금액의 들쭉날쭉함", "month-to-month swing of money in"),
    Feature("fin_spend_to_income", "financial", "입금 대비 출금 비율", "money out against money in"),
    Feature("fin_deposit_balance_log", "financial", "예금 잔액", "deposit balances"),
    Feature("fin_loan_count", "financial", "대출 건수", "number of loans"),
    Feature("fin_loan_to_income", "financial", "소득 대비 대출 잔액", "loan balance against yearly income"),
    Feature("fin_loan_late_repayments", "financial", "대출 연체 상환 횟수", "late loan repayments"),
    Feature("fin_has_card", "financial", "카드 정보 있음", "card data present"),
    Feature("fin_card_bills", "financial", "카드 청구 개월 수", "months with a card bill"),
    Feature("fin_card_late_bills", "financial", "카드 대금 늦은 출금 횟수", "card bills paid late"),
    Feature("fin_card_spend_to_income", "financial", "소득 대비 카드 사용액", "card spending against income"),
    Feature("fin_revolving_log", "financial", "리볼빙 잔액", "revolving balance"),
    Feature("fin_card_loans_log", "financial", "현금서비스·카드론", "cash advances and card loans"),
    Feature("tel_has_telecom", "telecom", "통신 정보 있음", "telecom data present"),
    Feature("tel_months_billed", "telecom", "통신 요금 청구 개월 수", "months of telecom bills"),
    Feature("tel_unpaid_months", "telecom", "요금을 내지 않은 달", "months a bill went unpaid"),
    Feature("tel_direct_pay_share", "telecom", "직접 납부(연체 후 납부) 비중", "share paid directly after a due date"),
    Feature("tel_paid_to_billed", "telecom", "청구액 대비 납부액", "paid against billed"),
    Feature("tel_bill_monthly_log", "telecom", "월평균 통신 요금", "average monthly telecom bill"),
    Feature("tel_micro_share", "telecom", "요금 중 소액결제 비중", "micro-payments' share of the bills"),
    Feature("tel_micro_count", "telecom", "소액결제 건수", "number of micro-payments"),
    Feature("tel_lines", "telecom", "회선 수", "number of lines"),
)
FEATURE_NAMES: tuple[str, ...] = tuple(feature.name for feature in FEATURES)
BY_NAME: dict[str, Feature] = {feature.name: feature for feature in FEATURES}


def names(groups: Iterable[Group]) -> tuple[str, ...]:
    wanted = set(groups)
    return tuple(feature.name for feature in FEATURES if feature.group in wanted)


def number(value: Any) -> float:
    """An amount of the standard's wire form (`F(18,3)` text) as a float; 0 for anything that is not a number."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def _log(value: float) -> float:
    return math.log1p(max(0.0, value))


def _ratio(part: float, whole: float) -> float:
    return part / whole if whole > 0 else 0.0


def _month_of(day: Any) -> str:
    text = str(day or "")
    return text[:6] if len(text) >= 6 else ""


def monthly_flows(transactions: Iterable[Mapping[str, Any]]) -> tuple[dict[str, float], dict[str, float]]:
    """(money in, money out) per month (YYYYMM) of deposit transactions (은행-004; trans_type 02 is a debit)."""
    money_in: dict[str, float] = defaultdict(float)
    money_out: dict[str, float] = defaultdict(float)
    for trans in transactions:
        target = money_out if trans.get("trans_type") == "02" else money_in
        target[_month_of(trans.get("trans_dtime"))] += number(trans.get("trans_amt"))
    return money_in, money_out


def features(records: Iterable[tuple[str, Mapping[str, Any]]]) -> dict[str, float]:
    """One row of `FEATURE_NAMES` from (api_id, payload) pairs of any number of institutions."""
    by_api: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for api_id, payload in records:
        by_api[api_id].append(payload)
    row = dict.fromkeys(FEATURE_NAMES, 0.0)
    yearly_income = _bank(by_api, row)
    _card(by_api, row, yearly_income)
    _telecom(by_api, row)
    return row


def _bank(by_api: Mapping[str, list[Mapping[str, Any]]], row: dict[str, float]) -> float:
    """The bank features; returns the yearly money in (the card ratio's denominator)."""
    accounts = by_api.get("은행-001", [])
    row["fin_has_bank"] = 1.0 if accounts else 0.0
    money_in, money_out = monthly_flows(by_api.get("은행-004", []))
    months = sorted(set(money_in) | set(money_out))
    monthly_in = [money_in.get(month, 0.0) for month in months]
    mean_in = statistics.fmean(monthly_in) if monthly_in else 0.0
    row["fin_income_monthly_log"] = _log(mean_in)
    row["fin_income_cv"] = _ratio(statistics.pstdev(monthly_in), mean_in) if len(monthly_in) > 1 else 0.0
    row["fin_spend_to_income"] = min(5.0, _ratio(sum(money_out.values()), sum(money_in.values())))
    row["fin_deposit_balance_log"] = _log(sum(number(d.get("balance_amt")) for d in by_api.get("은행-003", [])))
    loans = [account for account in accounts if str(account.get("account_type", "")).startswith("3")]
    row["fin_loan_count"] = float(len(loans))
    loan_balance = sum(number(detail.get("balance_amt")) for detail in by_api.get("은행-009", []))
    row["fin_loan_to_income"] = min(20.0, _ratio(loan_balance, 12 * mean_in)) if loan_balance else 0.0
    row["fin_loan_late_repayments"] = float(sum(1 for t in by_api.get("은행-010", []) if t.get("trans_type") == "02"))
    return 12 * mean_in


def _card(by_api: Mapping[str, list[Mapping[str, Any]]], row: dict[str, float], income: float) -> None:
    row["fin_has_card"] = 1.0 if by_api.get("카드-001") else 0.0
    bills = by_api.get("카드-004", [])
    row["fin_card_bills"] = float(len({str(bill.get("charge_month")) for bill in bills}))
    late = 0
    spent = 0.0
    for bill in bills:
        spent += number(bill.get("charge_amt"))
        due = f"{bill.get('charge_month', '')}{str(bill.get('charge_day', '')).zfill(2)}"
        if str(bill.get("paid_out_date", "")) > due:
            late += 1
    row["fin_card_late_bills"] = float(late)
    months = max(1.0, row["fin_card_bills"])
    row["fin_card_spend_to_income"] = min(5.0, _ratio(12 * spent / months, income)) if spent else 0.0
    row["fin_revolving_log"] = _log(sum(number(r.get("remained_amt")) for r in by_api.get("카드-007", [])))
    advances = sum(number(loan.get("loan_amt")) for loan in by_api.get("카드-011", []))
    advances += sum(number(loan.get("loan_amt")) for loan in by_api.get("카드-012", []))
    row["fin_card_loans_log"] = _log(advances)


def _telecom(by_api: Mapping[str, list[Mapping[str, Any]]], row: dict[str, float]) -> None:
    lines = by_api.get("통신-001", [])
    bills = by_api.get("통신-002", [])
    payments = by_api.get("통신-003", [])
    row["tel_has_telecom"] = 1.0 if lines else 0.0
    row["tel_lines"] = float(len(lines))
    billed: dict[str, float] = defaultdict(float)
    for bill in bills:
        billed[_month_of(bill.get("charge_date"))] += number(bill.get("charge_amt"))
    paid_months = {str(payment.get("trans_month")) for payment in payments}
    total_billed = sum(billed.values())
    total_paid = sum(number(payment.get("paid_amt")) for payment in payments)
    direct = sum(number(p.get("paid_amt")) for p in payments if p.get("pay_method") == "03")
    row["tel_months_billed"] = float(len(billed))
    row["tel_unpaid_months"] = float(sum(1 for month in billed if month and month not in paid_months))
    row["tel_direct_pay_share"] = _ratio(direct, total_paid)
    row["tel_paid_to_billed"] = min(2.0, _ratio(total_paid, total_billed))
    row["tel_bill_monthly_log"] = _log(_ratio(total_billed, len(billed)))
    micro = [number(item.get("trans_amt")) for item in by_api.get("통신-004", [])]
    row["tel_micro_share"] = min(1.0, _ratio(sum(micro), total_billed))
    row["tel_micro_count"] = float(len(micro))
