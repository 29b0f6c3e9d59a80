"""Scheduled transmission (정기적 전송) at the operator, against stand-ins for its peers: the scheduler enqueues one
scheduled collection per consent and cycle slot, only inside the provider's registered windows; a scheduled
collection sends x-api-type scheduled, asks only for what is due in the cycle, and not again in the same slot.
Runs on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from operator_fakes import BANK
from sqlalchemy import select
from test_operator_app import Harness, connect, harness, sign_up

from openmydata.kit.clock import KST
from openmydata.operator.collector import Mark
from openmydata.operator.models import Consent, SyncMark, jobs
from openmydata.operator.service import cycle_slot_start, scheduled_due
from openmydata.operator.tasks import schedule_due
from openmydata.standard.apis import CATALOGUE
from openmydata.standard.schedule import Cycle

__all__ = ["harness"]  # the fixture, shared with test_operator_app

# A Wednesday noon in Seoul: the week (Sunday to Saturday) started on 2026-11-29.
WEDNESDAY = datetime(2026, 12, 2, 12, 0, tzinfo=KST)
# The week after the one the tests' consents are given in (their slot is the first collection's).
NEXT_WEEK = Cycle.parse("1/w").next_period_start(datetime.now(UTC))


async def _connected(h: Harness) -> str:
    token = await sign_up(h)
    await connect(h, token, [BANK])
    return token


async def _scheduled_jobs(h: Harness) -> list[dict[str, object]]:
    async with h.db.transaction() as session:
        rows = (await session.execute(select(jobs.c.payload).order_by(jobs.c.id))).all()
    return [dict(row.payload) for row in rows if row.payload["api_type"] == "scheduled"]


class TestCycleSlots:
    def test_a_weekly_cycle_has_one_slot_from_sunday(self) -> None:
        assert cycle_slot_start(Cycle.parse("1/w"), WEDNESDAY) == datetime(2026, 11, 29, tzinfo=KST)

    def test_two_a_week_split_the_week_in_halves(self) -> None:
        slot = cycle_slot_start(Cycle.parse("2/w"), WEDNESDAY)
        assert slot == datetime(2026, 11, 29, tzinfo=KST) + timedelta(days=3, hours=12)

    def test_an_api_transmitted_in_this_slot_is_not_due(self) -> None:
        spec = CATALOGUE["은행-001"]
        terms = {"cycle": {"fnd_cycle": "1/w", "add_cycle": "1/w"}}
        this_week = {(spec.id, ""): Mark(scheduled_at=WEDNESDAY - timedelta(days=1))}
        last_week = {(spec.id, ""): Mark(scheduled_at=WEDNESDAY - timedelta(days=5))}
        assert not scheduled_due(terms, this_week, WEDNESDAY)(spec, "")
        assert scheduled_due(terms, last_week, WEDNESDAY)(spec, "")
        assert scheduled_due(terms, {}, WEDNESDAY)(spec, "")


class TestScheduler:
    async def test_the_slot_of_the_consent_is_left_to_the_first_collection(self, harness: Harness) -> None:
        await _connected(harness)
        assert await schedule_due(harness.service, harness.db, datetime.now(UTC)) == 0
        assert await _scheduled_jobs(harness) == []

    async def test_one_scheduled_collection_per_consent_and_slot(self, harness: Harness) -> None:
        await _connected(harness)
        now = NEXT_WEEK + timedelta(days=1)
        assert await schedule_due(harness.service, harness.db, now) == 1
        assert await schedule_due(harness.service, harness.db, now) == 0  # the same slot
        assert [(job["org_code"], job["api_type"]) for job in await _scheduled_jobs(harness)] == [(BANK, "scheduled")]
        async with harness.db.transaction() as session:
            consent = (await session.execute(select(Consent).where(Consent.org_code == BANK))).scalar_one()
        assert consent.is_scheduled is True
        assert consent.scheduled_through is not None

    async def test_nothing_is_enqueued_outside_the_providers_windows(self, harness: Harness) -> None:
        harness.fake.bank_windows = ["0100:0700"]  # Seoul time
        await _connected(harness)
        async with harness.db.transaction() as session:
            await harness.service.sync_registry(session, force=True)
        noon = (NEXT_WEEK + timedelta(days=3)).astimezone(KST).replace(hour=12)
        assert await schedule_due(harness.service, harness.db, noon) == 0
        assert await schedule_due(harness.service, harness.db, noon.replace(hour=2)) == 1


class TestScheduledCollection:
    async def test_a_scheduled_run_asks_only_for_what_is_due_and_not_twice_in_a_slot(self, harness: Harness) -> None:
        await _connected(harness)
        calls = harness.fake.bank_calls.items
        first_collection = len(calls)
        run = await harness.service.collect_institution(harness.db, 1, BANK, api_type="scheduled")
        assert run.state == "ok"
        scheduled = calls[first_collection:]
        assert scheduled
        assert {api_type for _path, _body, api_type in scheduled} == {"scheduled"}
        # history is asked for 31 days at most per call
        [transactions] = [body for path, body, _ in scheduled if path.endswith("/deposit/transactions")][:1]
        start = datetime.strptime(transactions["from_date"], "%Y%m%d")
        end = datetime.strptime(transactions["to_date"], "%Y%m%d")
        assert (end - start).days + 1 <= 31
        async with harness.db.transaction() as session:
            marks = (await session.execute(select(SyncMark))).scalars().all()
        assert marks
        assert all(mark.scheduled_at is not None for mark in marks if mark.api_id == "은행-001")
        again = await harness.service.collect_institution(harness.db, 1, BANK, api_type="scheduled")
        assert again.state == "ok"
        assert len(calls) == first_collection + len(scheduled)  # nothing is due again in this week

    async def test_outside_the_windows_a_scheduled_run_waits_for_them(self, harness: Harness) -> None:
        await _connected(harness)
        harness.fake.bank_windows = ["0100:0700"]
        async with harness.db.transaction() as session:
            await harness.service.sync_registry(session, force=True)
        noon = datetime(2026, 12, 2, 12, 0, tzinfo=KST)
        run = await harness.service.collect_institution(harness.db, 1, BANK, api_type="scheduled", now=noon)
        assert run.state == "deferred"
        assert run.error_code == "50009"
        assert run.retry_after_s == 13 * 3600  # until 01:00 the next day


class TestProgress:
    async def test_each_institution_shows_its_phase_and_freshness(self, harness: Harness) -> None:
        token = await _connected(harness)
        response = await harness.client.get("/api/me/collection", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200
        body = response.json()
        assert (body["finished"], body["total"]) == (1, 1)
        [row] = body["institutions"]
        assert row["org_code"] == BANK
        assert (row["phase"], row["fresh"]) == ("done", True)
        assert row["records"] > 0
        assert len(row["last_success"]) == 14

        harness.client.cookies.set("omd_session", token)
        page = await harness.client.get("/collection")
        assert page.status_code == 200
        assert "수집 현황" in page.text
        assert "최신" in page.text
        assert 'src="/static/progress.js"' in page.text
