"""Weekly statistics over the wire: after a person connects (통합인증-002 and the first collection), the portal asks a
provider and the operator to send the current week again (지원-101, then 지원-104 over mutual TLS); each sends its
지원-005 / 지원-004 report before answering, and the portal's view shows figures that match the calls each side
recorded (the provider's access records, the operator's call records). Both dialects, one ecosystem per module.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import select

from openmydata.demo import CORE_INSTITUTIONS, Ecosystem, ProviderHandle, start_ecosystem
from openmydata.kit.clock import to_date, today_kst
from openmydata.kit.db import Database
from openmydata.kit.http import make_client
from openmydata.operator.models import ApiCall
from openmydata.provider.models import AccessRecord
from openmydata.standard.apis import CATALOGUE
from openmydata.standard.statistics import is_success, next_sunday

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="module")]

PEOPLE = 60
SEED = 20261124
PIN_KDF_COST = 2**4


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def eco(
    participant_databases: Callable[[str], str] | None, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Ecosystem]:
    ecosystem = await start_ecosystem(
        tmp_path_factory.mktemp("statistics"),
        people=PEOPLE,
        seed=SEED,
        database_url=participant_databases,
        pin_kdf_cost=PIN_KDF_COST,
        institutions=CORE_INSTITUTIONS,
    )
    try:
        yield ecosystem
    finally:
        await ecosystem.stop()


def _body(response: httpx.Response, step: str) -> dict[str, Any]:
    assert response.status_code < 400, f"{step}: HTTP {response.status_code} {response.text[:300]}"
    body: dict[str, Any] = response.json()
    return body


async def _connect_someone(eco: Ecosystem, http: httpx.AsyncClient) -> None:
    """A person signs up at the operator and connects every provider (which collects once)."""
    person = eco.customers_of_all()[0]
    api = eco.operator.url

    async def approve(cert_tx_id: str) -> None:
        approval = await http.post(
            f"{eco.certauth.url}/v1/ca/approvals/{cert_tx_id}", json={"pin": person.pin, "decision": "approve"}
        )
        assert _body(approval, "approval")["sign_status"] == "02"

    signup = _body(
        await http.post(
            f"{api}/api/signup", json={"name": person.name, "birth_date": person.birth_date, "phone": person.phone}
        ),
        "sign-up",
    )
    await approve(signup["cert_tx_id"])
    session = _body(await http.post(f"{api}/api/signup/complete", json={"cert_tx_id": signup["cert_tx_id"]}), "sign-in")
    auth = {"Authorization": f"Bearer {session['session_token']}"}
    consent = _body(
        await http.post(f"{api}/api/consents", json={"org_codes": [p.org_code for p in eco.providers]}, headers=auth),
        "consent",
    )
    await approve(consent["cert_tx_id"])
    completed = _body(
        await http.post(f"{api}/api/consents/complete", json={"cert_tx_id": consent["cert_tx_id"]}, headers=auth),
        "consent complete",
    )
    assert all(p["ok"] for p in completed["providers"])


async def _rows(url: str, model: Any) -> list[Any]:
    database = Database(url)
    try:
        async with database.transaction() as session:
            return list((await session.execute(select(model).order_by(model.id))).scalars())
    finally:
        await database.dispose()


def _calls_by_code(figures: dict[str, Any]) -> dict[str, tuple[int, int, int]]:
    """API code → (success, fail, rsp_total) over both bands."""
    result = {}
    for item in figures["api_type_list"]:
        slots = item["tm_slot_list"]
        result[item["api_type"]] = (
            sum(s["success_api_cnt"] for s in slots),
            sum(s["fail_api_cnt"] for s in slots),
            sum(s["rsp_total"] for s in slots),
        )
    return result


def _tally(records: list[tuple[str, bool, int]]) -> dict[str, tuple[int, int, int]]:
    result: dict[str, tuple[int, int, int]] = {}
    for code, ok, ms in records:
        success, fail, total = result.get(code, (0, 0, 0))
        result[code] = (success + ok, fail + (not ok), total + ms)
    return result


async def _ask_and_view(eco: Ecosystem, http: httpx.AsyncClient, org_code: str, week: str) -> dict[str, Any]:
    admin = {"x-admin-key": eco.admin_key}
    outcome = _body(
        await http.post(
            f"{eco.portal.url}/admin/statistics/request",
            json={"org_code": org_code, "inquiry_date": week},
            headers=admin,
        ),
        f"re-send request to {org_code}",
    )
    assert (outcome["rsp_code"], outcome["error"]) == ("00000", None), outcome
    return _body(
        await http.get(
            f"{eco.portal.url}/admin/statistics", params={"org_code": org_code, "week": week}, headers=admin
        ),
        "statistics view",
    )


class TestStatisticsFlow:
    async def test_the_portal_s_figures_match_the_calls_made(self, eco: Ecosystem) -> None:
        today = today_kst()
        week, day = to_date(next_sunday(today)), to_date(today)
        async with make_client(timeout_s=120) as http:
            await _connect_someone(eco, http)
            provider: ProviderHandle = eco.providers[0]
            provider_view = await _ask_and_view(eco, http, provider.org_code, week)
            operator_view = await _ask_and_view(eco, http, eco.operator_org_code, week)

        # the provider's report against its own access records
        accesses = [a for a in await _rows(provider.database_url, AccessRecord) if a.consent_id is not None]
        assert accesses, "the collection made no calls"
        assert all(a.rsp_ms is not None for a in accesses)
        expected = _tally([(CATALOGUE[a.api_id].api_code, is_success(a.rsp_code), a.rsp_ms or 0) for a in accesses])
        assert [(r["api_id"], r["type"]) for r in provider_view["reports"]] == [("지원-005", "1"), ("지원-005", "2")]
        totals = {t["type"]: t for t in provider_view["totals"]}
        assert _calls_by_code(totals["2"]) == expected
        assert totals["2"]["success_api_cnt"] + totals["2"]["fail_api_cnt"] == len(accesses)
        assert totals["1"]["api_type_list"] == []
        (today_row,) = [r for r in provider_view["rows"] if r["stat_date"] == day and r["type"] == "2"]
        assert (today_row["org_code"], today_row["consent_new"], today_row["consent_own"]) == (
            eco.operator_org_code,
            1,
            1,
        )

        # the operator's report against its own call records, per provider
        calls = await _rows(eco.operator_settings.database_url, ApiCall)
        assert {call.org_code for call in calls} == {p.org_code for p in eco.providers}
        assert [(r["api_id"], r["type"]) for r in operator_view["reports"]] == [("지원-004", "1"), ("지원-004", "2")]
        rows = {r["org_code"]: r for r in operator_view["rows"] if r["stat_date"] == day and r["type"] == "2"}
        assert set(rows) == {p.org_code for p in eco.providers}
        for handle in eco.providers:
            mine = [c for c in calls if c.org_code == handle.org_code]
            assert _calls_by_code(rows[handle.org_code]) == _tally(
                [(CATALOGUE[c.api_id].api_code, is_success(c.rsp_code), c.rsp_ms) for c in mine]
            )
            assert (rows[handle.org_code]["consent_new"], rows[handle.org_code]["consent_own"]) == (1, 1)

        # both sides saw the same successful calls between the operator and that provider
        succeeded = {code: success for code, (success, _fail, _total) in expected.items()}
        operator_side = _calls_by_code(rows[provider.org_code])
        assert {code: success for code, (success, _fail, _total) in operator_side.items()} == succeeded

    async def test_only_the_portal_may_call_a_provider_s_support_apis(self, eco: Ecosystem) -> None:
        provider = eco.providers[0]
        async with eco.client_as("operator") as http:
            response = await http.post(
                f"{provider.server.url}{CATALOGUE['지원-101'].path}",
                data={"grant_type": "client_credentials", "client_id": "x", "client_secret": "y", "scope": "manage"},
            )
        assert (response.status_code, response.json()["rsp_code"]) == (401, "40103")
