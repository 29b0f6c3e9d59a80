"""The weekly statistics the portal received (지원-004 from operators, 지원-005 from providers), shown per
institution on the admin API, and the re-send the portal asks for (지원-101 then 지원-104 at the institution).

- `GET /admin/statistics?org_code=&week=`: the reports `org_code` sent for the week reported on Sunday `week`
  (default: the latest week it reported), with their daily rows summed over the institution's reports per
  (day, type, counterpart), and week totals per type. Response times are summed (`rsp_total`) and averaged
  over the calls (`rsp_avg` = rsp_total / (success + fail), whole ms); the reports' standard deviations do not
  add up and are left out of the sums. `consent_own` of a week total is the last day's.
- `POST /admin/statistics/request` {org_code, inquiry_date, type}: the institution's 지원-101 with the pair the
  portal was issued for it, then 지원-104; the institution sends the week again before it answers, so the view
  shows the new figures as soon as this returns. Refusals and unreachable institutions come back as `error`.

Both need `x-admin-key`, like the rest of the admin API.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, field_validator

from openmydata.kit import logging as log
from openmydata.kit.audit import AuditChain
from openmydata.kit.clock import as_utc, parse_date, to_dtime
from openmydata.kit.db import Database
from openmydata.kit.errors import PeerError, PeerUnavailable
from openmydata.portal.clients import OperatorSupportClient
from openmydata.portal.endpoints import SessionDep, _admin
from openmydata.portal.models import StatisticsReport
from openmydata.portal.repository import PortalRepository
from openmydata.portal.schemas import PROVIDER_TYPES
from openmydata.portal.service import PORTAL_PURPOSE
from openmydata.portal.settings import PortalSettings
from openmydata.standard.apis.support import OrgType, week_dates
from openmydata.standard.codes import RspCode, StandardError
from openmydata.standard.statistics import BANDS

_logger = log.get_logger("openmydata.portal.statistics")

# 지원-002 org_type of the institution → 지원-104 org_type (01 operator, 03 provider)
RESEND_ORG_TYPES = {OrgType.OPERATOR.value: "01", **{org_type: "03" for org_type in PROVIDER_TYPES}}


class SlotFigures(BaseModel):
    tm_slot: str
    success_api_cnt: int = 0
    fail_api_cnt: int = 0
    rsp_total: int = 0
    rsp_avg: int = 0


class ApiFigures(BaseModel):
    api_type: str  # the API code
    tm_slot_list: list[SlotFigures]


class Figures(BaseModel):
    consent_new: int = 0
    consent_revoke: int = 0
    consent_own: int | None = None
    success_api_cnt: int = 0
    fail_api_cnt: int = 0
    rsp_total: int = 0
    rsp_avg: int = 0
    api_type_list: list[ApiFigures] = []


class DayRow(Figures):
    stat_date: str
    type: str
    org_code: str  # the counterpart: the operator in a provider's report, a provider in an operator's


class TypeTotals(Figures):
    type: str


class ReportInfo(BaseModel):
    api_id: str
    client_id: str
    mydata_org_code: str
    type: str
    received_at: str  # DTIME, Asia/Seoul


class StatisticsView(BaseModel):
    org_code: str
    inquiry_date: str | None
    stat_dates: list[str]
    reports: list[ReportInfo]
    rows: list[DayRow]
    totals: list[TypeTotals]


class ResendRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    org_code: str
    inquiry_date: str
    type: Literal["0", "1", "2"] = "0"

    @field_validator("inquiry_date")
    @classmethod
    def _sunday(cls, value: str) -> str:
        try:
            day = parse_date(value)
        except ValueError as exc:
            raise ValueError("inquiry_date is YYYYMMDD") from exc
        if day.weekday() != 6:
            raise ValueError("inquiry_date must be a Sunday")
        return value


class ResendOutcome(BaseModel):
    org_code: str
    inquiry_date: str
    type: str
    rsp_code: str | None = None
    error: str | None = None


class _Tally:
    """Sums of one group of rows: consents, and calls per (API code, band)."""

    def __init__(self) -> None:
        self.consent_new = 0
        self.consent_revoke = 0
        self.consent_own: int | None = None
        self.slots: dict[tuple[str, str], list[int]] = {}  # (api, band) → [success, fail, rsp_total]

    def add_consents(self, entry: dict[str, Any]) -> None:
        self.consent_new += int(entry.get("consent_new") or 0)
        self.consent_revoke += int(entry.get("consent_revoke") or 0)
        if entry.get("consent_own") is not None:
            self.consent_own = (self.consent_own or 0) + int(entry["consent_own"])

    def add_calls(self, entry: dict[str, Any]) -> None:
        for api in entry.get("api_type_list") or []:
            for slot in api.get("tm_slot_list") or []:
                sums = self.slots.setdefault((str(api["api_type"]), str(slot["tm_slot"])), [0, 0, 0])
                sums[0] += int(slot.get("success_api_cnt") or 0)
                sums[1] += int(slot.get("fail_api_cnt") or 0)
                sums[2] += int(slot.get("rsp_total") or 0)

    def figures(self) -> dict[str, Any]:
        apis = []
        for api_code in sorted({api for api, _band in self.slots}):
            slots = []
            for band in sorted({band for api, band in self.slots if api == api_code} | set(BANDS)):
                success, fail, total = self.slots.get((api_code, band), [0, 0, 0])
                slots.append(
                    SlotFigures(
                        tm_slot=band,
                        success_api_cnt=success,
                        fail_api_cnt=fail,
                        rsp_total=total,
                        rsp_avg=_average(total, success + fail),
                    )
                )
            apis.append(ApiFigures(api_type=api_code, tm_slot_list=slots))
        success = sum(sums[0] for sums in self.slots.values())
        fail = sum(sums[1] for sums in self.slots.values())
        total = sum(sums[2] for sums in self.slots.values())
        return {
            "consent_new": self.consent_new,
            "consent_revoke": self.consent_revoke,
            "consent_own": self.consent_own,
            "success_api_cnt": success,
            "fail_api_cnt": fail,
            "rsp_total": total,
            "rsp_avg": _average(total, success + fail),
            "api_type_list": apis,
        }


def _average(total: int, count: int) -> int:
    return (2 * total + count) // (2 * count) if count else 0


def summarise(org_code: str, reports: Iterable[StatisticsReport]) -> StatisticsView:
    """The view of one institution's reports of one week."""
    reports = list(reports)
    inquiry_date = reports[0].inquiry_date if reports else None
    days: dict[tuple[str, str, str], _Tally] = {}
    weeks: dict[str, _Tally] = {}
    last_day: dict[str, str] = {}
    for report in reports:
        stat_type = report.stat_type
        week = weeks.setdefault(stat_type, _Tally())
        for row in report.payload.get("stat_date_list") or []:
            stat_date = str(row["stat_date"])
            last_day[stat_type] = max(last_day.get(stat_type, stat_date), stat_date)
            for entry in row.get("org_list") or []:
                day = days.setdefault((stat_date, stat_type, str(entry["org_code"])), _Tally())
                day.add_consents(entry)
                day.add_calls(entry)
                week.add_calls(entry)
                week.consent_new += int(entry.get("consent_new") or 0)
                week.consent_revoke += int(entry.get("consent_revoke") or 0)
    for (stat_date, stat_type, _org), day in days.items():
        if stat_date == last_day.get(stat_type) and day.consent_own is not None:
            week = weeks[stat_type]
            week.consent_own = (week.consent_own or 0) + day.consent_own
    return StatisticsView(
        org_code=org_code,
        inquiry_date=inquiry_date,
        stat_dates=week_dates(inquiry_date) if inquiry_date else [],
        reports=[
            ReportInfo(
                api_id=report.api_id,
                client_id=report.client_id,
                mydata_org_code=report.mydata_org_code,
                type=report.stat_type,
                received_at=to_dtime(as_utc(report.received_at)),
            )
            for report in reports
        ],
        rows=[
            DayRow(stat_date=stat_date, type=stat_type, org_code=org, **tally.figures())
            for (stat_date, stat_type, org), tally in sorted(days.items())
        ],
        totals=[TypeTotals(type=stat_type, **tally.figures()) for stat_type, tally in sorted(weeks.items())],
    )


router = APIRouter(prefix="/admin/statistics", tags=["admin"], dependencies=[Depends(_admin)])


@router.get("")
async def statistics_view(session: SessionDep, org_code: str, week: str | None = None) -> StatisticsView:
    """What `org_code` reported for the week reported on Sunday `week` (default: the latest week it reported)."""
    if week is not None:
        try:
            sunday = parse_date(week).weekday() == 6
        except ValueError:
            sunday = False
        if not sunday:
            raise StandardError(RspCode.BAD_PARAMETER, "week is the report's inquiry_date, a Sunday (YYYYMMDD)")
    reports = await PortalRepository(session).statistics_reports_of(org_code, week)
    return summarise(org_code, reports)


@router.post("/request")
async def request_statistics(body: ResendRequest, request: Request) -> ResendOutcome:
    """Ask `org_code` to send the week again (지원-101, then 지원-104). The database is not held while the
    institution is called: it calls back (지원-001, 지원-004/005) before it answers."""
    state = request.app.state
    database: Database = state.db
    async with database.transaction() as session:
        repo = PortalRepository(session)
        org = await repo.org(body.org_code)
        if org is None or not org.active:
            raise StandardError(RspCode.ORG_NOT_RECOGNISED, f"no registered organisation {body.org_code}")
        org_type = RESEND_ORG_TYPES.get(org.org_type)
        if org_type is None:
            raise StandardError(RspCode.BAD_PARAMETER, "only operators and providers send statistics")
        credential = await repo.org_credential(org.org_code, PORTAL_PURPOSE)
        secret = (
            state.box.open(credential.secret_encrypted)
            if credential is not None and credential.secret_encrypted is not None
            else None
        )
        domain = org.domain
    outcome = ResendOutcome(org_code=body.org_code, inquiry_date=body.inquiry_date, type=body.type)
    if credential is None or secret is None or not domain:
        outcome.error = "no_portal_credentials"
    else:
        settings: PortalSettings = state.settings
        client = OperatorSupportClient(state.http, settings.org_code)
        try:
            outcome.rsp_code = await client.request_statistics(
                domain,
                body.org_code,
                credential.client_id,
                secret,
                org_type=org_type,
                stat_type=body.type,
                inquiry_date=body.inquiry_date,
            )
        except PeerError as exc:
            _logger.warning("institution refused 지원-104", org_code=body.org_code, code=exc.code)
            outcome.error = exc.code or f"http_{exc.status_code}"
        except PeerUnavailable as exc:
            _logger.warning("institution unreachable for 지원-104", org_code=body.org_code, reason=exc.reason)
            outcome.error = "unavailable"
    event = outcome.model_dump()
    if getattr(request.state, "tran_id", None):
        event["tran_id"] = request.state.tran_id
    async with database.transaction() as session:
        audit: AuditChain = state.audit
        await audit.append(session, "statistics_requested", event, at=state.clock())
    return outcome


__all__ = ["StatisticsView", "router", "summarise"]
