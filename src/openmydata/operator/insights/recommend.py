"""Products that fit a person, each with the reason it fits — from the records collected from every institution
and the product catalogue (`sandbox.products`, read from a JSON file).

One offer per kind at most, the one worth most to the person in won per year:
- **time deposit**: money that sits in demand-deposit accounts beyond a month of spending;
- **savings**: part (half) of what is left over each month on average;
- **card**: the card whose category benefits, applied to this person's card spending by category, are worth most
  after its annual fee;
- **loan refinancing**: a credit loan (or card loan) whose rate is above what the credit view's band can get;
- **telecom plan**: a cheaper plan on the same network with at least the data of the plan the bills show (or, where
  the operator holds monthly usage from a nationwide-profile telecom, at least 1.2 times the most used).

The amounts are estimates from what the institutions sent; every reason says what it was computed from.
"""

from __future__ import annotations

import json
import math
import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openmydata.operator.i18n import N_
from openmydata.operator.insights.categories import OTHER
from openmydata.operator.insights.features import Held, monthly_flows, number
from openmydata.operator.insights.spending import TELECOM, Spending
from openmydata.operator.views import won

CATALOGUE_FORMAT = "openmydata-products/1"
DEMAND_RATE = 0.1  # yearly %, what money earns in a demand-deposit account
MIN_GAIN = 10_000  # won per year: less is not worth a person's attention

Translate = Callable[[str], str]


def _korean(message: str) -> str:
    return message


@dataclass(frozen=True)
class Offer:
    kind: str  # deposit, savings, card, loan, telecom_plan
    product_id: str
    name: str
    provider: str
    reason: str
    yearly_gain: float  # won per year, estimated


def load_catalogue(path: Path) -> list[dict[str, Any]]:
    """The products of a catalogue file; [] when there is none."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    if not isinstance(data, dict) or data.get("format") != CATALOGUE_FORMAT:
        raise ValueError(f"{path} is not a product catalogue ({CATALOGUE_FORMAT})")
    return [product for product in data.get("products", []) if isinstance(product, dict)]


def _bank_flows(records: Sequence[Held]) -> tuple[float, float]:
    """(money in, money out) per month on average over the months seen."""
    money_in, money_out = monthly_flows(payload for _, api_id, _, payload in records if api_id == "은행-004")
    months = sorted(set(money_in) | set(money_out))
    if not months:
        return 0.0, 0.0
    return sum(money_in.values()) / len(months), sum(money_out.values()) / len(months)


def _deposit(
    records: Sequence[Held], products: Sequence[Mapping[str, Any]], monthly_out: float, tr: Translate
) -> Offer | None:
    demand = {
        (org, str(payload.get("account_num")))
        for org, api_id, _, payload in records
        if api_id == "은행-001" and payload.get("account_type") == "1001"
    }
    has_time_deposit = any(
        api_id == "은행-001" and payload.get("account_type") == "1002" for _, api_id, _, payload in records
    )
    idle = sum(
        number(payload.get("balance_amt"))
        for org, api_id, key, payload in records
        if api_id == "은행-003" and (org, key.split("|")[0]) in demand
    )
    movable = math.floor((idle - monthly_out) / 100_000) * 100_000
    if movable < 1_000_000:
        return None
    fitting = [
        p for p in products if p.get("kind") == "deposit" and p.get("term_months") and p.get("min_amount", 0) <= movable
    ]
    if not fitting:
        return None
    best = max(fitting, key=lambda p: float(p["rate"]))
    gain = movable * (float(best["rate"]) - DEMAND_RATE) / 100
    template = (
        tr(
            N_(
                "입출금 통장에 %(idle)s이 있습니다. 한 달 지출(%(spend)s)을 남기고 %(move)s을 "
                "%(product)s(연 %(rate)s%%)에 맡기면 1년 이자가 입출금 통장보다 약 %(gain)s 많습니다."
            )
        )
        if has_time_deposit
        else tr(
            N_(
                "입출금 통장에 %(idle)s이 있고 정기예금은 없습니다. 한 달 지출(%(spend)s)을 남기고 %(move)s을 "
                "%(product)s(연 %(rate)s%%)에 맡기면 1년 이자가 입출금 통장보다 약 %(gain)s 많습니다."
            )
        )
    )
    reason = template % {
        "idle": won(idle),
        "spend": won(monthly_out),
        "move": won(movable),
        "product": best["name"],
        "rate": best["rate"],
        "gain": won(gain),
    }
    return Offer("deposit", str(best["id"]), str(best["name"]), str(best["provider"]), reason, gain)


def _savings(
    products: Sequence[Mapping[str, Any]], monthly_in: float, monthly_out: float, age: int | None, tr: Translate
) -> Offer | None:
    surplus = monthly_in - monthly_out
    if surplus < 100_000:
        return None
    fitting = [
        p
        for p in products
        if p.get("kind") == "savings" and (p.get("max_age") is None or (age is not None and age <= int(p["max_age"])))
    ]
    if not fitting:
        return None
    best = max(fitting, key=lambda p: float(p["rate"]))
    monthly = min(float(best["max_monthly"]), math.floor(surplus / 2 / 10_000) * 10_000)
    if monthly < 50_000:
        return None
    months = int(best.get("term_months") or 12)
    gain = monthly * float(best["rate"]) / 100 * (months + 1) / 2 * months / 12  # simple interest of an 적금
    reason = tr(
        N_(
            "은행 계좌에 매달 평균 %(money_in)s이 들어오고 %(money_out)s이 나가 %(surplus)s이 남습니다. 그 절반인 월 "
            "%(monthly)s씩 %(product)s(연 %(rate)s%%, %(months)s개월)에 넣으면 만기 이자가 약 %(gain)s입니다."
        )
    ) % {
        "money_in": won(monthly_in),
        "money_out": won(monthly_out),
        "surplus": won(surplus),
        "monthly": won(monthly),
        "product": best["name"],
        "rate": best["rate"],
        "months": months,
        "gain": won(gain),
    }
    return Offer("savings", str(best["id"]), str(best["name"]), str(best["provider"]), reason, gain)


def _card(products: Sequence[Mapping[str, Any]], spending: Spending, tr: Translate) -> Offer | None:
    months = max(1, len(spending.months))
    per_month = {line.label: line.amount / months for line in spending.categories if line.label not in (TELECOM,)}
    card_total = sum(per_month.values())
    best: tuple[float, Mapping[str, Any], list[tuple[str, float, float]]] | None = None
    for product in products:
        if product.get("kind") != "card" or card_total < float(product.get("min_monthly_spend", 0)):
            continue
        parts = []
        for benefit in product.get("benefits", []):
            spent = per_month.get(str(benefit["category"]), 0.0)
            value = min(float(benefit["monthly_cap"]), spent * float(benefit["rate"]))
            if value > 0:
                parts.append((str(benefit["category"]), spent, value))
        yearly = 12 * sum(value for _, _, value in parts) - float(product.get("annual_fee", 0))
        if parts and (best is None or yearly > best[0]):
            best = (yearly, product, parts)
    if best is None or best[0] < MIN_GAIN:
        return None
    gain, product, parts = best
    spent_text = ", ".join(f"{tr(category)} {won(spent)}" for category, spent, _ in parts if category != OTHER)
    reason = tr(
        N_(
            "카드로 한 달에 평균 %(spent)s를 쓰십니다. %(product)s의 할인을 이 지출에 적용하면 월 %(monthly)s, 연회비 "
            "%(fee)s를 빼고 1년에 약 %(gain)s 혜택입니다."
        )
    ) % {
        "spent": spent_text,
        "product": product["name"],
        "monthly": won(sum(v for _, _, v in parts)),
        "fee": won(float(product.get("annual_fee", 0))),
        "gain": won(gain),
    }
    return Offer("card", str(product["id"]), str(product["name"]), str(product["provider"]), reason, gain)


def _loans(records: Sequence[Held]) -> list[tuple[str, float, float]]:
    """(name, balance, yearly rate %) of the person's credit loans and card loans."""
    names: dict[tuple[str, str], str] = {}
    rates: dict[tuple[str, str], float] = {}
    balances: dict[tuple[str, str], float] = {}
    for org, api_id, key, payload in records:
        account = key.split("|")[0]
        if api_id == "은행-001" and payload.get("account_type") == "3100":
            names[(org, str(payload.get("account_num")))] = str(payload.get("prod_name") or "신용대출")
        elif api_id == "은행-008":
            rates[(org, account)] = number(payload.get("last_offered_rate"))
        elif api_id == "은행-009":
            balances[(org, account)] = number(payload.get("balance_amt"))
    loans = [(name, balances.get(ref, 0.0), rates.get(ref, 0.0)) for ref, name in names.items()]
    loans += [
        (
            str(payload.get("loan_name") or "카드론"),
            number(payload.get("balance_amt")),
            number(payload.get("int_rate")),
        )
        for _, api_id, _, payload in records
        if api_id == "카드-012"
    ]
    return [loan for loan in loans if loan[1] > 0 and loan[2] > 0]


def _refinance(
    records: Sequence[Held], products: Sequence[Mapping[str, Any]], band: str | None, tr: Translate
) -> Offer | None:
    if band is None:
        return None
    best: tuple[float, Mapping[str, Any], tuple[str, float, float], float] | None = None
    for loan in _loans(records):
        _, balance, rate = loan
        for product in products:
            offered = (product.get("rate_by_band") or {}).get(band) if product.get("kind") == "loan" else None
            if offered is None or balance > float(product.get("max_amount", math.inf)):
                continue
            gain = balance * (rate - float(offered)) / 100
            if rate - float(offered) >= 0.5 and (best is None or gain > best[0]):
                best = (gain, product, loan, float(offered))
    if best is None or best[0] < MIN_GAIN:
        return None
    gain, product, (name, balance, rate), offered = best
    reason = tr(
        N_(
            "%(loan)s %(balance)s을 연 %(rate)s%%로 쓰고 계십니다. 신용 보기 등급 %(band)s이면 %(product)s(연 "
            "%(offered)s%%)로 갈아탈 수 있어 이자가 1년에 약 %(gain)s 줄어듭니다. 중도상환수수료를 먼저 확인하세요."
        )
    ) % {
        "loan": name,
        "balance": won(balance),
        "rate": f"{rate:g}",
        "band": band,
        "product": product["name"],
        "offered": f"{offered:g}",
        "gain": won(gain),
    }
    return Offer("loan", str(product["id"]), str(product["name"]), str(product["provider"]), reason, gain)


def _telecom_plan(records: Sequence[Held], products: Sequence[Mapping[str, Any]], tr: Translate) -> Offer | None:
    bills: dict[str, float] = defaultdict(float)
    micro: dict[str, float] = defaultdict(float)
    usage: list[float] = []
    for _, api_id, _, payload in records:
        if api_id == "통신-002":
            bills[str(payload.get("charge_date", ""))[:6]] += number(payload.get("charge_amt"))
        elif api_id == "통신-004":
            micro[str(payload.get("trans_date", ""))[:6]] += number(payload.get("trans_amt"))
        elif api_id.startswith("통신(전국)") and "data_usage" in payload:
            usage.append(number(payload.get("data_usage")))
    if not bills:
        return None

    def previous(month: str) -> str:
        year, number = int(month[:4]), int(month[4:6])
        return f"{year - 1}12" if number == 1 else f"{year}{number - 1:02d}"

    base = min(amount - micro.get(previous(month), 0.0) for month, amount in bills.items() if len(month) == 6)
    carrier = sorted(
        (p for p in products if p.get("kind") == "telecom_plan" and p.get("carrier")), key=lambda p: -p["monthly_fee"]
    )
    current = next((p for p in carrier if float(p["monthly_fee"]) <= base + 1), None)
    if current is None:
        return None
    if usage:
        need = 1.2 * max(usage)
        basis = tr(N_("데이터를 가장 많이 쓴 달에 %(used)sGB를 쓰셨습니다")) % {"used": f"{max(usage) / 1000:.1f}"}
    else:
        need = float(current["data_mb"]) or math.inf
        included = tr(N_("무제한")) if not current["data_mb"] else f"{current['data_mb'] / 1000:g}GB"
        basis = tr(N_("요금 청구서로 보아 %(plan)s 요금제(데이터 %(data)s)를 쓰고 계십니다")) % {
            "plan": current["name"],
            "data": included,
        }

    def enough(plan: Mapping[str, Any]) -> bool:
        return not plan["data_mb"] or float(plan["data_mb"]) >= need

    cheaper = [
        p
        for p in products
        if p.get("kind") == "telecom_plan"
        and not p.get("carrier")
        and enough(p)
        and p["monthly_fee"] < current["monthly_fee"]
    ]
    if not cheaper:
        return None
    best = min(cheaper, key=lambda p: float(p["monthly_fee"]))
    gain = 12 * (float(current["monthly_fee"]) - float(best["monthly_fee"]))
    if gain < MIN_GAIN:
        return None
    typical = statistics.median(bills.values())
    reason = tr(
        N_(
            "통신 요금이 월 평균 %(typical)s 청구됩니다. %(basis)s. 같은 통신망의 %(product)s은 월 %(fee)s이라 "
            "요금제를 바꾸면 1년에 약 %(gain)s 아낄 수 있습니다."
        )
    ) % {
        "typical": won(typical),
        "basis": basis,
        "product": best["name"],
        "fee": won(float(best["monthly_fee"])),
        "gain": won(gain),
    }
    return Offer("telecom_plan", str(best["id"]), str(best["name"]), str(best["provider"]), reason, gain)


def recommend(
    records: Iterable[Held],
    products: Sequence[Mapping[str, Any]],
    spending: Spending,
    *,
    band: str | None = None,
    age: int | None = None,
    tr: Translate = _korean,
) -> list[Offer]:
    """Offers worth at least MIN_GAIN a year, most valuable first; `tr` translates the reasons (Korean source
    strings, `operator.i18n`)."""
    held = list(records)
    monthly_in, monthly_out = _bank_flows(held)
    offers = [
        _deposit(held, products, monthly_out, tr),
        _savings(products, monthly_in, monthly_out, age, tr),
        _card(products, spending, tr),
        _refinance(held, products, band, tr),
        _telecom_plan(held, products, tr),
    ]
    return sorted(
        (offer for offer in offers if offer is not None and offer.yearly_gain >= MIN_GAIN), key=lambda o: -o.yearly_gain
    )
