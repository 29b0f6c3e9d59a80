"""The CA appends audit entries for identity and sign requests, the person's decisions (wrong-PIN lockout
too), expiry, result delivery and sign verification, in the same transaction; never a CI, name, phone number or
birth date. The chain verifies and an altered entry is found."""

from __future__ import annotations

from sqlalchemy import update

from openmydata.certauth.models import audit_log
from openmydata.kit.audit import AuditChain, AuditEntry, Verification
from openmydata.kit.db import Database

from .conftest import PERSONS, World
from .test_certauth_flows import approve, signed_flow, start_identity, verification


async def _entries(world: World) -> list[AuditEntry]:
    database: Database = world.app.state.db
    chain: AuditChain = world.app.state.runtime.audit
    async with database.transaction() as session:
        return list(reversed(await chain.entries(session)))


async def _verify(world: World) -> Verification:
    database: Database = world.app.state.db
    chain: AuditChain = world.app.state.runtime.audit
    async with database.engine.connect() as connection:
        return await connection.run_sync(chain.verify)


def _no_personal_data(entries: list[AuditEntry]) -> None:
    text = repr([entry.event for entry in entries])
    for person in PERSONS:
        for field in ("ci", "name", "birth_date", "phone", "pin"):
            assert person[field] not in text, field
    assert "01012345678" not in text


class TestCertAuthAudit:
    async def test_identity_flow_and_expiry(self, world: World) -> None:
        await world.enrol()
        approved = await start_identity(world)
        assert (await approve(world, approved["cert_tx_id"], PERSONS[0]["pin"])).status_code == 200
        await world.post("/v1/ca/identity_result", {"cert_tx_id": approved["cert_tx_id"]})
        rejected = await start_identity(world)
        await approve(world, rejected["cert_tx_id"], "", "reject")
        expired = await start_identity(world)
        world.clock.advance(seconds=301)
        await world.post("/v1/ca/identity_result", {"cert_tx_id": expired["cert_tx_id"]})

        entries = await _entries(world)
        assert [(entry.kind, entry.event["cert_tx_id"]) for entry in entries] == [
            ("identity_request", approved["cert_tx_id"]),
            ("identity_approved", approved["cert_tx_id"]),
            ("identity_result_delivered", approved["cert_tx_id"]),
            ("identity_request", rejected["cert_tx_id"]),
            ("identity_rejected", rejected["cert_tx_id"]),
            ("identity_request", expired["cert_tx_id"]),
            ("identity_expired", expired["cert_tx_id"]),
        ]
        assert {entry.event["org_code"] for entry in entries} == {world.operator["org_code"]}
        assert len({entry.event["person_id"] for entry in entries}) == 1
        assert entries[4].event["reason"] == "person"
        assert all(entry.event["tran_id"] for entry in entries)
        _no_personal_data(entries)
        result = await _verify(world)
        assert (result.ok, result.entries) == (True, 7)

    async def test_sign_flow_and_verification(self, world: World) -> None:
        await world.enrol()
        started, flow = await signed_flow(world, [world.consent_text(), world.consent_text("다른 목적")])
        tx_ids = [item["tx_id"] for item in flow["request"]["consent_list"]]
        item = flow["result"]["signed_consent_list"][0]
        good = await world.post("/v1/ca/sign_verification", verification(item, started["cert_tx_id"]))
        assert good.json()["result"] == "true"
        other = flow["result"]["signed_consent_list"][1]["signed_consent"]
        bad = await world.post("/v1/ca/sign_verification", verification(item, started["cert_tx_id"], other))
        assert bad.json()["result"] == "false"

        entries = await _entries(world)
        assert [entry.kind for entry in entries] == [
            "sign_request",
            "sign_approved",
            "sign_result_delivered",
            "sign_verification",
            "sign_verification",
        ]
        request, approved, delivered, verified, refused = (entry.event for entry in entries)
        assert (request["org_code"], request["consent_cnt"], request["tx_ids"]) == (
            world.operator["org_code"],
            2,
            tx_ids,
        )
        assert request["sign_tx_id"] == flow["request"]["sign_tx_id"]
        assert (approved["consent_cnt"], approved["tx_ids"]) == (2, tx_ids)
        assert (delivered["signed_consent_cnt"], delivered["tx_ids"]) == (2, tx_ids)
        assert (verified["tx_id"], verified["result"], verified["org_code"]) == (
            tx_ids[0],
            "true",
            world.operator["org_code"],
        )
        assert refused["result"] == "false"
        _no_personal_data(entries)
        assert (await _verify(world)).ok

    async def test_wrong_pin_lockout_is_recorded(self, world: World) -> None:
        await world.enrol()
        started = (await world.post("/v1/ca/sign_request", world.sign_body([world.consent_text()]))).json()
        for _ in range(5):
            assert (await approve(world, started["cert_tx_id"], "000000")).status_code == 401
        entries = await _entries(world)
        assert [entry.kind for entry in entries] == ["sign_request"] + ["sign_pin_failed"] * 4 + ["sign_rejected"]
        assert [entry.event.get("attempts_left") for entry in entries[1:5]] == [4, 3, 2, 1]
        assert (entries[-1].event["reason"], entries[-1].event["pin_failures"]) == ("pin_lockout", 5)
        _no_personal_data(entries)
        assert (await _verify(world)).ok

    async def test_a_refused_request_appends_nothing(self, world: World) -> None:
        await world.enrol()
        unknown = dict(PERSONS[0], name="없는사람")
        response = await world.post(
            "/v1/ca/identity_request",
            {
                "real_name": unknown["name"],
                "birth_date": unknown["birth_date"],
                "phone_num": unknown["phone"],
                "request_title": "본인확인",
            },
        )
        assert response.status_code == 404
        assert await _entries(world) == []
        assert (await _verify(world)).ok

    async def test_an_altered_entry_fails_verification(self, world: World) -> None:
        await world.enrol()
        await signed_flow(world, [world.consent_text()])
        database: Database = world.app.state.db
        async with database.transaction() as session:
            await session.execute(update(audit_log).where(audit_log.c.seq == 2).values(kind="sign_rejected"))
        result = await _verify(world)
        assert (result.ok, result.seq) == (False, 2)
