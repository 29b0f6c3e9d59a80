"""What the person sees: the held assets and records arranged for the dashboard and the summary API.

Built only from stored rows (no provider call), keyed by the catalogue's API IDs; an API the catalogue does not
hold simply contributes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from gettext import NullTranslations
from typing import Any

from openmydata.kit.clock import KST, as_utc, utcnow
from openmydata.operator.i18n import KOREAN, N_
from openmydata.operator.labels import (
    CARD_TYPES,
    COLLECTION_REASONS,
    NOT_RECEIVED,
    TELECOM_STATUSES,
    TELECOM_TYPES,
    code_label,
    freshness_reason,
    mask_account,
)
from openmydata.operator.models import CollectionStatus
from openmydata.operator.personal import HeldAsset, HeldRecord
from openmydata.standard.types import format_decimal

# Korean labels, the msgids of the pages' catalogue (`operator.i18n`): translated where a page shows them.
INDUSTRY_LABELS = {
    "bank": N_("은행"),
    "card": N_("카드"),
    "telecom": N_("통신"),
    "invest": N_("금융투자"),
    "insu": N_("보험"),
    "efin": N_("전자금융"),
    "capital": N_("할부금융"),
    "ginsu": N_("보증보험"),
    "p2p": "P2P",
    "bond": N_("채권"),
    "usury": N_("대부"),
}
ACCOUNT_FAMILIES = {"1": N_("예금"), "2": N_("투자"), "3": N_("대출")}
APPROVAL_STATUSES = {"01": N_("승인"), "02": N_("승인취소"), "03": N_("정정"), "04": N_("무승인매입")}
STATE_LABELS = {"ok": N_("최신"), "partial": N_("일부 실패"), "failed": N_("실패")}
INSURANCE_STATUSES = {"01": N_("유지"), "02": N_("실효")}


def industry_label(industry: str, tr: NullTranslations = KOREAN) -> str:
    """`bank` → `은행` (in `tr`'s language); an unknown industry stays as its code."""
    label = INDUSTRY_LABELS.get(industry)
    return tr.gettext(label) if label is not None else industry


def industries_label(industries: Iterable[str], tr: NullTranslations = KOREAN) -> str:
    return " · ".join(industry_label(industry, tr) for industry in industries)


def amount(value: Any) -> Decimal:
    try:
        return Decimal(str(value)) if value not in (None, "") else Decimal(0)
    except InvalidOperation:
        return Decimal(0)


def won(value: Any, currency: str | None = "KRW") -> str:
    """₩1,234,567 (KRW has no minor unit on screen); other currencies as `USD 12.50`."""
    number = amount(value)
    if currency in (None, "", "KRW"):
        sign = "-" if number < 0 else ""
        return f"{sign}₩{abs(number).quantize(Decimal(1)):,}"
    return f"{currency} {number:,.2f}"


def signed_won(value: Any, currency: str | None, *, outgoing: bool) -> str:
    """A transaction amount with its direction: `-₩9,300` going out, `+₩374,000` coming in."""
    text = won(abs(amount(value)), currency)
    return f"{'-' if outgoing else '+'}{text}"


def day_text(value: Any) -> str:
    text = str(value or "")
    if len(text) >= 8 and text[:8].isdigit():
        formatted = f"{text[0:4]}.{text[4:6]}.{text[6:8]}"
        if len(text) >= 12:
            formatted += f" {text[8:10]}:{text[10:12]}"
        return formatted
    if len(text) == 6 and text.isdigit():
        return f"{text[0:4]}.{text[4:6]}"
    return text


def moment_text(moment: datetime | None) -> str:
    return as_utc(moment).astimezone(KST).strftime("%Y.%m.%d %H:%M") if moment else "-"


# A collection still under way (kit.jobs states as `OperatorService.collection_progress` names them).
ACTIVE_PHASES = frozenset({"queued", "running", "retrying"})
PHASE_LABELS = {
    "idle": "-",
    "queued": N_("대기 중"),
    "running": N_("받는 중"),
    "retrying": N_("다시 시도 예정"),
    "done": N_("완료"),
    "failed": N_("실패"),
}
# the freshness badges of the progress panel (the page's script shows them too)
FRESHNESS_LABELS = {"fresh": N_("최신"), "waiting": N_("수신 전"), "stale": N_("오래됨")}


def _label(labels: Mapping[str, str], key: str, tr: NullTranslations) -> str:
    """The label of `key` in `tr`'s language; an unknown key stays as it is."""
    label = labels.get(key)
    if label is None:
        return key
    return tr.gettext(label) if label else label  # gettext("") would be the catalogue's header


def progress_labels(tr: NullTranslations = KOREAN) -> dict[str, Any]:
    """What the progress panel's script shows when it updates a row: the phase and freshness labels, and the
    known collection reasons (the JSON API gives them in Korean) in the page's language."""
    reasons = {text: tr.gettext(text) for text in [*COLLECTION_REASONS.values(), NOT_RECEIVED]}
    return {
        "phases": {phase: _label(PHASE_LABELS, phase, tr) for phase in PHASE_LABELS},
        "freshness": {state: tr.gettext(label) for state, label in FRESHNESS_LABELS.items()},
        "reasons": {text: translated for text, translated in reasons.items() if translated != text},
    }


def progress_rows(progress: Sequence[Any], tr: NullTranslations = KOREAN) -> list[dict[str, Any]]:
    """Each institution's collection progress and freshness as the pages show them (in `tr`'s language)."""
    now = utcnow()
    return [
        {
            "org_code": item.org_code,
            "org_name": item.org_name,
            "phase": item.phase,
            "phase_label": _label(PHASE_LABELS, item.phase, tr),
            "active": item.phase in ACTIVE_PHASES,
            "fresh": item.fresh,
            # nothing received yet while the first collection runs: not stale, just not there yet
            "waiting": item.last_attempt is None and item.phase in ACTIVE_PHASES,
            "reason": item.reason
            if tr is KOREAN
            else freshness_reason(
                fresh=item.fresh,
                received=item.last_attempt is not None,
                code=item.error_code,
                days=(now - as_utc(item.last_success)).days if item.last_success else 0,
                tr=tr,
            ),
            "last_success": moment_text(item.last_success),
            "next_attempt": moment_text(item.next_attempt) if item.next_attempt else "",
            "records": item.records,
        }
        for item in progress
    ]


@dataclass
class Dashboard:
    institutions: list[dict[str, Any]] = field(default_factory=list)
    accounts: list[dict[str, Any]] = field(default_factory=list)
    transactions: list[dict[str, Any]] = field(default_factory=list)
    loans: list[dict[str, Any]] = field(default_factory=list)
    cards: list[dict[str, Any]] = field(default_factory=list)
    card_bills: list[dict[str, Any]] = field(default_factory=list)
    approvals: list[dict[str, Any]] = field(default_factory=list)
    points: list[dict[str, Any]] = field(default_factory=list)
    telecom_lines: list[dict[str, Any]] = field(default_factory=list)
    telecom_bills: list[dict[str, Any]] = field(default_factory=list)
    insurances: list[dict[str, Any]] = field(default_factory=list)
    securities: list[dict[str, Any]] = field(default_factory=list)
    totals: dict[str, Decimal] = field(default_factory=dict)
    record_count: int = 0
    # which kinds of account the person holds (a summary tile only for those), and whether any transaction or
    # approval carries the sensitive fields the person may not have consented to (적요, 가맹점)
    has_deposit: bool = False
    has_invest: bool = False
    has_memo: bool = False
    has_merchant: bool = False

    def summary(self) -> dict[str, Any]:
        return {
            "institutions": len(self.institutions),
            "accounts": len(self.accounts),
            "cards": len(self.cards),
            "telecom_lines": len(self.telecom_lines),
            "records": self.record_count,
            "totals": {name: format_decimal(value) for name, value in self.totals.items()},
            "collection": [
                {
                    k: v
                    for k, v in {
                        "org_code": inst["org_code"],
                        "org_name": inst["org_name"],
                        "state": inst["state"],
                        "last_success": inst["last_success_dtime"],
                        "error_code": inst["error_code"],
                    }.items()
                    if v is not None
                }
                for inst in self.institutions
            ],
        }


def _records(records: Iterable[HeldRecord], api_id: str) -> list[HeldRecord]:
    return [record for record in records if record.api_id == api_id]


def _by_key(records: Iterable[HeldRecord], api_id: str) -> dict[tuple[str, str], list[Mapping[str, Any]]]:
    grouped: dict[tuple[str, str], list[Mapping[str, Any]]] = {}
    for record in _records(records, api_id):
        grouped.setdefault((record.org_code, record.key), []).append(record.payload)
    return grouped


def build_dashboard(
    assets: Sequence[HeldAsset],
    records: Sequence[HeldRecord],
    statuses: Sequence[CollectionStatus],
    org_names: Mapping[str, str],
    org_industries: Mapping[str, Sequence[str]],
    *,
    recent: int = 20,
    tr: NullTranslations = KOREAN,
) -> Dashboard:
    """The dashboard's view; its labels in `tr`'s language (Korean by default: the summary API uses no label)."""
    view = Dashboard(record_count=len(assets) + len(records))

    def name(org: str) -> str:
        return org_names.get(org, org)

    for status in statuses:
        view.institutions.append(
            {
                "org_code": status.org_code,
                "org_name": name(status.org_code),
                "industries": industries_label(org_industries.get(status.org_code, ()), tr),
                "state": status.state,
                "state_label": _label(STATE_LABELS, status.state, tr),
                "last_success": moment_text(status.last_success),
                "last_success_dtime": as_utc(status.last_success).astimezone(KST).strftime("%Y%m%d%H%M%S")
                if status.last_success
                else None,
                "error_code": status.error_code,
                "record_count": status.record_count,
            }
        )

    # bank
    deposit_detail = _by_key(records, "은행-003")
    invest_detail = _by_key(records, "은행-006")
    loan_basic = _by_key(records, "은행-008")
    loan_detail = _by_key(records, "은행-009")
    totals = {"deposit": Decimal(0), "invest": Decimal(0), "loan": Decimal(0)}
    for asset in assets:
        if asset.api_id != "은행-001":
            continue
        payload = asset.payload
        family = str(payload.get("account_type", ""))[:1]
        key = (asset.org_code, asset.asset_key)
        view.has_deposit = view.has_deposit or family == "1"
        view.has_invest = view.has_invest or family == "2"
        balance: Decimal | None = None
        currency = "KRW"
        if family == "1":
            rows = deposit_detail.get(key, [])
            krw = [row for row in rows if row.get("currency_code", "KRW") == "KRW"]
            if rows:
                chosen = krw or rows
                currency = str(chosen[0].get("currency_code", "KRW"))
                balance = sum((amount(row.get("balance_amt")) for row in chosen), Decimal(0))
                if currency == "KRW":
                    totals["deposit"] += balance
        elif family == "2":
            rows = invest_detail.get(key, [])
            if rows:
                currency = str(rows[0].get("currency_code", "KRW"))
                balance = amount(rows[0].get("eval_amt", rows[0].get("balance_amt")))
                if currency == "KRW":
                    totals["invest"] += balance
        elif family == "3":
            rows = loan_detail.get(key, [])
            if rows:
                balance = amount(rows[0].get("balance_amt"))
                totals["loan"] += balance
                basic = (loan_basic.get(key) or [{}])[0]
                view.loans.append(
                    {
                        "org_name": name(asset.org_code),
                        "product": payload.get("prod_name", ""),
                        "number": mask_account(payload.get("account_num")),
                        "balance": won(balance),
                        "principal": won(rows[0].get("loan_principal")),
                        "rate": f"{basic.get('last_offered_rate', '-')}%",
                        "exp_date": day_text(basic.get("exp_date")),
                        "next_repay": day_text(rows[0].get("next_repay_date")),
                    }
                )
        view.accounts.append(
            {
                "org_name": name(asset.org_code),
                "product": payload.get("prod_name", ""),
                "number": mask_account(payload.get("account_num")),
                "family": _label(ACCOUNT_FAMILIES, family, tr) if family in ACCOUNT_FAMILIES else tr.gettext("기타"),
                "balance": won(balance, currency) if balance is not None else "-",
                "is_loan": family == "3",
            }
        )

    account_names = {
        (a.org_code, a.asset_key): a.payload.get("prod_name", "") for a in assets if a.api_id == "은행-001"
    }
    transactions = []
    for record in _records(records, "은행-004"):
        payload = record.payload
        currency = str(payload.get("currency_code", "KRW"))
        outgoing = (
            "출금" in str(payload.get("trans_class", ""))
            or str(payload.get("trans_type", "")) == "02"
            or amount(payload.get("trans_amt")) < 0
        )
        transactions.append(
            (
                str(payload.get("trans_dtime", "")),
                {
                    "when": day_text(payload.get("trans_dtime")),
                    "org_name": name(record.org_code),
                    "account": account_names.get((record.org_code, record.key))
                    or mask_account(record.key.split("|")[0]),
                    "kind": payload.get("trans_class", ""),
                    "memo": payload.get("trans_memo", ""),
                    "amount": signed_won(payload.get("trans_amt"), currency, outgoing=outgoing),
                    "balance": won(payload.get("balance_amt"), currency),
                    "outgoing": outgoing,
                },
            )
        )
    view.transactions = [row for _, row in sorted(transactions, key=lambda item: item[0], reverse=True)[:recent]]
    view.has_memo = any(row["memo"] for row in view.transactions)

    # card
    card_basic = _by_key(records, "카드-002")
    for asset in assets:
        if asset.api_id != "카드-001":
            continue
        basic = (card_basic.get((asset.org_code, asset.asset_key)) or [{}])[0]
        view.cards.append(
            {
                "org_name": name(asset.org_code),
                "name": asset.payload.get("card_name", ""),
                "number": asset.payload.get("card_num", ""),
                "type": code_label(CARD_TYPES, basic.get("card_type"), tr),
                "member": tr.gettext("본인") if str(asset.payload.get("card_member")) == "1" else tr.gettext("가족"),
            }
        )
    card_names = {(a.org_code, a.asset_key): a.payload.get("card_name", "") for a in assets if a.api_id == "카드-001"}
    bills = sorted(_records(records, "카드-004"), key=lambda r: str(r.payload.get("charge_month", "")), reverse=True)
    latest_card_month = str(bills[0].payload.get("charge_month", "")) if bills else ""
    totals["card_bills"] = sum(
        (amount(r.payload.get("charge_amt")) for r in bills if str(r.payload.get("charge_month")) == latest_card_month),
        Decimal(0),
    )
    view.card_bills = [
        {
            "org_name": name(r.org_code),
            "month": day_text(r.payload.get("charge_month")),
            "amount": won(r.payload.get("charge_amt")),
            "paid_out": day_text(r.payload.get("paid_out_date")),
        }
        for r in bills[:recent]
    ]
    approvals = []
    for api_id in ("카드-008", "카드-009"):
        for record in _records(records, api_id):
            payload = record.payload
            currency = str(payload.get("currency_code", "KRW"))
            approval_status = str(payload.get("status", ""))
            approvals.append(
                (
                    str(payload.get("approved_dtime", "")),
                    {
                        "when": day_text(payload.get("approved_dtime")),
                        "org_name": name(record.org_code),
                        "card": card_names.get((record.org_code, record.key), ""),
                        "merchant": payload.get("merchant_name", ""),
                        "status": _label(APPROVAL_STATUSES, approval_status, tr)
                        if approval_status in APPROVAL_STATUSES
                        else "",
                        "amount": won(payload.get("approved_amt"), currency),
                        "cancelled": approval_status == "02",
                    },
                )
            )
    view.approvals = [row for _, row in sorted(approvals, key=lambda item: item[0], reverse=True)[:recent]]
    view.has_merchant = any(row["merchant"] for row in view.approvals)
    view.points = [
        {
            "org_name": name(r.org_code),
            "name": r.payload.get("point_name", ""),
            "amount": f"{amount(r.payload.get('remain_point_amt')).quantize(Decimal(1)):,} P",
        }
        for r in _records(records, "카드-003")
    ]
    for api_id, label in (("카드-011", tr.gettext("단기카드대출")), ("카드-012", tr.gettext("장기카드대출"))):
        for record in _records(records, api_id):
            payload = record.payload
            balance = amount(payload.get("balance_amt", payload.get("loan_amt")))
            totals["loan"] += balance
            view.loans.append(
                {
                    "org_name": name(record.org_code),
                    "product": payload.get("loan_name", label),
                    "number": "",
                    "balance": won(balance),
                    "principal": won(payload.get("loan_amt")),
                    "rate": f"{payload.get('int_rate', '-')}%",
                    "exp_date": day_text(payload.get("exp_date")),
                    "next_repay": day_text(payload.get("pay_due_date")),
                }
            )

    # telecom
    line_numbers = {}
    for asset in assets:
        if asset.api_id != "통신-001":
            continue
        line_numbers[(asset.org_code, asset.asset_key)] = asset.payload.get("telecom_num", "")
        view.telecom_lines.append(
            {
                "org_name": name(asset.org_code),
                "number": asset.payload.get("telecom_num", ""),
                "type": code_label(TELECOM_TYPES, asset.payload.get("type"), tr),
                "status": code_label(TELECOM_STATUSES, asset.payload.get("status"), tr),
            }
        )
    telecom_bills = sorted(
        _records(records, "통신-002"), key=lambda r: (r.key, str(r.payload.get("charge_date"))), reverse=True
    )
    latest_telecom_month = telecom_bills[0].key if telecom_bills else ""
    totals["telecom_bills"] = sum(
        (amount(r.payload.get("charge_amt")) for r in telecom_bills if r.key == latest_telecom_month), Decimal(0)
    )
    view.telecom_bills = [
        {
            "org_name": name(r.org_code),
            "month": day_text(r.key),
            "line": line_numbers.get((r.org_code, str(r.payload.get("mgmt_id", ""))), r.payload.get("mgmt_id", "")),
            "amount": won(r.payload.get("charge_amt")),
            "due": day_text(r.payload.get("charge_date")),
        }
        for r in telecom_bills[:recent]
    ]
    _insurance_and_securities(view, assets, records, totals, name, tr)
    view.totals = totals
    return view


def _insurance_and_securities(
    view: Dashboard,
    assets: Sequence[HeldAsset],
    records: Sequence[HeldRecord],
    totals: dict[str, Decimal],
    name: Callable[[str], str],
    tr: NullTranslations,
) -> None:
    """Insurance policies (보험-001, with 보험-002's coverage and end date and 보험-005's premium) and securities
    accounts (금투-001, with 금투-002's cash and 금투-004's holdings at their valuation)."""
    insu_basic = _by_key(records, "보험-002")
    insu_payment = _by_key(records, "보험-005")
    totals["premium"] = Decimal(0)
    for asset in assets:
        if asset.api_id != "보험-001":
            continue
        key = (asset.org_code, asset.asset_key)
        basic = (insu_basic.get(key) or [{}])[0]
        payment = (insu_payment.get(key) or [{}])[0]
        premium = amount(payment.get("pay_amt")) if payment.get("pay_amt") is not None else None
        status = str(asset.payload.get("insu_status", ""))
        if premium is not None and status == "01":
            totals["premium"] += premium
        view.insurances.append(
            {
                "org_name": name(asset.org_code),
                "product": asset.payload.get("prod_name", ""),
                "status": code_label(INSURANCE_STATUSES, status, tr),
                "lapsed": status == "02",
                "face": won(basic.get("face_amt")) if basic.get("face_amt") is not None else "-",
                "premium": won(premium) if premium is not None else "-",
                "exp_date": day_text(basic.get("exp_date")),
            }
        )
    cash = _by_key(records, "금투-002")
    products = _by_key(records, "금투-004")
    for asset in assets:
        if asset.api_id != "금투-001":
            continue
        key = (asset.org_code, asset.asset_key)
        held = products.get(key, [])
        evaluation = sum((amount(row.get("eval_amt")) for row in held), Decimal(0))
        cost = sum((amount(row.get("purchase_amt")) for row in held), Decimal(0))
        deposit = amount((cash.get(key) or [{}])[0].get("withholdings_amt"))
        totals["invest"] += evaluation + deposit
        gain = evaluation - cost
        view.securities.append(
            {
                "org_name": name(asset.org_code),
                "account": asset.payload.get("account_name", ""),
                "number": mask_account(asset.payload.get("account_num")),
                "holdings": len(held),
                "evaluation": won(evaluation),
                "cash": won(deposit),
                "gain": signed_won(gain, "KRW", outgoing=gain < 0) if held else "-",
                "loss": gain < 0,
            }
        )
    view.has_invest = view.has_invest or bool(view.securities)
