from __future__ import annotations

from pathlib import Path

import httpx
from sqlalchemy import select

from openmydata.certauth.app import MIGRATIONS, create_app
from openmydata.certauth.models import Base, Person, RegisteredOrg
from openmydata.kit import pki
from openmydata.kit.db import Database, compare_models

from .conftest import PERSONS, World


class TestEnrolment:
    async def test_persons_get_keys_and_certificates(self, world: World) -> None:
        response = await world.enrol()
        assert response.status_code == 200
        assert response.json() == {"enrolled": 2}
        database: Database = world.app.state.db
        async with database.transaction() as session:
            people = {person.ci: person for person in (await session.scalars(select(Person))).all()}
        person = people[PERSONS[0]["ci"]]
        certificate = pki.cert_from_pem(person.cert_pem.encode())
        assert pki.subject_serial_number(certificate) == PERSONS[0]["ci"]
        assert pki.is_issued_by(certificate, world.app.state.runtime.authority.certificate)
        assert "ENCRYPTED" in person.key_pem
        assert person.pin_hash.startswith("scrypt$")
        assert PERSONS[0]["pin"] not in person.pin_hash
        assert people[PERSONS[1]["ci"]].phone == "01098765432"

    async def test_re_enrolment_issues_a_new_certificate(self, world: World) -> None:
        await world.enrol()
        database: Database = world.app.state.db
        async with database.transaction() as session:
            before = (await session.scalars(select(Person.cert_serial).order_by(Person.ci))).all()
        assert (await world.enrol()).json() == {"enrolled": 2}
        async with database.transaction() as session:
            after = (await session.scalars(select(Person.cert_serial).order_by(Person.ci))).all()
            count = len((await session.scalars(select(Person))).all())
        assert count == 2
        assert set(before).isdisjoint(after)

    async def test_admin_key_and_validation(self, world: World) -> None:
        response = await world.ca.post("/admin/persons", json={"persons": PERSONS}, headers={"x-admin-key": "no"})
        assert response.status_code == 401
        bad = [{**PERSONS[0], "birth_date": "19901301"}]
        response = await world.ca.post("/admin/persons", json={"persons": bad}, headers={"x-admin-key": "ca-admin"})
        assert response.status_code == 400
        assert response.json()["rsp_code"] == "40001"

    async def test_root_certificate_is_published(self, world: World) -> None:
        response = await world.ca.get("/ca/root.pem")
        assert pki.cert_from_pem(response.content) == world.app.state.runtime.authority.certificate


class TestRegistrySync:
    async def test_startup_reads_the_portal_registry(self, world: World) -> None:
        database: Database = world.app.state.db
        async with database.transaction() as session:
            codes = set((await session.scalars(select(RegisteredOrg.org_code))).all())
        assert codes == {world.operator["org_code"], world.provider["org_code"]}

    async def test_ca_token(self, world: World) -> None:
        response = await world.token_response(world.operator)
        assert response.status_code == 200
        body = response.json()
        assert body["scope"] == "ca"
        assert body["token_type"] == "Bearer"
        assert response.headers["cache-control"] == "no-store"

    async def test_unknown_client_triggers_a_resync(self, world: World) -> None:
        late = await world.register("01", ["card"], "늦은카드")
        response = await world.token_response(late)
        assert response.status_code == 200, response.text

    async def test_wrong_secret_and_scope_are_refused(self, world: World) -> None:
        response = await world.token_response({**world.operator, "ca_client_secret": "x" * 48})
        assert response.status_code == 401
        assert response.json()["error"] == "invalid_client"
        response = await world.token_response(world.operator, scope="manage")
        assert response.json()["error"] == "invalid_scope"
        # The support pair is for the portal, not for the CA.
        response = await world.token_response(
            {
                "ca_client_id": world.operator["support_client_id"],
                "ca_client_secret": world.operator["support_client_secret"],
            }
        )
        assert response.json()["error"] == "invalid_client"

    async def test_endpoints_need_a_ca_token(self, world: World) -> None:
        for headers in ({}, {"Authorization": "Bearer not.a.token"}):
            response = await world.ca.post("/v1/ca/sign_result", json={}, headers=headers)
            assert response.status_code == 401
            assert response.json()["rsp_code"] == "40101"


class TestMigrations:
    async def test_migrations_match_models(self, db_url: str, tmp_path: Path) -> None:
        database = Database(db_url)
        try:
            await database.upgrade(MIGRATIONS)
            async with database.engine.connect() as connection:
                differences = await connection.run_sync(compare_models, Base.metadata)
        finally:
            await database.dispose()
        assert differences == []


class TestRestart:
    async def test_root_and_persons_survive_a_restart(self, world: World, tmp_path: Path) -> None:
        await world.enrol()
        root = (await world.ca.get("/ca/root.pem")).content
        settings = world.app.state.settings
        again = create_app(settings, http_client=world.portal, clock=world.clock)
        async with again.router.lifespan_context(again):
            transport = httpx.ASGITransport(app=again)
            async with httpx.AsyncClient(transport=transport, base_url="http://ca.test") as ca:
                assert (await ca.get("/ca/root.pem")).content == root
        assert (tmp_path / "certauth" / "root-key.pem").stat().st_mode & 0o077 == 0
