"""All SQL of the CA."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from openmydata.certauth.models import CaToken, CertRequest, Person, RegisteredOrg, SignedConsent


class CertAuthRepository:
    def __init__(self, session: AsyncSession):
        self.session = session

    async def add(self, *rows: object) -> None:
        self.session.add_all(rows)
        await self.session.flush()

    # persons
    async def person_by_ci(self, ci: str) -> Person | None:
        return (await self.session.scalars(select(Person).where(Person.ci == ci))).one_or_none()

    async def person(self, person_id: int) -> Person | None:
        return await self.session.get(Person, person_id)

    async def persons_by_identity(self, name: str, birth_date: str, phone: str) -> list[Person]:
        query = select(Person).where(Person.name == name, Person.birth_date == birth_date, Person.phone == phone)
        return list((await self.session.scalars(query)).all())

    async def person_by_cert_serial(self, serial: str) -> Person | None:
        return (await self.session.scalars(select(Person).where(Person.cert_serial == serial))).one_or_none()

    # registry
    async def org(self, org_code: str) -> RegisteredOrg | None:
        return await self.session.get(RegisteredOrg, org_code)

    async def org_by_client_id(self, client_id: str) -> RegisteredOrg | None:
        query = select(RegisteredOrg).where(RegisteredOrg.ca_client_id == client_id)
        return (await self.session.scalars(query)).one_or_none()

    async def orgs(self) -> list[RegisteredOrg]:
        return list((await self.session.scalars(select(RegisteredOrg))).all())

    async def remove_orgs(self, org_codes: Iterable[str]) -> None:
        codes = list(org_codes)
        if codes:
            await self.session.execute(delete(CaToken).where(CaToken.org_code.in_(codes)))
            await self.session.execute(delete(RegisteredOrg).where(RegisteredOrg.org_code.in_(codes)))

    async def org_names(self, org_codes: Iterable[str]) -> dict[str, str]:
        query = select(RegisteredOrg.org_code, RegisteredOrg.org_name).where(
            RegisteredOrg.org_code.in_(list(org_codes))
        )
        return {code: name for code, name in (await self.session.execute(query)).all()}

    # tokens
    async def token(self, jti: str) -> CaToken | None:
        return await self.session.get(CaToken, jti)

    # requests
    async def request(self, cert_tx_id: str) -> CertRequest | None:
        return await self.session.get(CertRequest, cert_tx_id)

    async def consents(self, cert_tx_id: str) -> list[SignedConsent]:
        query = select(SignedConsent).where(SignedConsent.cert_tx_id == cert_tx_id).order_by(SignedConsent.position)
        return list((await self.session.scalars(query)).all())

    async def consent(self, cert_tx_id: str, tx_id: str) -> SignedConsent | None:
        query = select(SignedConsent).where(SignedConsent.cert_tx_id == cert_tx_id, SignedConsent.tx_id == tx_id)
        return (await self.session.scalars(query)).one_or_none()
