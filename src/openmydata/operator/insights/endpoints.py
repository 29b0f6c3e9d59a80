"""Pages and API of what the operator makes of a person's data: spending analysis (`/spending`,
`GET /api/me/spending`) and recommendations (`/recommendations`, `GET /api/me/recommendations`). The credit view
(`/credit`) is served by `operator.endpoints`."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from openmydata.kit.clock import today_kst
from openmydata.operator.endpoints import (
    OptionalViewer,
    Session,
    SignedIn,
    _assess,
    _db,
    _held,
    _page,
    _person,
    _redirect,
    _settings,
    _tr,
)
from openmydata.operator.i18n import N_
from openmydata.operator.insights.charts import columns, rows
from openmydata.operator.insights.features import Held
from openmydata.operator.insights.recommend import Offer, load_catalogue, recommend
from openmydata.operator.insights.spending import Spending, analyse
from openmydata.operator.personal import Member
from openmydata.operator.views import day_text, won

router = APIRouter()


def _spending(held: list[Held]) -> Spending:
    return analyse((org, api_id, payload) for org, api_id, _, payload in held)


def _age(person: Member, today: date) -> int | None:
    birth = person.identity.birth_date
    try:
        born = date(int(birth[:4]), int(birth[4:6]), int(birth[6:8]))
    except (ValueError, IndexError):
        return None
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def _month_label(month: str) -> str:
    return f"{month[2:4]}.{month[4:6]}" if len(month) == 6 else month


def _short_won(value: float) -> str:
    """Axis labels in won without the unit's clutter: thousands as K (₩120K), millions as M (₩1.2M)."""
    if value >= 1_000_000:
        return f"₩{value / 1_000_000:,.1f}M"
    return f"₩{value / 1_000:,.0f}K" if value >= 1_000 else f"₩{value:,.0f}"


async def _offers(request: Request, session: AsyncSession, person: Member) -> tuple[list[Offer], Spending]:
    held = await _held(session, person)
    spending = _spending(held)
    outcome = await _assess(request, held)
    band = outcome.assessment.band if outcome.assessment is not None else None
    products = await run_in_threadpool(load_catalogue, Path(_settings(request).product_catalogue_path))
    tr = _tr(request).gettext
    return recommend(held, products, spending, band=band, age=_age(person, today_kst()), tr=tr), spending


@router.get("/api/me/spending", tags=["api"])
async def api_spending(request: Request, session: Session, who: SignedIn) -> dict[str, Any]:
    """Card and telecom spending per month and category, top merchants, upcoming card payments."""
    person = await _person(session, request, who)
    view = _spending(await _held(session, person))
    return {
        "total": round(view.total),
        "monthly_average": round(view.monthly_average),
        "months": [{"month": line.label, "amount": round(line.amount)} for line in view.months],
        "categories": [
            {"category": line.label, "amount": round(line.amount), "count": line.count, "share": round(line.share, 4)}
            for line in view.categories
        ],
        "merchants": [
            {"merchant": line.label, "category": line.category, "amount": round(line.amount), "count": line.count}
            for line in view.merchants
        ],
        "micro_payments": round(view.micro_payments),
        "upcoming_card_payments": [
            {"org_code": item["org_code"], "pay_due_date": item["pay_due_date"], "pay_amt": round(item["pay_amt"])}
            for item in view.upcoming
        ],
    }


@router.get("/api/me/recommendations", tags=["api"])
async def api_recommendations(request: Request, session: Session, who: SignedIn) -> dict[str, Any]:
    """Products that fit, each with its reason and the estimated gain per year in won."""
    person = await _person(session, request, who)
    offers, _ = await _offers(request, session, person)
    return {"offers": [{**asdict(offer), "yearly_gain": round(offer.yearly_gain)} for offer in offers]}


@router.get("/spending", response_class=HTMLResponse, include_in_schema=False)
async def spending_page(request: Request, who: OptionalViewer) -> Response:
    if who is None:
        return _redirect("/")
    async with _db(request).transaction() as session:
        person = await _person(session, request, who)
        view = _spending(await _held(session, person))
        names = {
            choice.org_code: choice.org_name for choice in await request.app.state.service.provider_choices(session)
        }
    tr = _tr(request).gettext
    return _page(
        request,
        "spending.html",
        {
            "title": tr(N_("소비 분석")),
            "view": view,
            "average": won(view.monthly_average),
            "total": won(view.total),
            "micro": won(view.micro_payments),
            "monthly_chart": columns(
                tr(N_("월별 지출 (카드 승인 + 통신 요금)")),
                [(_month_label(line.label), line.amount) for line in view.months],
                won,
                axis_fmt=_short_won,
            ),
            "category_chart": rows(
                tr(N_("분류별 지출")), [(tr(line.label), line.amount) for line in view.categories], won
            ),
            "merchants": [
                {"name": tr(line.label), "category": tr(line.category), "amount": won(line.amount), "count": line.count}
                for line in view.merchants
            ],
            "upcoming": [
                {
                    "org_name": names.get(item["org_code"], item["org_code"]),
                    "date": day_text(item["pay_due_date"]),
                    "amount": won(item["pay_amt"]),
                }
                for item in view.upcoming
            ],
        },
        who=who,
    )


KIND_LABELS = {
    "deposit": N_("예금 상품"),
    "savings": N_("적금 상품"),
    "card": N_("카드"),
    "loan": N_("대출 갈아타기"),
    "telecom_plan": N_("통신 요금제"),
}


@router.get("/recommendations", response_class=HTMLResponse, include_in_schema=False)
async def recommendations_page(request: Request, who: OptionalViewer) -> Response:
    if who is None:
        return _redirect("/")
    async with _db(request).transaction() as session:
        person = await _person(session, request, who)
        offers, _ = await _offers(request, session, person)
    tr = _tr(request).gettext
    return _page(
        request,
        "recommendations.html",
        {
            "title": tr(N_("추천 상품")),
            "offers": [
                {
                    **asdict(offer),
                    "kind_label": tr(KIND_LABELS.get(offer.kind, offer.kind)),
                    "gain": won(offer.yearly_gain),
                }
                for offer in offers
            ],
        },
        who=who,
    )
