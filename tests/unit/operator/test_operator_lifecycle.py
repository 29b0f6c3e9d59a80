"""The operator's side of the consent lifecycle (§10.4): a consent past its end_date is no longer collected and
shows as 만료; once its holding period is over, what it covered (that provider's records, assets, sync marks,
collection status, tokens) is deleted with a `holding_period_deleted` audit entry, the person and their other
providers untouched; housekeeping runs again without changing anything, and periodically in the app."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from operator_fakes import BANK, BANK2, FakeEcosystem, settings_for
from sqlalchemy import select, update
from test_operator_app import Harness, connect, sign_up

from openmydata.kit.audit import AuditChain, AuditEntry
from openmydata.kit.clock import to_dtime
from openmydata.operator import repository as repo
from openmydata.operator.app import create_app
from openmydata.operator.models import Asset, CollectionStatus, Consent, Person, ProviderToken, Record, SyncMark
from openmydata.operator.service import holding_due
from openmydata.operator.settings import OperatorSettings

DATA_TABLES = (Record, Asset, SyncMark, CollectionStatus, ProviderToken)


@pytest.fixture
async def harness(db_url: str, tmp_path: Path) -> AsyncIterator[Harness]:
    fake = FakeEcosystem()
    settings = settings_for(db_url, tmp_path / "operator-keys.json").model_copy(update={"housekeeping_interval_s": 0})
    async with httpx.AsyncClient(transport=httpx.MockTransport(fake.handle)) as peers:
        app = create_app(settings, http_client=peers)
        transport = httpx.ASGITransport(app=app)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=transport, base_url="http://test") as client,
        ):
            yield Harness(app, client, fake)


async def _connected(h: Harness) -> tuple[str, int]:
    """A person with consents at BANK (collected) and BANK2, plus one record held from BANK2."""
    token = await sign_up(h)
    await connect(h, token, [BANK, BANK2])
    async with h.db.transaction() as session:
        person_id = int(await session.scalar(select(Person.id)) or 0)
        member = await h.service.member(session, person_id)
        assert member is not None
        await repo.save_records(
            session, person_id, member.key, BANK2, "bank-002", [("acct", "", {"balance_amt": "1"})], _now()
        )
    return token, person_id


def _now() -> datetime:
    return datetime.now(UTC)


async def _end(h: Harness, org_code: str, end: datetime, holding: datetime | None) -> None:
    """Let the org's consent end at `end` with the signed holding period `holding` (None: not in the JSON)."""
    async with h.db.transaction() as session:
        consent = (await session.execute(select(Consent).where(Consent.org_code == org_code))).scalar_one()
        payload = dict(consent.consent)
        if holding is None:
            payload.pop("holding_period", None)
        else:
            payload["holding_period"] = to_dtime(holding)
        await session.execute(update(Consent).where(Consent.id == consent.id).values(end_date=end, consent=payload))


async def _held(h: Harness, org_code: str) -> dict[str, int]:
    return {table.__tablename__: await h.count(table, org_code=org_code) for table in DATA_TABLES}


async def _status(h: Harness, org_code: str) -> str:
    async with h.db.transaction() as session:
        statement = select(Consent.status).where(Consent.org_code == org_code)
        return str((await session.execute(statement)).scalar_one())


async def _entries(h: Harness, kind: str) -> list[AuditEntry]:
    chain: AuditChain = h.service.audit
    async with h.db.transaction() as session:
        return await chain.entries(session, kind=kind)


class TestConsentEnd:
    async def test_a_consent_past_its_end_date_is_skipped_by_refresh_and_shown_expired(self, harness: Harness) -> None:
        token, person_id = await _connected(harness)
        end = _now() + timedelta(days=1)
        await _end(harness, BANK, end, end + timedelta(days=30))
        before = len(await _entries(harness, "collection"))
        held = await harness.service.collect(
            harness.db, person_id, api_type="user-refresh", now=end + timedelta(seconds=1)
        )
        entries = await _entries(harness, "collection")
        runs = entries[: len(entries) - before]  # newest first
        assert [entry.event["org_code"] for entry in runs] == [BANK2]
        assert held[BANK] > 0  # still held until the holding period is over
        assert await _status(harness, BANK) == "ended"
        assert await _status(harness, BANK2) == "active"

        auth = {"Authorization": f"Bearer {token}"}
        consents = (await harness.client.get("/api/me/consents", headers=auth)).json()["consents"]
        assert {c["org_code"]: c["status"] for c in consents} == {BANK: "ended", BANK2: "active"}
        harness.client.cookies.set("omd_session", token)
        page = await harness.client.get("/consents")
        assert page.status_code == 200
        assert "만료" in page.text

    async def test_an_active_consent_past_its_end_date_shows_expired_before_housekeeping(
        self, harness: Harness
    ) -> None:
        token, _ = await _connected(harness)
        past = _now() - timedelta(minutes=1)
        await _end(harness, BANK, past, past + timedelta(days=30))
        assert await _status(harness, BANK) == "active"
        auth = {"Authorization": f"Bearer {token}"}
        consents = (await harness.client.get("/api/me/consents", headers=auth)).json()["consents"]
        assert {c["org_code"]: c["status"] for c in consents}[BANK] == "ended"
        summary = (await harness.client.get("/api/me/summary", headers=auth)).json()
        assert summary["consents"] == 1


class TestHousekeeping:
    async def test_only_that_providers_data_is_deleted_after_the_holding_period(self, harness: Harness) -> None:
        _, person_id = await _connected(harness)
        end = _now() + timedelta(days=1)
        holding = end + timedelta(days=30)
        await _end(harness, BANK, end, holding)
        bank_before = await _held(harness, BANK)
        bank2_before = await _held(harness, BANK2)
        assert bank_before["records"] > 0
        assert bank_before["assets"] > 0
        assert bank_before["sync_marks"] > 0
        assert bank2_before["records"] == 1

        async with harness.db.transaction() as session:
            report = await harness.service.housekeeping(session, holding - timedelta(seconds=1))
        assert (report.consents_ended, report.purged, report.rows_deleted) == (1, 0, 0)
        assert await _held(harness, BANK) == bank_before
        assert await _entries(harness, "holding_period_deleted") == []

        async with harness.db.transaction() as session:
            report = await harness.service.housekeeping(session, holding)
        rows = bank_before["records"] + bank_before["assets"]
        assert (report.consents_ended, report.purged, report.rows_deleted) == (0, 1, rows)
        assert await _held(harness, BANK) == dict.fromkeys(bank_before, 0)
        assert await _held(harness, BANK2) == bank2_before
        assert await harness.count(Person, id=person_id) == 1
        assert await _status(harness, BANK) == "purged"
        assert await _status(harness, BANK2) == "active"
        [entry] = await _entries(harness, "holding_period_deleted")
        assert entry.event == {"person_id": person_id, "org_code": BANK, "rows_deleted": rows}

    async def test_housekeeping_is_idempotent(self, harness: Harness) -> None:
        await _connected(harness)
        end = _now() - timedelta(days=2)
        await _end(harness, BANK, end, end + timedelta(days=1))
        now = _now()
        async with harness.db.transaction() as session:
            first = await harness.service.housekeeping(session, now)
        assert first.purged == 1
        held = {org: await _held(harness, org) for org in (BANK, BANK2)}
        for _ in range(2):
            async with harness.db.transaction() as session:
                again = await harness.service.housekeeping(session, now + timedelta(days=1))
            assert (again.consents_ended, again.purged, again.rows_deleted) == (0, 0, 0)
        assert {org: await _held(harness, org) for org in (BANK, BANK2)} == held
        assert len(await _entries(harness, "holding_period_deleted")) == 1

    async def test_without_a_signed_holding_period_the_settings_period_follows_the_end(self, harness: Harness) -> None:
        await _connected(harness)
        days = harness.service.settings.holding_period_days
        end = _now() - timedelta(days=1)
        await _end(harness, BANK, end, None)
        async with harness.db.transaction() as session:
            report = await harness.service.housekeeping(session, end + timedelta(days=days) - timedelta(seconds=1))
            assert report.purged == 0
            report = await harness.service.housekeeping(session, end + timedelta(days=days))
            assert report.purged == 1

    async def test_a_newer_consent_keeps_the_data(self, harness: Harness) -> None:
        _, person_id = await _connected(harness)
        end = _now() - timedelta(days=2)
        await _end(harness, BANK, end, end + timedelta(days=30))
        async with harness.db.transaction() as session:
            assert (await harness.service.housekeeping(session, _now())).consents_ended == 1
            # the person signs a new consent at BANK, as complete_consent stores it
            await repo.supersede_consents(session, person_id, BANK)
            await repo.add_consent(
                session,
                Consent(
                    person_id=person_id,
                    org_code=BANK,
                    tx_id="MD_NEWER",
                    consent={},
                    status="active",
                    end_date=_now() + timedelta(days=365),
                    signed_at=_now(),
                ),
            )
        async with harness.db.transaction() as session:
            report = await harness.service.housekeeping(session, end + timedelta(days=31))
        assert report.purged == 0
        assert (await _held(harness, BANK))["records"] > 0
        async with harness.db.transaction() as session:
            statement = select(Consent.status).where(Consent.org_code == BANK).order_by(Consent.id)
            assert list((await session.execute(statement)).scalars()) == ["superseded", "active"]


class TestHoldingDue:
    def _consent(self, end: datetime, payload: dict[str, Any] | None) -> Consent:
        return Consent(org_code=BANK, tx_id="t", status="ended", end_date=end, signed_at=end, consent=payload)

    def test_signed_holding_period_wins(self) -> None:
        settings = OperatorSettings(holding_period_days=10)
        end = datetime(2027, 1, 1, tzinfo=UTC)
        holding = end + timedelta(days=3)
        assert holding_due(self._consent(end, {"holding_period": to_dtime(holding)}), settings) == holding

    def test_never_before_the_end_and_falls_back_to_the_setting(self) -> None:
        settings = OperatorSettings(holding_period_days=10)
        end = datetime(2027, 1, 1, tzinfo=UTC)
        early = to_dtime(end - timedelta(days=3))
        assert holding_due(self._consent(end, {"holding_period": early}), settings) == end
        assert holding_due(self._consent(end, None), settings) == end + timedelta(days=10)
        assert holding_due(self._consent(end, {"holding_period": "bad"}), settings) == end + timedelta(days=10)


class TestPeriodicHousekeeping:
    async def test_the_app_runs_housekeeping_in_the_background(self, db_url: str, tmp_path: Path) -> None:
        fake = FakeEcosystem()
        settings = settings_for(db_url, tmp_path / "operator-keys.json").model_copy(
            update={"housekeeping_interval_s": 0.05}
        )
        async with httpx.AsyncClient(transport=httpx.MockTransport(fake.handle)) as peers:
            app = create_app(settings, http_client=peers)
            transport = httpx.ASGITransport(app=app)
            async with (
                app.router.lifespan_context(app),
                httpx.AsyncClient(transport=transport, base_url="http://test") as client,
            ):
                h = Harness(app, client, fake)
                await _connected(h)
                end = _now() - timedelta(days=2)
                await _end(h, BANK, end, end + timedelta(days=1))
                for _ in range(100):
                    if await _status(h, BANK) == "purged":
                        break
                    await asyncio.sleep(0.05)
                assert await _status(h, BANK) == "purged"
                assert (await _held(h, BANK))["records"] == 0
