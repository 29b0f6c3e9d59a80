"""Managing consents one institution at a time: withdraw one (at that provider only), extend or change one by
signing again, and what the consents page shows. Runs on SQLite and PostgreSQL (`db_url`)."""

from __future__ import annotations

from operator_fakes import BANK, BANK2
from sqlalchemy import select
from test_operator_app import Harness, connect, harness, sign_up  # noqa: F401 (harness is a fixture)

from openmydata.operator.models import Asset, Consent, ProviderToken, Record


async def _consents(h: Harness) -> dict[str, list[str]]:
    async with h.db.transaction() as session:
        rows = (await session.execute(select(Consent).order_by(Consent.id))).scalars().all()
    by_org: dict[str, list[str]] = {}
    for row in rows:
        by_org.setdefault(row.org_code, []).append(row.status)
    return by_org


async def test_withdrawing_one_institution_leaves_the_others(harness: Harness) -> None:  # noqa: F811
    token = await sign_up(harness)
    auth = {"Authorization": f"Bearer {token}"}
    await connect(harness, token, [BANK, BANK2])
    bank_records = await harness.count(Record, org_code=BANK)
    assert bank_records > 0
    response = await harness.client.post("/api/consents/withdraw", json={"org_code": BANK2}, headers=auth)
    assert response.status_code == 200, response.text
    assert response.json()["org_code"] == BANK2
    assert response.json()["rsp_code"] == "00000"
    # 개별인증-004 went to that provider only, with its token
    assert [revoked["token"] for revoked in harness.fake.revoked] == ["at-bank2.test"]
    assert await _consents(harness) == {BANK: ["active"], BANK2: ["withdrawn"]}
    for model in (Record, Asset, ProviderToken):
        assert await harness.count(model, org_code=BANK2) == 0, model
    assert await harness.count(Record, org_code=BANK) == bank_records
    assert await harness.count(ProviderToken, org_code=BANK) == 1
    summary = (await harness.client.get("/api/me/summary", headers=auth)).json()
    assert [item["org_code"] for item in summary["collection"]] == [BANK]


async def test_a_provider_without_a_consent_is_a_bad_request(harness: Harness) -> None:  # noqa: F811
    token = await sign_up(harness)
    auth = {"Authorization": f"Bearer {token}"}
    await connect(harness, token, [BANK])
    for body in ({"org_code": BANK2}, {"org_code": ""}, {"org_code": BANK, "extra": 1}, {}):
        response = await harness.client.post("/api/consents/withdraw", json=body, headers=auth)
        assert response.status_code == 400, body
        assert response.json()["rsp_code"] == "40001"
    assert harness.fake.revoked == []
    assert await _consents(harness) == {BANK: ["active"]}


async def test_consenting_again_extends_and_replaces_the_consent(harness: Harness) -> None:  # noqa: F811
    token = await sign_up(harness)
    await connect(harness, token, [BANK])
    async with harness.db.transaction() as session:
        [first] = (await session.execute(select(Consent))).scalars().all()
    await connect(harness, token, [BANK], is_consent_merchant_name_regno=True)
    statuses = await _consents(harness)
    assert statuses[BANK][-1] == "active"
    assert statuses[BANK].count("active") == 1  # the earlier one is superseded
    async with harness.db.transaction() as session:
        latest = (await session.execute(select(Consent).order_by(Consent.id.desc()))).scalars().first()
    assert latest is not None
    assert latest.id != first.id
    assert latest.end_date >= first.end_date
    assert (latest.consent or {}).get("is_consent_merchant_name_regno") in (True, "true")


async def test_the_consents_page_manages_each_institution(harness: Harness) -> None:  # noqa: F811
    token = await sign_up(harness)
    await connect(harness, token, [BANK, BANK2])
    harness.client.cookies.set("omd_session", token)
    page = (await harness.client.get("/consents")).text
    assert page.count('action="/consents/withdraw"') == 2
    assert f'href="/connect?org={BANK}"' in page
    assert "주 1회" in page  # the transfer cycle
    csrf = page.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    response = await harness.client.post(
        "/consents/withdraw", data={"csrf": csrf, "org_code": BANK2}, follow_redirects=False
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/consents?withdrawn={BANK2}&result=ok"
    page = (await harness.client.get(response.headers["location"])).text
    assert 'data-testid="withdrawn-notice"' in page
    assert page.count('action="/consents/withdraw"') == 1
    # without the form's CSRF token nothing is withdrawn
    response = await harness.client.post("/consents/withdraw", data={"org_code": BANK}, follow_redirects=False)
    assert response.status_code == 403
    assert await _consents(harness) == {BANK: ["active"], BANK2: ["withdrawn"]}
    # 연장·변경 opens the connect page with the institution chosen
    connect_page = (await harness.client.get("/connect", params={"org": BANK})).text
    assert f'value="{BANK}" checked' in connect_page
    assert f'value="{BANK2}" checked' not in connect_page
