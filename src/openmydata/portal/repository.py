"""All SQL of the portal."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from openmydata.portal.models import Change, Credential, IssuedToken, Org, Service, StatisticsReport


class PortalRepository:
    def __init__(self, session: AsyncSession):
        self.session = session

    async def add(self, *rows: object) -> None:
        self.session.add_all(rows)
        await self.session.flush()

    # organisations
    async def org(self, org_code: str) -> Org | None:
        return await self.session.get(Org, org_code)

    async def active_orgs(self, codes: Iterable[str] | None = None) -> list[Org]:
        query = select(Org).where(Org.active.is_(True)).order_by(Org.org_code)
        if codes is not None:
            query = query.where(Org.org_code.in_(list(codes)))
        return list((await self.session.scalars(query)).all())

    # credentials
    async def credential(self, client_id: str) -> Credential | None:
        query = select(Credential).where(Credential.client_id == client_id)
        return (await self.session.scalars(query)).one_or_none()

    async def ca_credentials(self) -> list[tuple[Org, Credential]]:
        query = (
            select(Org, Credential)
            .join(Credential, Credential.org_code == Org.org_code)
            .where(Org.active.is_(True), Credential.purpose == "ca")
            .order_by(Org.org_code)
        )
        return [(org, credential) for org, credential in (await self.session.execute(query)).all()]

    async def org_credential(self, org_code: str, purpose: str) -> Credential | None:
        query = select(Credential).where(Credential.org_code == org_code, Credential.purpose == purpose)
        return (await self.session.scalars(query)).one_or_none()

    async def active_orgs_of_type(self, org_type: str) -> list[Org]:
        query = select(Org).where(Org.active.is_(True), Org.org_type == org_type).order_by(Org.org_code)
        return list((await self.session.scalars(query)).all())

    # services
    async def service(self, client_id: str) -> Service | None:
        return await self.session.get(Service, client_id)

    async def services(self, client_ids: Iterable[str] | None = None, *, active_only: bool = True) -> list[Service]:
        query = select(Service).order_by(Service.org_code, Service.client_id)
        if active_only:
            query = query.where(Service.active.is_(True))
        if client_ids is not None:
            query = query.where(Service.client_id.in_(list(client_ids)))
        return list((await self.session.scalars(query)).all())

    # change log
    async def record_change(self, entity: str, org_code: str, item: str, op_type: str, at: datetime) -> None:
        await self.add(Change(entity=entity, org_code=org_code, item=item, op_type=op_type, changed_at=at))

    async def changes_since(self, entity: str, since: datetime) -> list[Change]:
        query = (
            select(Change)
            .where(Change.entity == entity, Change.changed_at >= since)
            .order_by(Change.changed_at, Change.id)
        )
        return list((await self.session.scalars(query)).all())

    # tokens
    async def token(self, jti: str) -> IssuedToken | None:
        return await self.session.get(IssuedToken, jti)

    async def drop_tokens(self, org_code: str) -> None:
        await self.session.execute(delete(IssuedToken).where(IssuedToken.org_code == org_code))

    # statistics
    async def statistics_report(
        self, api_id: str, org_code: str, client_id: str, stat_type: str, inquiry_date: str
    ) -> StatisticsReport | None:
        query = select(StatisticsReport).where(
            StatisticsReport.api_id == api_id,
            StatisticsReport.org_code == org_code,
            StatisticsReport.client_id == client_id,
            StatisticsReport.stat_type == stat_type,
            StatisticsReport.inquiry_date == inquiry_date,
        )
        return (await self.session.scalars(query)).one_or_none()

    async def statistics_reports(self, api_id: str | None = None) -> list[StatisticsReport]:
        query = select(StatisticsReport).order_by(StatisticsReport.id)
        if api_id is not None:
            query = query.where(StatisticsReport.api_id == api_id)
        return list((await self.session.scalars(query)).all())

    async def statistics_reports_of(self, org_code: str, inquiry_date: str | None = None) -> list[StatisticsReport]:
        """The reports `org_code` sent (지원-004 or 지원-005); for one week, or for the latest week it reported."""
        if inquiry_date is None:
            latest = select(func.max(StatisticsReport.inquiry_date)).where(StatisticsReport.org_code == org_code)
            inquiry_date = await self.session.scalar(latest)
            if inquiry_date is None:
                return []
        query = (
            select(StatisticsReport)
            .where(StatisticsReport.org_code == org_code, StatisticsReport.inquiry_date == inquiry_date)
            .order_by(StatisticsReport.client_id, StatisticsReport.stat_type, StatisticsReport.id)
        )
        return list((await self.session.scalars(query)).all())
