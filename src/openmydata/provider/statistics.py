"""Weekly statistics (지원-005): what this provider sends the portal about each operator service, computed from its
access records (one per information API call, with its answer time) and its consents (digest §10.4).

One report per (operator service, type): type 1 counts the calls made with x-api-type `scheduled`, type 2 the
user-* calls and the consent figures. The rules shared with the operator (time bands, rounding, what counts as a
success) are in `standard.statistics`. What this side adds:

- a call is attributed to the operator service (client_id) of the consent its token belongs to; a call refused
  before its token was read (bad header, unknown token) names no service and is not counted, nor is one without
  a valid x-api-type; rows older than the `rsp_ms` column count 0 ms;
- a consent is new on the day it was recorded (통합인증-002), revoked on the day 개별인증-004 revoked it (its
  `updated_at`), and held from then until it was revoked, replaced by a newer consent or reached its end_at;
- the reports cover every service with a consent held during the week or a call in it.

The reports are sent once a week by `run_weekly_statistics` (the app's lifespan) and again whenever the portal
asks (지원-104, `provider.support`). The last week sent by the periodic task is kept in `registry_sync`
(name "statistics").
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date

from openmydata.kit import logging as log
from openmydata.kit.clock import as_utc, to_date, today_kst, utcnow
from openmydata.kit.db import Database
from openmydata.kit.errors import PeerError, PeerUnavailable
from openmydata.provider import repository
from openmydata.provider.clients import PortalClient
from openmydata.provider.models import CONSENT_ACTIVE, CONSENT_REVOKED, Consent
from openmydata.provider.settings import ProviderSettings
from openmydata.standard.apis.support import STAT_DAYS, ProviderStatisticsRequest, StatType
from openmydata.standard.catalogue import Catalogue
from openmydata.standard.statistics import (
    CallSample,
    ConsentSpan,
    TimeBands,
    is_success,
    latest_sunday,
    stat_type_of,
    week_bounds,
    weekly_report,
)

_logger = log.get_logger("openmydata.provider.statistics")

SENT_STATE = "statistics"
ALL_TYPES = (StatType.SCHEDULED.value, StatType.USER.value)


@dataclass(frozen=True)
class ServiceCalls:
    """What one operator service did in the week: its calls and its consents."""

    client_id: str
    mydata_org_code: str
    samples: list[CallSample]
    consents: list[ConsentSpan]


def consent_span(consent: Consent) -> ConsentSpan:
    """When a consent was held: from its recording until its revocation, its replacement or its end_at."""
    start = as_utc(consent.created_at)
    end_at = as_utc(consent.end_at)
    stopped = as_utc(consent.updated_at) if consent.status != CONSENT_ACTIVE else None
    if stopped is not None and stopped < end_at:
        return ConsentSpan(consent.rcv_org_code, start, stopped, revoked=consent.status == CONSENT_REVOKED)
    return ConsentSpan(consent.rcv_org_code, start, end_at)


class ProviderStatistics:
    def __init__(
        self, settings: ProviderSettings, db: Database, portal: PortalClient | None, catalogue: Catalogue
    ) -> None:
        self.settings = settings
        self.db = db
        self.portal = portal
        self.catalogue = catalogue
        self.bands = TimeBands.parse(settings.statistics_peak_hours)

    async def _services(self, inquiry_date: str) -> list[ServiceCalls]:
        start, end = (moment.astimezone(UTC) for moment in week_bounds(inquiry_date))
        async with self.db.transaction() as session:
            calls = await repository.calls_between(session, start, end)
            consents = await repository.consents_between(session, start, end)
            operators = {
                client_id: service.org_code
                for client_id in {row[5] for row in calls} | {consent.client_id for consent in consents}
                if (service := await repository.get_service(session, client_id)) is not None
            }
        samples: dict[str, list[CallSample]] = {}
        named: dict[str, str] = {}
        for at, api_id, api_type, rsp_code, rsp_ms, client_id, rcv_org_code in calls:
            stat_type = stat_type_of(api_type)
            if stat_type is None or api_id not in self.catalogue:
                continue
            named.setdefault(client_id, rcv_org_code)
            samples.setdefault(client_id, []).append(
                CallSample(
                    at=as_utc(at),
                    counterpart=rcv_org_code,
                    stat_type=stat_type,
                    api_code=self.catalogue[api_id].api_code,
                    ok=is_success(rsp_code),
                    rsp_ms=int(rsp_ms or 0),
                )
            )
        spans: dict[str, list[ConsentSpan]] = {}
        for consent in consents:
            named.setdefault(consent.client_id, consent.rcv_org_code)
            spans.setdefault(consent.client_id, []).append(consent_span(consent))
        return [
            ServiceCalls(
                client_id=client_id,
                mydata_org_code=operators.get(client_id, rcv_org_code),
                samples=samples.get(client_id, []),
                consents=spans.get(client_id, []),
            )
            for client_id, rcv_org_code in sorted(named.items())
        ]

    async def reports(self, inquiry_date: str, types: Iterable[str] = ALL_TYPES) -> list[ProviderStatisticsRequest]:
        """The 지원-005 reports of the week before Sunday `inquiry_date`: one per (service, type)."""
        wanted = list(types)
        reports = []
        for service in await self._services(inquiry_date):
            for stat_type in wanted:
                rows = weekly_report(
                    inquiry_date,
                    stat_type,
                    counterparts=[service.mydata_org_code],
                    samples=[sample for sample in service.samples if sample.counterpart == service.mydata_org_code],
                    consents=[span for span in service.consents if span.counterpart == service.mydata_org_code],
                    bands=self.bands,
                )
                reports.append(
                    ProviderStatisticsRequest(
                        type=stat_type,  # type: ignore[arg-type]
                        client_id=service.client_id,
                        inquiry_date=inquiry_date,
                        stat_date_cnt=STAT_DAYS,
                        stat_date_list=rows,
                        org_code=self.settings.org_code,
                        mydata_org_code=service.mydata_org_code,
                    )
                )
        return reports

    async def send(self, inquiry_date: str, types: Iterable[str] = ALL_TYPES) -> int:
        """Send the week's reports to the portal; returns how many were sent. `PeerError` / `PeerUnavailable` when
        the portal refuses one or cannot be reached (the ones before it stay sent: a re-send replaces them)."""
        if self.portal is None:
            raise PeerUnavailable("portal", "no portal_url configured")
        reports = await self.reports(inquiry_date, types)
        for report in reports:
            await self.portal.send_statistics(report.to_wire())
        _logger.info("statistics sent", api_id="지원-005", inquiry_date=inquiry_date, reports=len(reports))
        return len(reports)

    async def send_due(self, today: date | None = None) -> bool:
        """The periodic duty: send the latest due week (inquiry_date the last Sunday on or before `today`, Asia/Seoul)
        unless it was sent already. False when there was nothing to do or the portal could not take it."""
        inquiry_date = to_date(latest_sunday(today or today_kst()))
        async with self.db.transaction() as session:
            if await repository.sync_timestamp(session, SENT_STATE) == inquiry_date:
                return False
        try:
            await self.send(inquiry_date)
        except (PeerError, PeerUnavailable) as exc:
            _logger.warning("weekly statistics not sent", inquiry_date=inquiry_date, reason=str(exc))
            return False
        async with self.db.transaction() as session:
            await repository.save_sync_timestamp(session, SENT_STATE, inquiry_date, utcnow())
        return True


async def run_weekly_statistics(statistics: ProviderStatistics, interval_s: float) -> None:
    """Every `interval_s` seconds (first one interval after start), `send_due`. A failure is logged and the loop
    carries on; only cancellation ends it."""
    while True:
        await asyncio.sleep(interval_s)
        try:
            await statistics.send_due()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the background loop must outlive any one failure
            _logger.error("weekly statistics failed", error=type(exc).__name__)


def start_weekly_statistics(statistics: ProviderStatistics, settings: ProviderSettings) -> asyncio.Task[None] | None:
    """The periodic task, unless there is no portal or `statistics_interval_s` is 0."""
    if statistics.portal is None or settings.statistics_interval_s <= 0:
        return None
    return asyncio.create_task(
        run_weekly_statistics(statistics, settings.statistics_interval_s), name="provider-statistics"
    )


__all__ = ["ProviderStatistics", "ServiceCalls", "consent_span", "run_weekly_statistics", "start_weekly_statistics"]
