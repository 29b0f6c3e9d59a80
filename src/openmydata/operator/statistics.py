"""Weekly statistics (지원-004): what the operator sends the portal about its calls to providers, computed from its
api_calls rows (one per information API call the collector made, with its answer time) and its consents (digest
§10.4). The rules shared with providers (time bands, rounding, what counts as a success) are in
`standard.statistics`. What this side adds:

- one report per type for the operator's service (`service_client_id`); the org_list rows are the providers it
  called or held a consent at during the week, each on every day of the week;
- type 1 counts calls made with x-api-type `scheduled`, type 2 the user-* calls; only information API calls are
  counted (as at the providers, whose access records cover information APIs only);
- a consent is new on the day it was signed (통합인증-002 succeeded), revoked on the day the person withdrew while
  it was still live, and held from its signing until it was superseded by a newer consent at the same provider,
  withdrawn, or reached its end_date. Withdrawal strips the person from the consent rows; the consents withdrawn
  in one withdrawal (same moment) are taken as one person's.

Sent once a week by `run_weekly_statistics` (the app's lifespan; the last week sent is kept in `sync_state`,
name "statistics") and again whenever the portal asks (지원-104, `operator.support`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from datetime import UTC, date

from openmydata.kit import logging as log
from openmydata.kit.clock import as_utc, to_date, today_kst, utcnow
from openmydata.kit.db import Database
from openmydata.kit.errors import PeerUnavailable
from openmydata.operator import repository as repo
from openmydata.operator.models import Consent
from openmydata.operator.service import OperatorService
from openmydata.standard.apis.support import STAT_DAYS, OperatorStatisticsRequest, StatType
from openmydata.standard.catalogue import Catalogue
from openmydata.standard.client import ApiCallError
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

_logger = log.get_logger("openmydata.operator.statistics")

SENT_STATE = "statistics"
ALL_TYPES = (StatType.SCHEDULED.value, StatType.USER.value)


def consent_spans(consents: Iterable[Consent]) -> list[ConsentSpan]:
    """When each consent was held. Consents of one person at one provider form a chain by signing time: each is
    held until the next one was signed (it superseded it), the last until withdrawal; all at most until their
    end_date. A withdrawal that ended a live consent is a revocation."""
    chains: dict[tuple[str, object], list[Consent]] = {}
    for consent in consents:
        holder: object = (
            ("person", consent.person_id)
            if consent.person_id is not None
            else ("withdrawal", as_utc(consent.withdrawn_at) if consent.withdrawn_at is not None else consent.id)
        )
        chains.setdefault((consent.org_code, holder), []).append(consent)
    spans: list[ConsentSpan] = []
    for (org_code, _holder), chain in chains.items():
        chain.sort(key=lambda item: (as_utc(item.signed_at), item.id))
        for index, consent in enumerate(chain):
            start, end_date = as_utc(consent.signed_at), as_utc(consent.end_date)
            successor = as_utc(chain[index + 1].signed_at) if index + 1 < len(chain) else None
            withdrawn = as_utc(consent.withdrawn_at) if successor is None and consent.withdrawn_at is not None else None
            stop = successor or withdrawn
            if stop is not None and stop < end_date:
                spans.append(ConsentSpan(org_code, start, stop, revoked=successor is None))
            else:
                spans.append(ConsentSpan(org_code, start, end_date))
    return spans


class OperatorStatistics:
    def __init__(self, db: Database, service: OperatorService, catalogue: Catalogue | None = None) -> None:
        self.db = db
        self.service = service
        self.settings = service.settings
        self.catalogue = catalogue or service.catalogue
        self.bands = TimeBands.parse(self.settings.statistics_peak_hours)

    async def _week(self, inquiry_date: str) -> tuple[list[CallSample], list[ConsentSpan]]:
        start, end = (moment.astimezone(UTC) for moment in week_bounds(inquiry_date))
        async with self.db.transaction() as session:
            calls = await repo.api_calls_between(session, start, end)
            consents = await repo.consents_for_statistics(session, start, end)
            spans = consent_spans(consents)
        samples = []
        for call in calls:
            stat_type = stat_type_of(call.api_type)
            spec = self.catalogue.in_any_profile(call.api_id)  # a nationwide-profile provider's APIs count too
            if stat_type is None or spec is None:
                continue
            samples.append(
                CallSample(
                    at=as_utc(call.at),
                    counterpart=call.org_code,
                    stat_type=stat_type,
                    api_code=spec.api_code,
                    ok=is_success(call.rsp_code),
                    rsp_ms=call.rsp_ms,
                )
            )
        return samples, spans

    async def reports(self, inquiry_date: str, types: Iterable[str] = ALL_TYPES) -> list[OperatorStatisticsRequest]:
        """The 지원-004 reports of the week before Sunday `inquiry_date`, one per type."""
        samples, spans = await self._week(inquiry_date)
        start, end = week_bounds(inquiry_date)
        providers = {sample.counterpart for sample in samples} | {
            span.counterpart for span in spans if span.start < end and (span.end is None or span.end >= start)
        }
        return [
            OperatorStatisticsRequest(
                type=stat_type,  # type: ignore[arg-type]
                client_id=self.settings.service_client_id,
                inquiry_date=inquiry_date,
                stat_date_cnt=STAT_DAYS,
                stat_date_list=weekly_report(
                    inquiry_date, stat_type, counterparts=providers, samples=samples, consents=spans, bands=self.bands
                ),
                mydata_org_code=self.settings.org_code,
            )
            for stat_type in types
        ]

    async def send(self, inquiry_date: str, types: Iterable[str] = ALL_TYPES) -> int:
        """Send the week's reports to the portal; returns how many. `ApiCallError` / `PeerUnavailable` when the
        portal refuses one or cannot be reached."""
        reports = await self.reports(inquiry_date, types)
        for report in reports:
            await self.service.peers.portal.send_statistics(report)
        _logger.info("statistics sent", api_id="지원-004", inquiry_date=inquiry_date, reports=len(reports))
        return len(reports)

    async def send_due(self, today: date | None = None) -> bool:
        """The periodic duty: send the latest due week (inquiry_date the last Sunday on or before `today`, Asia/Seoul)
        unless it was sent already. False when there was nothing to do or the portal could not take it."""
        inquiry_date = to_date(latest_sunday(today or today_kst()))
        async with self.db.transaction() as session:
            state = await repo.sync_state(session, SENT_STATE)
            if state is not None and state.value == inquiry_date:
                return False
        try:
            await self.send(inquiry_date)
        except (ApiCallError, PeerUnavailable) as exc:
            _logger.warning("weekly statistics not sent", inquiry_date=inquiry_date, reason=str(exc))
            return False
        async with self.db.transaction() as session:
            await repo.save_sync_state(session, SENT_STATE, inquiry_date, utcnow())
        return True


async def run_weekly_statistics(statistics: OperatorStatistics, interval_s: float) -> None:
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


def start_weekly_statistics(statistics: OperatorStatistics) -> asyncio.Task[None] | None:
    """The periodic task, unless `statistics_interval_s` is 0."""
    interval = statistics.settings.statistics_interval_s
    if interval <= 0:
        return None
    return asyncio.create_task(run_weekly_statistics(statistics, interval), name="operator-statistics")


__all__ = ["OperatorStatistics", "consent_spans", "run_weekly_statistics", "start_weekly_statistics"]
