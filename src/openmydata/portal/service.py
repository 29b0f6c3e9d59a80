"""The portal's rules: registration, org_code and credential issue, support tokens (지원-001), the registry with
search_timestamp deltas (지원-002/003/006) and statistics intake (지원-004/005). Never commits.

org_code scheme (the digest's observed shape, `A1AAER0000`; that the prefix encodes the industry is
unconfirmed): a two-character prefix, four random upper-case letters or digits, then `0000`. Providers take the
prefix of their first industry (bank A1, insu B1, ginsu B4, invest C1, card D1, capital D3, efin E1, telecom F1,
p2p P1, bond R1, usury X1); operators M1, relays Y1, certification authorities Z1 (C1 is taken by invest in the
observed codes), anything else Q1.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from openmydata.kit import ids
from openmydata.kit import logging as log
from openmydata.kit.audit import AuditChain
from openmydata.kit.clock import as_utc, parse_dtime, to_dtime
from openmydata.kit.errors import OAuthError, PeerError, PeerUnavailable
from openmydata.kit.pki import PkiError, cert_from_pem, subject_serial_number
from openmydata.kit.tls import certificate_fingerprint
from openmydata.portal.clients import OperatorSupportClient
from openmydata.portal.models import Credential, IssuedToken, Org, Service, StatisticsReport
from openmydata.portal.repository import PortalRepository
from openmydata.portal.schemas import (
    PROVIDER_TYPES,
    CertificateRegistration,
    ConsentLookupResult,
    OperatorConsents,
    OrgCredentials,
    OrgRegistration,
    OrgUpdate,
    OrgView,
    ServiceCredentials,
    ServiceRegistration,
    ServiceUpdate,
    ServiceView,
)
from openmydata.portal.security import SecretBox, TokenClaims, TokenSigner, hash_secret, secret_matches
from openmydata.standard.apis.support import (
    CaOrgEntry,
    CaOrgListResponse,
    CertFingerprint,
    NpTime,
    OperatorStatisticsRequest,
    OpType,
    OrgEntry,
    OrgListResponse,
    OrgType,
    ProviderStatisticsRequest,
    ServiceEntry,
    ServiceListResponse,
    ServiceOrg,
    SupportTokenResponse,
    week_dates,
)
from openmydata.standard.codes import RspCode, StandardError, success_envelope
from openmydata.standard.oauth import client_credentials_request
from openmydata.standard.peers import Peer
from openmydata.standard.schedule import Windows

INDUSTRY_PREFIX = {
    "bank": "A1",
    "insu": "B1",
    "ginsu": "B4",
    "invest": "C1",
    "card": "D1",
    "capital": "D3",
    "efin": "E1",
    "telecom": "F1",
    "p2p": "P1",
    "bond": "R1",
    "usury": "X1",
}
TYPE_PREFIX = {"03": "M1", "04": "Y1", "05": "Z1", "06": "Z1"}
OTHER_PREFIX = "Q1"
CA_TYPES = frozenset({OrgType.CA_IDENTITY.value, OrgType.CA_SIGNATURE.value})
SUPPORT_SCOPE = "manage"
PORTAL_PURPOSE = "portal"  # the pair the portal calls an operator's or a provider's 지원-101 with
CLIENT_ID_LENGTH = 32
SECRET_LENGTH = 48
MAX_FINGERPRINTS = 3  # registered certificates per organisation (nationwide standard, digest §8)

_logger = log.get_logger("openmydata.portal")

Clock = Callable[[], datetime]


def org_code_prefix(org_type: str, industries: list[str]) -> str:
    if org_type in PROVIDER_TYPES and industries:
        return INDUSTRY_PREFIX[industries[0]]
    return TYPE_PREFIX.get(org_type, OTHER_PREFIX)


def new_org_code(org_type: str, industries: list[str]) -> str:
    return f"{org_code_prefix(org_type, industries)}{ids.upper_alnum(4)}0000"


def fold_op_types(ops: Iterable[str]) -> str:
    """The op_type a receiver needs for several changes of one item since its search_timestamp."""
    sequence = list(ops)
    if sequence[-1] == OpType.DELETED:
        return OpType.DELETED.value
    if OpType.NEW in sequence:
        return OpType.NEW.value
    return OpType.MODIFIED.value


@dataclass(frozen=True)
class Caller:
    """The organisation behind a support-API token."""

    org_code: str
    org_type: str
    client_id: str


class PortalService:
    def __init__(
        self,
        repository: PortalRepository,
        *,
        signer: TokenSigner,
        box: SecretBox,
        token_lifetime: timedelta,
        clock: Clock,
        audit: AuditChain,
        tran_id: str | None = None,
    ):
        self.repo = repository
        self.signer = signer
        self.box = box
        self.token_lifetime = token_lifetime
        self.clock = clock
        self.audit = audit
        self.tran_id = tran_id

    async def _audit(self, kind: str, at: datetime, **event: Any) -> None:
        """One audit entry in the request's transaction: organisation codes, client ids and the tran id only."""
        if self.tran_id is not None:
            event["tran_id"] = self.tran_id
        await self.audit.append(self.repo.session, kind, event, at=at)

    # ----- admin: organisations -----
    async def register_org(self, request: OrgRegistration) -> OrgCredentials:
        self._check_industries(request.org_type, request.industries)
        windows = self._windows(request.org_type, request.np_time_list)
        if request.relay_org_code is not None:
            await self._check_relay(request.relay_org_code)
        now = self.clock()
        org_code = await self._unused_org_code(request.org_type, request.industries)
        org = Org(
            org_code=org_code,
            org_type=request.org_type,
            org_name=request.org_name,
            org_regno=request.org_regno,
            domain=request.domain.rstrip("/"),
            auth_type=request.auth_type,
            relay_org_code=request.relay_org_code,
            industries=list(request.industries),
            active=True,
            created_at=now,
            updated_at=now,
            np_time_list=windows,
        )
        support_id, support_secret = ids.alnum(CLIENT_ID_LENGTH), ids.alnum(SECRET_LENGTH)
        ca_id, ca_secret = ids.alnum(CLIENT_ID_LENGTH), ids.alnum(SECRET_LENGTH)
        await self.repo.add(org)
        await self.repo.add(
            Credential(
                org_code=org_code,
                purpose="support",
                client_id=support_id,
                secret_hash=hash_secret(support_secret),
                secret_encrypted=None,
                created_at=now,
            ),
            Credential(
                org_code=org_code,
                purpose="ca",
                client_id=ca_id,
                secret_hash=hash_secret(ca_secret),
                secret_encrypted=self.box.seal(ca_secret),
                created_at=now,
            ),
        )
        portal_id: str | None = None
        portal_secret: str | None = None
        if request.org_type == OrgType.OPERATOR.value or request.org_type in PROVIDER_TYPES:
            # operators serve the portal 지원-101/103/104, providers 지원-101/102/104
            portal_id, portal_secret = ids.alnum(CLIENT_ID_LENGTH), ids.alnum(SECRET_LENGTH)
            await self.repo.add(
                Credential(
                    org_code=org_code,
                    purpose=PORTAL_PURPOSE,
                    client_id=portal_id,
                    secret_hash=hash_secret(portal_secret),
                    secret_encrypted=self.box.seal(portal_secret),
                    created_at=now,
                )
            )
        for item in _items(org.industries):
            await self.repo.record_change("org", org_code, item, OpType.NEW.value, now)
        await self._audit(
            "org_registered",
            now,
            org_code=org_code,
            org_type=request.org_type,
            industries=list(org.industries),
            np_time_list=list(windows or []),
        )
        _logger.info("org registered", org_code=org_code, org_type=request.org_type)
        return OrgCredentials(
            org_code=org_code,
            support_client_id=support_id,
            support_client_secret=support_secret,
            ca_client_id=ca_id,
            ca_client_secret=ca_secret,
            portal_client_id=portal_id,
            portal_client_secret=portal_secret,
        )

    async def update_org(self, org_code: str, request: OrgUpdate) -> OrgView:
        org = await self._active_org(org_code)
        now = self.clock()
        old_items = set(_items(org.industries))
        if request.industries is not None:
            self._check_industries(org.org_type, request.industries)
            org.industries = list(request.industries)
        if request.relay_org_code is not None:
            await self._check_relay(request.relay_org_code)
            org.relay_org_code = request.relay_org_code
        if request.org_name is not None:
            org.org_name = request.org_name
        if request.domain is not None:
            org.domain = request.domain.rstrip("/")
        if request.auth_type is not None:
            org.auth_type = request.auth_type
        if request.np_time_list is not None:
            # The change log below lists the organisation as modified, so 지원-002 deltas carry the new windows.
            org.np_time_list = self._windows(org.org_type, request.np_time_list)
        org.updated_at = now
        details_changed = bool(request.model_fields_set - {"industries"})
        new_items = _items(org.industries)
        for item in sorted(old_items - set(new_items)):
            await self.repo.record_change("org", org_code, item, OpType.DELETED.value, now)
        for item in new_items:
            if item not in old_items:
                await self.repo.record_change("org", org_code, item, OpType.NEW.value, now)
            elif details_changed:
                await self.repo.record_change("org", org_code, item, OpType.MODIFIED.value, now)
        await self.repo.add(org)
        await self._audit(
            "org_modified",
            now,
            org_code=org_code,
            fields=sorted(request.model_fields_set),
            industries=list(org.industries),
            np_time_list=list(org.np_time_list or []),
        )
        return _org_view(org)

    async def deregister_org(self, org_code: str) -> OrgView:
        org = await self._active_org(org_code)
        now = self.clock()
        org.active = False
        org.updated_at = now
        for item in _items(org.industries):
            await self.repo.record_change("org", org_code, item, OpType.DELETED.value, now)
        dropped: list[str] = []
        for service in await self.repo.services():
            if service.org_code == org_code:
                await self._drop_service(service, now)
                dropped.append(service.client_id)
        await self.repo.drop_tokens(org_code)
        await self.repo.add(org)
        await self._audit("org_deregistered", now, org_code=org_code, services_deregistered=dropped)
        _logger.info("org deregistered", org_code=org_code)
        return _org_view(org)

    async def register_certificate(self, org_code: str, request: CertificateRegistration) -> OrgView:
        """Register an organisation's (new) TLS certificate: SERIALNUMBER must be its business registration
        number; the fingerprint joins the registered ones (newest first, at most three, so the certificate being
        replaced stays valid while peers pick up the new one), and every peer sees the change in 지원-002."""
        org = await self._active_org(org_code)
        try:
            certificate = cert_from_pem(request.certificate_pem.encode("ascii"))
        except (PkiError, ValueError, UnicodeEncodeError) as exc:
            raise StandardError(RspCode.BAD_PARAMETER, "certificate_pem is not a PEM X.509 certificate") from exc
        serial = subject_serial_number(certificate)
        if serial != org.org_regno:
            raise StandardError(
                RspCode.BAD_PARAMETER,
                f"the certificate's SERIALNUMBER ({serial or 'none'}) is not the organisation's registration number",
            )
        now = self.clock()
        if certificate.not_valid_after_utc <= now:
            raise StandardError(RspCode.BAD_PARAMETER, "the certificate has expired")
        fingerprint = certificate_fingerprint(certificate)
        previous = [item for item in (org.cert_fingerprints or []) if item != fingerprint]
        org.cert_fingerprints = [fingerprint, *previous][:MAX_FINGERPRINTS]
        org.serial_num = serial
        org.cert_issuer_dn = certificate.issuer.rfc4514_string()[:256]
        org.cert_not_after = certificate.not_valid_after_utc
        org.updated_at = now
        for item in _items(org.industries):
            await self.repo.record_change("org", org_code, item, OpType.MODIFIED.value, now)
        await self.repo.add(org)
        await self._audit(
            "org_certificate_registered",
            now,
            org_code=org_code,
            fingerprint=fingerprint,
            not_after=to_dtime(as_utc(certificate.not_valid_after_utc)),
        )
        _logger.info("org certificate registered", org_code=org_code, fingerprint=fingerprint[:16])
        return _org_view(org)

    async def registered_orgs(self) -> dict[str, Any]:
        """Every active organisation's 지원-002 entries (the portal's own peer check reads this)."""
        entries = [
            _org_entry(org, item, OpType.NEW.value).model_dump(exclude_none=True)
            for org in await self.repo.active_orgs()
            for item in _items(org.industries)
        ]
        return {"org_list": entries}

    async def org_view(self, org_code: str) -> OrgView:
        org = await self.repo.org(org_code)
        if org is None:
            raise StandardError(RspCode.ORG_NOT_RECOGNISED, f"no organisation {org_code}")
        return _org_view(org)

    # ----- admin: a person's consents at every operator (지원-101 + 지원-103) -----
    async def member_consents(self, user_ci: str, client: OperatorSupportClient) -> ConsentLookupResult:
        """Ask every registered operator with a known domain about `user_ci` (concurrently); an operator that
        cannot be asked is listed with `error` (its rsp_code or error code) instead of an answer."""
        targets: list[tuple[Org, Credential | None]] = [
            (org, await self.repo.org_credential(org.org_code, PORTAL_PURPOSE))
            for org in await self.repo.active_orgs_of_type(OrgType.OPERATOR.value)
            if org.domain
        ]

        async def ask(org: Org, credential: Credential | None) -> OperatorConsents:
            if credential is None or credential.secret_encrypted is None:
                return OperatorConsents(org_code=org.org_code, error="no_portal_credentials")
            try:
                answer = await client.member_consents(
                    org.domain, org.org_code, credential.client_id, self.box.open(credential.secret_encrypted), user_ci
                )
            except PeerError as exc:
                _logger.warning("operator refused 지원-103", org_code=org.org_code, code=exc.code)
                return OperatorConsents(org_code=org.org_code, error=exc.code or f"http_{exc.status_code}")
            except PeerUnavailable as exc:
                _logger.warning("operator unreachable for 지원-103", org_code=org.org_code, reason=exc.reason)
                return OperatorConsents(org_code=org.org_code, error="unavailable")
            return OperatorConsents(
                org_code=org.org_code,
                is_member=answer.is_member,
                service_list=[service.to_wire() for service in answer.service_list],
            )

        answers = list(await asyncio.gather(*(ask(org, credential) for org, credential in targets)))
        await self._audit("member_consents_asked", self.clock(), org_codes=[answer.org_code for answer in answers])
        return ConsentLookupResult(operators=answers)

    # ----- admin: services -----
    async def register_service(self, request: ServiceRegistration) -> ServiceCredentials:
        org = await self._active_org(request.org_code)
        if org.org_type != OrgType.OPERATOR.value:
            raise StandardError(RspCode.BAD_PARAMETER, "only MyData operators (org_type 03) register services")
        now = self.clock()
        client_id, client_secret = ids.alnum(CLIENT_ID_LENGTH), ids.alnum(SECRET_LENGTH)
        service = Service(
            client_id=client_id,
            org_code=org.org_code,
            service_name=request.service_name,
            secret_encrypted=self.box.seal(client_secret),
            redirect_uri=request.redirect_uri,
            app_scheme=request.app_scheme,
            active=True,
            created_at=now,
            updated_at=now,
        )
        await self.repo.add(service)
        await self.repo.record_change("service", org.org_code, client_id, OpType.NEW.value, now)
        await self._audit("service_registered", now, org_code=org.org_code, client_id=client_id)
        _logger.info("service registered", org_code=org.org_code)
        return ServiceCredentials(client_id=client_id, client_secret=client_secret)

    async def update_service(self, client_id: str, request: ServiceUpdate) -> ServiceView:
        service = await self._active_service(client_id)
        now = self.clock()
        if request.service_name is not None:
            service.service_name = request.service_name
        if request.redirect_uri is not None:
            service.redirect_uri = request.redirect_uri
        if "app_scheme" in request.model_fields_set:
            service.app_scheme = request.app_scheme
        service.updated_at = now
        await self.repo.add(service)
        await self.repo.record_change("service", service.org_code, client_id, OpType.MODIFIED.value, now)
        await self._audit(
            "service_modified",
            now,
            org_code=service.org_code,
            client_id=client_id,
            fields=sorted(request.model_fields_set),
        )
        return _service_view(service)

    async def deregister_service(self, client_id: str) -> ServiceView:
        service = await self._active_service(client_id)
        await self._drop_service(service, self.clock())
        return _service_view(service)

    async def _drop_service(self, service: Service, now: datetime) -> None:
        service.active = False
        service.updated_at = now
        await self.repo.add(service)
        await self.repo.record_change("service", service.org_code, service.client_id, OpType.DELETED.value, now)
        await self._audit("service_deregistered", now, org_code=service.org_code, client_id=service.client_id)

    # ----- 지원-001 -----
    async def issue_token(
        self,
        grant_type: str | None,
        client_id: str | None,
        client_secret: str | None,
        scope: str | None,
        peer: Peer | None = None,
    ) -> dict[str, Any]:
        client_id, client_secret = client_credentials_request(grant_type, client_id, client_secret)
        credential = await self.repo.credential(client_id)
        if (
            credential is None
            or credential.purpose != "support"
            or not secret_matches(client_secret, credential.secret_hash)
        ):
            raise OAuthError("invalid_client", "unknown client or wrong secret", status_code=401)
        org = await self.repo.org(credential.org_code)
        if org is None or not org.active:
            raise OAuthError("invalid_client", "the organisation is no longer registered", status_code=401)
        if peer is not None and org.org_code not in peer.org_codes:
            raise OAuthError(
                "unauthorized_client", "the client certificate is not registered for this organisation", status_code=401
            )
        if scope != SUPPORT_SCOPE:
            raise OAuthError("invalid_scope", "the portal grants scope manage only")
        now = self.clock()
        jti = ids.alnum(32)
        await self.repo.add(
            IssuedToken(
                jti=jti,
                org_code=org.org_code,
                client_id=client_id,
                scope=SUPPORT_SCOPE,
                issued_at=now,
                expires_at=now + self.token_lifetime,
            )
        )
        token = self.signer.issue(org.org_code, client_id, SUPPORT_SCOPE, jti, now, self.token_lifetime)
        await self._audit(
            "support_token_issued",
            now,
            org_code=org.org_code,
            client_id=client_id,
            scope=SUPPORT_SCOPE,
            expires_in=int(self.token_lifetime.total_seconds()),
        )
        _logger.info("support token issued", org_code=org.org_code)
        return SupportTokenResponse(
            token_type="Bearer",
            access_token=token,
            expires_in=int(self.token_lifetime.total_seconds()),
            scope=SUPPORT_SCOPE,
        ).to_wire()

    async def authenticate(self, authorization: str | None, peer: Peer | None = None) -> Caller:
        """The caller of a 지원 API from its Bearer token (40101 when missing, forged, expired or withdrawn)."""
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise StandardError(RspCode.INVALID_TOKEN, "Bearer token required", {"WWW-Authenticate": "Bearer"})
        claims: TokenClaims | None = self.signer.verify(token.strip(), self.clock())
        if claims is None:
            raise StandardError(RspCode.INVALID_TOKEN, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
        if claims.scope != SUPPORT_SCOPE:
            raise StandardError(RspCode.SCOPE_NOT_GRANTED, "scope manage required")
        issued = await self.repo.token(claims.jti)
        org = await self.repo.org(claims.org_code)
        if issued is None or org is None or not org.active:
            raise StandardError(RspCode.INVALID_TOKEN, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
        if peer is not None and org.org_code not in peer.org_codes:
            raise StandardError(RspCode.CERT_CHECK_FAILED, "the client certificate belongs to another organisation")
        return Caller(org_code=org.org_code, org_type=org.org_type, client_id=claims.client_id)

    # ----- 지원-002 -----
    async def org_list(self, search_timestamp: str | None) -> dict[str, Any]:
        now = self.clock()
        since = _since(search_timestamp)
        entries: list[OrgEntry] = []
        if since is None:
            for current in await self.repo.active_orgs():
                entries.extend(_org_entry(current, item, OpType.NEW.value) for item in _items(current.industries))
        else:
            folded = await self._folded_changes("org", since)
            if not folded:
                return success_envelope(RspCode.UP_TO_DATE)
            orgs = {org.org_code: org for org in await self.repo.active_orgs({code for code, _ in folded})}
            for (org_code, item), op_type in folded.items():
                org = orgs.get(org_code)
                if op_type == OpType.DELETED or org is None or item not in _items(org.industries):
                    entries.append(OrgEntry(op_type="D", org_code=org_code, industry=item or None))
                else:
                    entries.append(_org_entry(org, item, op_type))
        return OrgListResponse(
            **success_envelope(), search_timestamp=to_dtime(now), org_cnt=len(entries), org_list=entries
        ).to_wire()

    # ----- 지원-003 -----
    async def service_list(self, search_timestamp: str | None) -> dict[str, Any]:
        now = self.clock()
        since = _since(search_timestamp)
        grouped: dict[str, list[ServiceEntry]] = {}
        if since is None:
            for current in await self.repo.services():
                grouped.setdefault(current.org_code, []).append(self._service_entry(current, OpType.NEW.value))
        else:
            folded = await self._folded_changes("service", since)
            if not folded:
                return success_envelope(RspCode.UP_TO_DATE)
            services = {s.client_id: s for s in await self.repo.services({cid for _, cid in folded}, active_only=False)}
            for (org_code, client_id), op_type in folded.items():
                service = services.get(client_id)
                if op_type == OpType.DELETED or service is None or not service.active:
                    entry = ServiceEntry(op_type="D", client_id=client_id)
                else:
                    entry = self._service_entry(service, op_type)
                grouped.setdefault(org_code, []).append(entry)
        org_list = [
            ServiceOrg(org_code=org_code, service_cnt=len(entries), service_list=entries)
            for org_code, entries in sorted(grouped.items())
        ]
        return ServiceListResponse(
            **success_envelope(), search_timestamp=to_dtime(now), org_cnt=len(org_list), org_list=org_list
        ).to_wire()

    def _service_entry(self, service: Service, op_type: str) -> ServiceEntry:
        return ServiceEntry(
            service_name=service.service_name,
            op_type=op_type,
            client_id=service.client_id,
            client_secret=self.box.open(service.secret_encrypted),
            redirect_uri=service.redirect_uri,
            app_scheme=service.app_scheme,
        )

    async def _folded_changes(self, entity: str, since: datetime) -> dict[tuple[str, str], str]:
        history: dict[tuple[str, str], list[str]] = {}
        for change in await self.repo.changes_since(entity, since):
            history.setdefault((change.org_code, change.item), []).append(change.op_type)
        return {key: fold_op_types(ops) for key, ops in history.items()}

    # ----- 지원-004 / 지원-005 -----
    async def record_operator_statistics(self, caller: Caller, request: OperatorStatisticsRequest) -> dict[str, str]:
        if caller.org_type != OrgType.OPERATOR.value:
            raise StandardError(RspCode.SCOPE_NOT_GRANTED, "지원-004 is for MyData operators")
        if request.mydata_org_code != caller.org_code:
            raise StandardError(RspCode.BAD_PARAMETER, "mydata_org_code is not the caller's org_code")
        await self._check_service_of(request.client_id, caller.org_code)
        await self._store_report("지원-004", caller.org_code, request.mydata_org_code, request)
        return success_envelope()

    async def record_provider_statistics(self, caller: Caller, request: ProviderStatisticsRequest) -> dict[str, str]:
        if caller.org_type not in PROVIDER_TYPES:
            raise StandardError(RspCode.SCOPE_NOT_GRANTED, "지원-005 is for information providers")
        if request.org_code != caller.org_code:
            raise StandardError(RspCode.BAD_PARAMETER, "org_code is not the caller's org_code")
        await self._check_service_of(request.client_id, request.mydata_org_code)
        await self._store_report("지원-005", caller.org_code, request.mydata_org_code, request)
        return success_envelope()

    async def _check_service_of(self, client_id: str, operator_code: str) -> None:
        service = await self.repo.service(client_id)
        if service is None or service.org_code != operator_code:
            raise StandardError(RspCode.BAD_PARAMETER, "client_id is not a service of that operator")

    async def _store_report(
        self,
        api_id: str,
        org_code: str,
        mydata_org_code: str,
        request: OperatorStatisticsRequest | ProviderStatisticsRequest,
    ) -> None:
        payload = request.to_wire()
        now = self.clock()
        report = await self.repo.statistics_report(
            api_id, org_code, request.client_id, request.type, request.inquiry_date
        )
        replaced = report is not None
        week = week_dates(request.inquiry_date)
        if report is None:
            report = StatisticsReport(
                api_id=api_id,
                org_code=org_code,
                mydata_org_code=mydata_org_code,
                client_id=request.client_id,
                stat_type=request.type,
                inquiry_date=request.inquiry_date,
                payload=payload,
                received_at=now,
            )
        else:
            report.payload = payload
            report.received_at = now
        await self.repo.add(report)
        await self._audit(
            "statistics_received",
            now,
            api_id=api_id,
            org_code=org_code,
            mydata_org_code=mydata_org_code,
            client_id=request.client_id,
            stat_type=request.type,
            inquiry_date=request.inquiry_date,
            week=[week[0], week[-1]],
            replaced=replaced,
        )
        _logger.info("statistics received", api_id=api_id, org_code=org_code, inquiry_date=request.inquiry_date)

    # ----- 지원-006 -----
    async def orgs_for_ca(self, caller: Caller) -> dict[str, Any]:
        if caller.org_type not in CA_TYPES:
            raise StandardError(RspCode.SCOPE_NOT_GRANTED, "지원-006 is for certification authorities")
        entries = [
            CaOrgEntry(
                org_code=org.org_code,
                org_type=org.org_type,
                org_name=org.org_name,
                ca_client_id=credential.client_id,
                ca_client_secret=self.box.open(credential.secret_encrypted),
            )
            for org, credential in await self.repo.ca_credentials()
            if org.org_type not in CA_TYPES and credential.secret_encrypted is not None
        ]
        return CaOrgListResponse(**success_envelope(), org_cnt=len(entries), org_list=entries).to_wire()

    # ----- helpers -----
    async def _unused_org_code(self, org_type: str, industries: list[str]) -> str:
        while True:
            code = new_org_code(org_type, industries)
            if await self.repo.org(code) is None:
                return code

    async def _active_org(self, org_code: str) -> Org:
        org = await self.repo.org(org_code)
        if org is None or not org.active:
            raise StandardError(RspCode.ORG_NOT_RECOGNISED, f"no registered organisation {org_code}")
        return org

    async def _active_service(self, client_id: str) -> Service:
        service = await self.repo.service(client_id)
        if service is None or not service.active:
            raise StandardError(RspCode.BAD_PARAMETER, "no registered service with that client_id")
        return service

    async def _check_relay(self, relay_org_code: str) -> None:
        relay = await self.repo.org(relay_org_code)
        if relay is None or not relay.active or relay.org_type != OrgType.RELAY.value:
            raise StandardError(RspCode.BAD_PARAMETER, "relay_org_code is not a registered relay (org_type 04)")

    @staticmethod
    def _windows(org_type: str, texts: list[str] | None) -> list[str] | None:
        """The scheduled-transmission windows to register (None or [] : none published), checked by the standard's
        rules for what a provider registers (§10.4); 40001 with the rule broken otherwise."""
        if not texts:
            return None
        if org_type not in PROVIDER_TYPES:
            raise StandardError(
                RspCode.BAD_PARAMETER, "only information providers and relays publish scheduled-transmission windows"
            )
        try:
            windows = Windows.parse(texts)
            windows.check_registration()
        except ValueError as exc:
            raise StandardError(RspCode.BAD_PARAMETER, f"np_time_list: {exc}") from exc
        return windows.to_wire()

    @staticmethod
    def _check_industries(org_type: str, industries: list[str]) -> None:
        if org_type in PROVIDER_TYPES and not industries:
            raise StandardError(RspCode.BAD_PARAMETER, "a provider or relay names at least one industry")
        if org_type not in PROVIDER_TYPES and industries:
            raise StandardError(RspCode.BAD_PARAMETER, "only providers and relays serve industries")


def _items(industries: list[str]) -> list[str]:
    """Registry items of an organisation: one per industry, or one ("") for an org without industries."""
    return list(industries) or [""]


def _since(search_timestamp: str | None) -> datetime | None:
    """The moment a receiver's search_timestamp stands for; None for a full list ("0" or absent).

    Changes in the same second as the timestamp count as newer (ST > MT, digest §2.5): a duplicate entry is
    harmless, a missed one is not.
    """
    if search_timestamp is None or search_timestamp in {"", "0"}:
        return None
    try:
        # UTC: SQLite compares the stored text, so every time in a query must be in the stored zone.
        return as_utc(parse_dtime(search_timestamp))
    except ValueError as exc:
        raise StandardError(RspCode.BAD_PARAMETER, "search_timestamp is YYYYMMDDhhmmss or 0") from exc


def _org_entry(org: Org, item: str, op_type: str) -> OrgEntry:
    return OrgEntry(
        op_type=op_type,
        org_code=org.org_code,
        industry=item or None,
        org_type=org.org_type,
        is_rcv_org=org.org_type == OrgType.OPERATOR.value,
        org_name=org.org_name,
        org_regno=org.org_regno,
        domain=org.domain,
        relay_org_code=org.relay_org_code,
        auth_type=org.auth_type,
        serial_num=org.serial_num,
        cert_issuer_dn=org.cert_issuer_dn,
        cert_fingerprint_cnt=len(org.cert_fingerprints or []),
        cert_fingerprint_list=[CertFingerprint(cert_fingerprint=item) for item in org.cert_fingerprints or []],
        # An optional field without a value is omitted: no np_time fields for an organisation without windows.
        np_time_cnt=len(org.np_time_list) if org.np_time_list else None,
        np_time_list=[NpTime(np_time=window) for window in org.np_time_list] if org.np_time_list else None,
    )


def _org_view(org: Org) -> OrgView:
    return OrgView(
        org_code=org.org_code,
        org_type=org.org_type,
        org_name=org.org_name,
        industries=list(org.industries),
        domain=org.domain,
        org_regno=org.org_regno,
        auth_type=org.auth_type,
        relay_org_code=org.relay_org_code,
        active=org.active,
        serial_num=org.serial_num,
        cert_fingerprints=list(org.cert_fingerprints or []),
        cert_issuer_dn=org.cert_issuer_dn,
        cert_not_after=as_utc(org.cert_not_after) if org.cert_not_after else None,
        np_time_list=list(org.np_time_list or []),
    )


def _service_view(service: Service) -> ServiceView:
    return ServiceView(
        client_id=service.client_id,
        org_code=service.org_code,
        service_name=service.service_name,
        redirect_uri=service.redirect_uri,
        app_scheme=service.app_scheme,
        active=service.active,
    )
