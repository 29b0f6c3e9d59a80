"""The operator's business rules: sign-up through identity verification, consent (전송요구) composition and
signature, 통합인증-002 at every chosen provider, collection, and withdrawal.

Functions take the request's session and never commit; HTTP calls to several peers run concurrently, database
writes happen afterwards on the one session.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from openmydata.kit import ids
from openmydata.kit.audit import AuditChain
from openmydata.kit.clock import as_utc, now_kst, parse_date, parse_dtime, to_dtime, utcnow
from openmydata.kit.errors import PeerUnavailable
from openmydata.kit.logging import get_logger
from openmydata.kit.tls import TlsIdentity
from openmydata.operator import repository as repo
from openmydata.operator.clients import CertAuthClient, PortalClient, ProviderClient
from openmydata.operator.collector import ProviderCollection, collect_provider
from openmydata.operator.keyring import Keyring
from openmydata.operator.models import (
    Consent,
    PendingRequest,
    Person,
    Provider,
    WebSession,
    WithdrawalAudit,
    audit_head,
    audit_log,
)
from openmydata.operator.personal import Identity, Member
from openmydata.operator.security import TokenVault, new_session_token, token_hash
from openmydata.operator.settings import OperatorSettings
from openmydata.standard.apis import CATALOGUE
from openmydata.standard.apis.auth import TokenResponse
from openmydata.standard.apis.support import (
    MemberConsent,
    MemberConsentsRequest,
    MemberConsentsResponse,
    MemberService,
)
from openmydata.standard.catalogue import ApiSpec, Catalogue, Kind
from openmydata.standard.client import ApiCallError
from openmydata.standard.codes import RspCode, StandardError, success_envelope
from openmydata.standard.consent import TargetInfo, TransmissionCycle, TransmissionRequest, encode_signed_content
from openmydata.standard.formats import new_tx_id
from openmydata.standard.support_tokens import SupportDesk, SupportTokens

_logger = get_logger("openmydata.operator.service")

SIGN_PENDING, SIGN_DONE, SIGN_REJECTED, SIGN_EXPIRED = "01", "02", "03", "04"
MAX_PROVIDERS_PER_CONSENT = 50  # providers selectable on one 통합인증 screen (§10.4)
PROVIDER_ORG_TYPES = frozenset({"01", "02"})
SENSITIVE_FLAGS = ("is_consent_trans_memo", "is_consent_merchant_name_regno", "is_consent_trans_category")
REGISTRY_STATE = "support-002"
HISTORY_LIMIT = 200  # collection audit entries shown as a person's transmission history
_PHONE_RE = re.compile(r"^(?:\+82|0)1[0-9]{8,9}$")


class Peers:
    """The outbound clients of one running operator."""

    def __init__(self, http: httpx.AsyncClient, settings: OperatorSettings):
        self.http = http
        self.settings = settings
        self.portal = PortalClient(
            http,
            settings.portal_url,
            org_code=settings.org_code,
            client_id=settings.support_client_id,
            client_secret=settings.support_client_secret,
        )
        self.certauth = CertAuthClient(
            http,
            settings.certauth_url,
            org_code=settings.org_code,
            client_id=settings.ca_client_id,
            client_secret=settings.ca_client_secret,
        )

    def provider(self, org_code: str, base_url: str) -> ProviderClient:
        return ProviderClient(
            self.http,
            base_url,
            operator_org=self.settings.org_code,
            provider_org=org_code,
            client_id=self.settings.service_client_id,
            client_secret=self.settings.service_client_secret,
        )


# what the person enters


@dataclass(frozen=True)
class Applicant:
    name: str
    birth_date: str
    phone: str


def normalise_applicant(name: str, birth_date: str, phone: str) -> Applicant:
    """Trim and check what a person typed; a mistake is 40001 with the field named (never the value)."""
    clean_name = " ".join(name.split())
    if not 1 <= len(clean_name) <= 30:
        raise StandardError(RspCode.BAD_PARAMETER, "name")
    digits = re.sub(r"[\s.-]", "", birth_date)
    try:
        born = parse_date(digits) if len(digits) == 8 else None
    except ValueError:
        born = None
    if born is None or born > now_kst().date():
        raise StandardError(RspCode.BAD_PARAMETER, "birth_date (YYYYMMDD)")
    number = re.sub(r"[\s()-]", "", phone)
    if not _PHONE_RE.fullmatch(number):
        raise StandardError(RspCode.BAD_PARAMETER, "phone")
    if number.startswith("+82"):
        number = "0" + number[3:]
    return Applicant(clean_name, digits, number)


# consent composition (pure)


@dataclass(frozen=True)
class ProviderChoice:
    """A provider as the registry knows it: one organisation with one or more industries."""

    org_code: str
    org_name: str
    industries: tuple[str, ...]
    domain: str
    relay_org_code: str | None = None


@dataclass(frozen=True)
class PreparedConsent:
    """One provider's consent, its anti-replay nonce and tx_id, as the person will sign them."""

    org_code: str
    org_name: str
    tx_id: str
    nonce: str
    consent: TransmissionRequest

    @property
    def signed_text(self) -> str:
        return encode_signed_content(self.consent, self.nonce).decode("utf-8")

    def to_json(self) -> dict[str, Any]:
        return {
            "org_code": self.org_code,
            "org_name": self.org_name,
            "tx_id": self.tx_id,
            "nonce": self.nonce,
            "consent": self.consent.to_wire(),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PreparedConsent:
        return cls(
            org_code=data["org_code"],
            org_name=data["org_name"],
            tx_id=data["tx_id"],
            nonce=data["nonce"],
            consent=TransmissionRequest.model_validate(data["consent"]),
        )


def provider_scopes(industries: Iterable[str], catalogue: Catalogue = CATALOGUE) -> list[str]:
    """Every scope of the provider's industries, as the catalogue lists them."""
    scopes: dict[str, None] = {}
    for industry in industries:
        for scope in catalogue.scopes(industry):
            scopes.setdefault(scope, None)
    return list(scopes)


def compose_consents(
    choices: Sequence[ProviderChoice],
    *,
    settings: OperatorSettings,
    now: datetime,
    flags: Mapping[str, bool] | None = None,
    catalogue: Catalogue = CATALOGUE,
) -> list[PreparedConsent]:
    """One 전송요구 per provider: all scopes of its industries, all assets, cycles, an end within one year."""
    flags = flags or {}
    days = min(settings.consent_days, 365)
    end_date = to_dtime(now + timedelta(days=days))
    holding_period = to_dtime(now + timedelta(days=settings.holding_period_days))
    prepared = []
    for choice in choices:
        scopes = provider_scopes(choice.industries, catalogue)
        if not scopes:
            raise StandardError(RspCode.BAD_PARAMETER, f"no information APIs for {choice.org_code}")
        consent = TransmissionRequest(
            snd_org_code=choice.org_code,
            rcv_org_code=settings.org_code,
            is_scheduled=True,
            cycle=TransmissionCycle(fnd_cycle=settings.fnd_cycle, add_cycle=settings.add_cycle),
            end_date=end_date,
            purpose=settings.purpose,
            holding_period=holding_period,
            target_info=[TargetInfo(scope=scope) for scope in scopes],
            **{name: bool(flags.get(name, False)) for name in SENSITIVE_FLAGS},
        )
        tx_id = new_tx_id(settings.org_code, choice.org_code, settings.ca_code, choice.relay_org_code, at=now)
        prepared.append(PreparedConsent(choice.org_code, choice.org_name, tx_id, ids.urlsafe_nonce(), consent))
    return prepared


def new_sign_tx_id(org_code: str, ca_code: str, now: datetime) -> str:
    """sign_tx_id (49): operator org_code _ CA code _ DTIME _ 12 random characters."""
    return f"{org_code}_{ca_code}_{to_dtime(now)}_{ids.upper_alnum(12)}"


def sign_request_body(
    person: Identity, prepared: Sequence[PreparedConsent], *, sign_tx_id: str, title: str
) -> dict[str, Any]:
    consent_list = []
    for item in prepared:
        text = item.signed_text
        consent_list.append(
            {
                "consent_len": len(text.encode("utf-8")),
                "consent_title": f"{item.org_name} 전송요구",
                "consent": text,
                "tx_id": item.tx_id,
            }
        )
    return {
        "sign_tx_id": sign_tx_id,
        "user_ci": person.ci,
        "real_name": person.name,
        "phone_num": person.phone,
        "request_title": title,
        "device_code": "PC",
        "device_browser": "WB",
        "consent_type": "0",
        "consent_cnt": len(consent_list),
        "consent_list": consent_list,
    }


# outcomes


@dataclass(frozen=True)
class Approval:
    cert_tx_id: str
    approval_url: str


@dataclass(frozen=True)
class SignedIn:
    session_token: str
    person_id: int


@dataclass(frozen=True)
class ProviderOutcome:
    org_code: str
    org_name: str
    ok: bool
    scope: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class ConsentCompletion:
    providers: list[ProviderOutcome]

    @property
    def authorised(self) -> list[str]:
        return [outcome.org_code for outcome in self.providers if outcome.ok]


@dataclass(frozen=True)
class HistoryItem:
    """One API's records that one institution sent in one collection run (from the audit chain)."""

    at: datetime
    org_code: str
    org_name: str
    api_id: str
    title: str
    records: int


@dataclass(frozen=True)
class Withdrawal:
    revoked: list[tuple[str, str]]
    records_remaining: int


@dataclass(frozen=True)
class HousekeepingReport:
    """What one housekeeping run did: consents marked ended, consents whose holding period was over and whose data
    was deleted, and the records+assets deleted with them."""

    consents_ended: int = 0
    purged: int = 0
    rows_deleted: int = 0


def holding_due(consent: Consent, settings: OperatorSettings) -> datetime:
    """When the data a consent covered must be deleted: the signed consent's holding_period (DTIME), else end_date
    + `holding_period_days`; never before the consent's end_date."""
    end = as_utc(consent.end_date)
    due = end + timedelta(days=settings.holding_period_days)
    value = (consent.consent or {}).get("holding_period") if isinstance(consent.consent, dict) else None
    if isinstance(value, str):
        with suppress(ValueError):
            due = as_utc(parse_dtime(value))
    return max(due, end)


@dataclass
class _ProviderRun:
    org_code: str
    collection: ProviderCollection
    refreshed: tuple[str, datetime, str | None] | None = None
    apis: dict[str, ApiSpec] = field(default_factory=dict)


def _peer_failure(exc: Exception) -> StandardError:
    """A peer's refusal as the operator's own error: its 4xx code when the table knows it, else 50002."""
    if isinstance(exc, PeerUnavailable):
        return StandardError(RspCode.PROCESSING_FAILED, f"{exc.peer} unavailable")
    if isinstance(exc, ApiCallError):
        try:
            code = RspCode(exc.code)
        except ValueError:
            code = RspCode.PROCESSING_FAILED
        if code.value.startswith("5") or code in (RspCode.INVALID_TOKEN,):
            code = RspCode.PROCESSING_FAILED
        return StandardError(code, exc.peer)
    return StandardError(RspCode.PROCESSING_FAILED)


class OperatorService:
    def __init__(
        self,
        settings: OperatorSettings,
        peers: Peers,
        *,
        keyring: Keyring,
        catalogue: Catalogue = CATALOGUE,
        audit: AuditChain | None = None,
        tls: TlsIdentity | None = None,
    ):
        self.settings = settings
        self.peers = peers
        self.tls = tls
        self.catalogue = catalogue
        self.vault = TokenVault(settings.token_key or settings.session_secret)
        self.keyring = keyring
        self.audit = audit or AuditChain(audit_log, audit_head)
        self.support_desk = SupportDesk(
            SupportTokens(settings.session_secret, settings.org_code, participant="operator"),
            client_id=settings.portal_client_id,
            client_secret=settings.portal_client_secret,
            lifetime=timedelta(seconds=settings.portal_token_lifetime_s),
        )

    def _thumbprint(self) -> str | None:
        """The RFC 8705 thumbprint of the client certificate the operator presents now (None without mTLS)."""
        return self.tls.thumbprint if self.tls is not None else None

    async def _audit(self, session: AsyncSession, kind: str, at: datetime | None = None, **event: Any) -> None:
        """One audit entry in the caller's transaction. Internal ids only (person_id, org_code, tx_id), never a
        CI, name, phone number, birth date, account or card number."""
        await self.audit.append(session, kind, event, at=at)

    # sign-up and login

    async def start_identity(self, session: AsyncSession, applicant: Applicant) -> Approval:
        """Ask certauth to verify the person (they approve in their certificate app / at approval_url)."""
        try:
            cert_tx_id, approval_url = await self.peers.certauth.identity_request(
                real_name=applicant.name,
                birth_date=applicant.birth_date,
                phone_num=applicant.phone,
                request_title=f"{self.settings.org_name} 본인확인",
            )
        except (PeerUnavailable, ApiCallError) as exc:
            raise _peer_failure(exc) from exc
        await repo.add_pending(session, PendingRequest(cert_tx_id=cert_tx_id, kind="identity", state="pending"))
        return Approval(cert_tx_id, approval_url)

    async def complete_identity(self, session: AsyncSession, cert_tx_id: str) -> SignedIn:
        """After approval: the CI from certauth names the person (created on first sign-up) → a web session."""
        pending = await repo.pending(session, cert_tx_id, "identity")
        if pending is None or pending.state != "pending":
            raise StandardError(RspCode.BAD_PARAMETER, "unknown or completed cert_tx_id")
        try:
            result = await self.peers.certauth.identity_result(cert_tx_id)
        except (PeerUnavailable, ApiCallError) as exc:
            raise _peer_failure(exc) from exc
        _check_sign_status(result.sign_status)
        if not result.user_ci:
            raise StandardError(RspCode.PROCESSING_FAILED, "certauth returned no CI")
        person = await repo.person_by_ci_index(session, self.keyring.ci_index(result.user_ci))
        new_person = person is None
        if person is None:
            identity = Identity(
                ci=result.user_ci,
                name=result.real_name or "",
                birth_date=result.birth_date or "",
                phone=result.phone_num or "",
            )
            row, _key = await self.keyring.new_person(identity, utcnow())
            person = await repo.add_person(session, row)
        else:
            member = await self.keyring.open(person)
            known = member.identity
            identity = Identity(
                ci=known.ci,
                name=result.real_name or known.name,
                birth_date=result.birth_date or known.birth_date,
                phone=result.phone_num or known.phone,
            )
            if identity != known:
                self.keyring.reseal_identity(person, member.key, identity)
        pending.person_id = person.id
        pending.state = "done"
        if new_person:
            await self._audit(session, "signup", person_id=person.id, cert_tx_id=cert_tx_id)
        token = new_session_token()
        now = utcnow()
        await repo.delete_expired_sessions(session, now)
        await repo.add_session(
            session,
            WebSession(
                token_hash=token_hash(token),
                person_id=person.id,
                created_at=now,
                expires_at=now + timedelta(days=self.settings.session_days),
            ),
        )
        _logger.info("person signed in", person_id=person.id)
        return SignedIn(token, person.id)

    async def person_for_token(self, session: AsyncSession, token: str) -> Person | None:
        """The person row of a live web session (identity still sealed)."""
        return await repo.person_for_session(session, token_hash(token), utcnow())

    async def member(self, session: AsyncSession, person_id: int) -> Member | None:
        """The person with their identity opened and data key unwrapped, or None if there is no such person."""
        person = await repo.person_by_id(session, person_id)
        return await self.keyring.open(person) if person is not None else None

    async def member_by_ci(self, session: AsyncSession, ci: str) -> Member | None:
        person = await repo.person_by_ci_index(session, self.keyring.ci_index(ci))
        return await self.keyring.open(person) if person is not None else None

    async def _person_key(self, session: AsyncSession, person_id: int) -> bytes:
        person = await repo.person_by_id(session, person_id)
        if person is None:
            raise StandardError(RspCode.INVALID_TOKEN, "sign in first")
        return await self.keyring.person_key(person)

    async def sign_out(self, session: AsyncSession, token: str) -> None:
        await repo.delete_session(session, token_hash(token))

    # 지원-101 / 지원-103: the portal asks about a person's consents

    def issue_support_token(
        self, grant_type: str | None, client_id: str | None, client_secret: str | None, scope: str | None
    ) -> dict[str, Any]:
        """지원-101: client_credentials with the pair the portal was given for calling this operator."""
        return self.support_desk.issue(grant_type, client_id, client_secret, scope, utcnow())

    def support_caller(self, authorization: str | None) -> str:
        """The client_id behind a 지원-101 Bearer token (40101 when missing, forged or expired)."""
        return self.support_desk.caller(authorization, utcnow())

    async def member_consents(
        self, session: AsyncSession, request: MemberConsentsRequest, now: datetime | None = None
    ) -> dict[str, Any]:
        """지원-103: the person's currently valid consents (active, end_date ahead), grouped by service; an unknown
        CI is not a member."""
        if request.org_code != self.settings.org_code:
            raise StandardError(RspCode.BAD_PARAMETER, "org_code names another organisation")
        now = now or utcnow()
        person = await repo.person_by_ci_index(session, self.keyring.ci_index(request.user_ci))
        if person is None:
            return MemberConsentsResponse(
                **success_envelope(), is_member=False, service_cnt=0, service_list=[]
            ).to_wire()
        consents = await repo.active_consents(session, person.id, now)
        items = [
            MemberConsent(
                org_code=consent.org_code,
                scope=consent.scope or " ".join(_signed_scopes(consent)),
                consent_date=to_dtime(as_utc(consent.signed_at)),
                consent_end_date=to_dtime(as_utc(consent.end_date)),
            )
            for consent in consents
        ]
        services = (
            [MemberService(client_id=self.settings.service_client_id, consent_cnt=len(items), consent_list=items)]
            if items
            else []
        )
        _logger.info("member consents answered", org_code=self.settings.org_code, consents=len(items))
        return MemberConsentsResponse(
            **success_envelope(), is_member=True, service_cnt=len(services), service_list=services
        ).to_wire()

    # provider registry (지원-002)

    async def sync_registry(self, session: AsyncSession, *, force: bool = False) -> None:
        """Bring the provider registry up to date from the portal; keep the old one if the portal is down."""
        now = utcnow()
        state = await repo.sync_state(session, REGISTRY_STATE)
        known = await repo.providers(session)
        fresh = (
            state is not None and (now - as_utc(state.updated_at)).total_seconds() < self.settings.registry_max_age_s
        )
        if known and fresh and not force:
            return
        try:
            response = await self.peers.portal.orgs(state.value if state is not None and known else None)
        except (PeerUnavailable, ApiCallError) as exc:
            if known:
                _logger.warning("registry sync failed, keeping the last registry", error=str(exc))
                return
            raise _peer_failure(exc) from exc
        stamp = state.value if state is not None else to_dtime(now)
        if response is not None:
            rows = []
            for entry in response.org_list:
                industry = entry.industry or ""
                if entry.op_type == "D" or (entry.org_type and entry.org_type not in PROVIDER_ORG_TYPES):
                    await repo.delete_provider(session, entry.org_code, industry or None)
                    continue
                if not entry.domain or not industry:
                    continue
                rows.append(
                    {
                        "org_code": entry.org_code,
                        "industry": industry,
                        "org_name": entry.org_name or "",
                        "org_type": entry.org_type or "01",
                        "domain": entry.domain,
                        "auth_type": entry.auth_type,
                        "relay_org_code": entry.relay_org_code,
                        "synced_at": now,
                    }
                )
            await repo.save_providers(session, rows)
            stamp = response.search_timestamp or to_dtime(now)
        await repo.save_sync_state(session, REGISTRY_STATE, stamp, now)

    async def provider_choices(self, session: AsyncSession) -> list[ProviderChoice]:
        """Providers with at least one catalogued information API, one entry per organisation."""
        grouped: dict[str, list[Provider]] = {}
        for row in await repo.providers(session):
            if self.catalogue.scopes(row.industry):
                grouped.setdefault(row.org_code, []).append(row)
        choices = []
        for org_code, rows in grouped.items():
            first = rows[0]
            choices.append(
                ProviderChoice(
                    org_code=org_code,
                    org_name=first.org_name,
                    industries=tuple(row.industry for row in rows),
                    domain=first.domain,
                    relay_org_code=first.relay_org_code,
                )
            )
        return sorted(choices, key=lambda choice: (choice.industries[0], choice.org_name, choice.org_code))

    # consent

    async def start_consent(
        self, session: AsyncSession, person: Member, org_codes: Sequence[str], flags: Mapping[str, bool]
    ) -> Approval:
        wanted = list(dict.fromkeys(org_codes))
        if not wanted:
            raise StandardError(RspCode.BAD_PARAMETER, "choose at least one provider")
        if len(wanted) > MAX_PROVIDERS_PER_CONSENT:
            raise StandardError(RspCode.BAD_PARAMETER, f"at most {MAX_PROVIDERS_PER_CONSENT} providers at once")
        await self.sync_registry(session)
        choices = {choice.org_code: choice for choice in await self.provider_choices(session)}
        unknown = [code for code in wanted if code not in choices]
        if unknown:
            raise StandardError(RspCode.BAD_PARAMETER, f"unknown provider {', '.join(unknown)}")
        now = now_kst()
        prepared = compose_consents(
            [choices[code] for code in wanted], settings=self.settings, now=now, flags=flags, catalogue=self.catalogue
        )
        sign_tx_id = new_sign_tx_id(self.settings.org_code, self.settings.ca_code, now)
        title = f"{self.settings.org_name} 전송요구 ({len(prepared)}개 기관)"
        body = sign_request_body(person.identity, prepared, sign_tx_id=sign_tx_id, title=title)
        try:
            cert_tx_id, approval_url = await self.peers.certauth.sign_request(body)
        except (PeerUnavailable, ApiCallError) as exc:
            raise _peer_failure(exc) from exc
        await repo.add_pending(
            session,
            PendingRequest(
                cert_tx_id=cert_tx_id,
                kind="sign",
                sign_tx_id=sign_tx_id,
                person_id=person.id,
                prepared=[item.to_json() for item in prepared],
                state="pending",
                created_at=utcnow(),
            ),
        )
        return Approval(cert_tx_id, approval_url)

    async def complete_consent(self, session: AsyncSession, person: Member, cert_tx_id: str) -> ConsentCompletion:
        """sign_result, then 통합인증-002 at every provider concurrently; consents and tokens stored."""
        pending = await repo.pending(session, cert_tx_id, "sign")
        if pending is None or pending.person_id != person.id or pending.state != "pending":
            raise StandardError(RspCode.BAD_PARAMETER, "unknown or completed cert_tx_id")
        try:
            status, signed = await self.peers.certauth.sign_result(
                cert_tx_id=cert_tx_id, sign_tx_id=pending.sign_tx_id or ""
            )
        except (PeerUnavailable, ApiCallError) as exc:
            raise _peer_failure(exc) from exc
        _check_sign_status(status)
        prepared = [PreparedConsent.from_json(item) for item in pending.prepared or []]
        signatures = {item.tx_id: item.signed_consent for item in signed}
        domains = {choice.org_code: choice.domain for choice in await self.provider_choices(session)}

        async def authorise(item: PreparedConsent) -> tuple[PreparedConsent, Any, str | None, str | None]:
            signature = signatures.get(item.tx_id)
            if signature is None:
                return item, None, "not signed", None
            domain = domains.get(item.org_code)
            if domain is None:
                return item, None, "not registered", None
            client = self.peers.provider(item.org_code, domain)
            tran_id = client.api.new_tran_id()
            try:
                response = await client.integrated_auth(
                    tx_id=item.tx_id,
                    ca_code=self.settings.ca_code,
                    user_ci=person.ci,
                    signed_consent=signature,
                    consent_nonce=item.nonce,
                    cert_tx_id=cert_tx_id,
                    tran_id=tran_id,
                )
            except ApiCallError as exc:
                return item, None, exc.code or f"HTTP {exc.status_code}", tran_id
            except PeerUnavailable:
                return item, None, "unavailable", tran_id
            return item, response, None, tran_id

        results = await asyncio.gather(*(authorise(item) for item in prepared))
        signed_at = utcnow()
        outcomes = []
        for item, response, error, tran_id in results:
            end_date = as_utc(item.consent.end)
            await self._audit(
                session,
                "integrated_auth",
                signed_at,
                person_id=person.id,
                org_code=item.org_code,
                tx_id=item.tx_id,
                cert_tx_id=cert_tx_id,
                ok=response is not None,
                rsp_code=RspCode.OK.value if response is not None else error,
                tran_id=tran_id,
            )
            if response is None:
                await repo.add_consent(
                    session,
                    Consent(
                        person_id=person.id,
                        org_code=item.org_code,
                        tx_id=item.tx_id,
                        consent=item.consent.to_wire(),
                        consent_nonce=item.nonce,
                        status="failed",
                        error_code=error,
                        end_date=end_date,
                        signed_at=signed_at,
                    ),
                )
                outcomes.append(ProviderOutcome(item.org_code, item.org_name, False, error=error))
                continue
            await self.record_grant(
                session,
                person.id,
                item.org_code,
                tx_id=item.tx_id,
                consent=item.consent.to_wire(),
                consent_nonce=item.nonce,
                end_date=end_date,
                is_scheduled=item.consent.is_scheduled,
                tokens=response,
                at=signed_at,
            )
            outcomes.append(ProviderOutcome(item.org_code, item.org_name, True, scope=response.scope))
        pending.state = "done"
        pending.prepared = None
        _logger.info(
            "consents completed", ok=sum(1 for o in outcomes if o.ok), failed=sum(1 for o in outcomes if not o.ok)
        )
        return ConsentCompletion(outcomes)

    async def record_grant(
        self,
        session: AsyncSession,
        person_id: int,
        org_code: str,
        *,
        tx_id: str,
        consent: Mapping[str, Any],
        consent_nonce: str | None,
        end_date: datetime,
        is_scheduled: bool,
        tokens: TokenResponse,
        at: datetime,
    ) -> None:
        """What a provider granted (통합인증-002 or 개별인증-002): the consent becomes the person's active one at that
        provider (an earlier one is superseded), the token pair is stored sealed, bound to the certificate presented
        now, and a `consent` audit entry is appended."""
        await repo.supersede_consents(session, person_id, org_code)
        await repo.add_consent(
            session,
            Consent(
                person_id=person_id,
                org_code=org_code,
                tx_id=tx_id,
                consent=dict(consent),
                consent_nonce=consent_nonce,
                status="active",
                scope=tokens.scope,
                end_date=end_date,
                signed_at=at,
            ),
        )
        await repo.save_token(
            session,
            {
                "person_id": person_id,
                "org_code": org_code,
                "access_token": self.vault.seal(tokens.access_token),
                "refresh_token": self.vault.seal(tokens.refresh_token),
                "expires_at": at + timedelta(seconds=tokens.expires_in),
                "refresh_expires_at": at + timedelta(seconds=tokens.refresh_token_expires_in),
                "scope": tokens.scope,
                "issued_at": at,
                "cert_thumbprint": self._thumbprint(),
            },
        )
        await self._audit(
            session,
            "consent",
            at,
            person_id=person_id,
            org_code=org_code,
            tx_id=tx_id,
            scopes=str(tokens.scope or "").split(),
            end_date=to_dtime(end_date),
            is_scheduled=is_scheduled,
        )

    # collection

    async def collect(
        self,
        session: AsyncSession,
        person_id: int,
        *,
        org_codes: Iterable[str] | None = None,
        api_type: str = "user-consent",
        today: date | None = None,
        now: datetime | None = None,
    ) -> dict[str, int]:
        """Collect from every provider with a live consent concurrently; returns the records held per provider.

        Consents whose end_date has passed (at `now`, default the current time) are marked "ended" and their
        providers are no longer called."""
        wanted = set(org_codes) if org_codes is not None else None
        moment = as_utc(now) if now is not None else utcnow()
        await repo.end_consents(session, moment, person_id)
        live = {consent.org_code for consent in await repo.active_consents(session, person_id, moment)}
        tokens = [
            token
            for token in await repo.tokens_of(session, person_id)
            if token.org_code in live and (wanted is None or token.org_code in wanted)
        ]
        if not tokens:
            return {}
        person_key = await self._person_key(session, person_id)
        choices = {choice.org_code: choice for choice in await self.provider_choices(session)}
        statuses = {status.org_code: status for status in await repo.statuses_of(session, person_id)}
        day = today or now_kst().date()
        jobs = []
        for token in tokens:
            choice = choices.get(token.org_code)
            granted = set(token.scope.split())
            catalogue = self.catalogue.for_profile(self.settings.provider_profiles.get(token.org_code, "financial"))
            specs = [spec for spec in catalogue.info_apis(choice.industries if choice else ()) if spec.scope in granted]
            known = await self._known(session, person_id, person_key, token.org_code, specs)
            marks = await repo.marks_of(session, person_id, person_key, token.org_code)
            since = None
            last = statuses.get(token.org_code)
            if api_type == "user-refresh" and last is not None and last.last_success is not None:
                since = as_utc(last.last_success).astimezone(now_kst().tzinfo).date()
            jobs.append(
                self._collect_one(
                    choice,
                    token.org_code,
                    specs,
                    access=self.vault.open(token.access_token),
                    refresh=self.vault.open(token.refresh_token),
                    expires_at=as_utc(token.expires_at),
                    bound_to=token.cert_thumbprint,
                    known=known,
                    marks=marks,
                    today=day,
                    since=since,
                    api_type=api_type,
                )
            )
        runs = await asyncio.gather(*jobs)
        finished = utcnow()
        for run in runs:
            await self._store_run(session, person_id, person_key, run, finished, api_type)
        return await repo.count_held_by_org(session, person_id)

    async def _known(
        self, session: AsyncSession, person_id: int, person_key: bytes, org_code: str, specs: Sequence[ApiSpec]
    ) -> dict[str, dict[tuple[str, str], dict[str, Any]]]:
        """What is already held and may serve as a source (when a provider answers 00001 for the asset list)."""
        sources = {spec.source.api_id for spec in specs if spec.source is not None}
        known: dict[str, dict[tuple[str, str], dict[str, Any]]] = {}
        if not sources:
            return known
        for asset in await repo.assets_of(session, person_id, person_key, org_code):
            if asset.api_id in sources:
                known.setdefault(asset.api_id, {})[("", asset.asset_key)] = asset.payload
        for record in await repo.records_of(session, person_id, person_key, org_code=org_code, api_ids=sources):
            known.setdefault(record.api_id, {})[(record.key, record.natural_key)] = record.payload
        return known

    async def _collect_one(
        self,
        choice: ProviderChoice | None,
        org_code: str,
        specs: list[ApiSpec],
        *,
        access: str,
        refresh: str,
        expires_at: datetime,
        bound_to: str | None,
        known: dict[str, dict[tuple[str, str], dict[str, Any]]],
        marks: dict[tuple[str, str], str],
        today: date,
        since: date | None,
        api_type: str,
    ) -> _ProviderRun:
        apis = {spec.id: spec for spec in specs}
        if choice is None:
            collection = ProviderCollection(org_code=org_code, errors=[("registry", "not registered")])
            return _ProviderRun(org_code, collection, apis=apis)
        client = self.peers.provider(org_code, choice.domain)
        refreshed = None
        # An access token bound (RFC 8705) to a certificate the operator no longer presents is refreshed first: the
        # new one is bound to the current certificate.
        thumbprint = self._thumbprint()
        if expires_at <= utcnow() + timedelta(seconds=60) or bound_to != thumbprint:
            try:
                renewed = await client.refresh(refresh)  # 개별인증-003
            except ApiCallError as exc:
                return _ProviderRun(
                    org_code, ProviderCollection(org_code=org_code, errors=[("개별인증-003", exc.code)]), apis=apis
                )
            except PeerUnavailable:
                return _ProviderRun(
                    org_code, ProviderCollection(org_code=org_code, errors=[("개별인증-003", "unavailable")]), apis=apis
                )
            access = renewed.access_token
            refreshed = (access, utcnow() + timedelta(seconds=renewed.expires_in), thumbprint)
        collection = await collect_provider(
            client.api,
            specs,
            org_code=org_code,
            token=access,
            today=today,
            known=known,
            marks=marks,
            months=self.settings.history_months,
            since=since,
            concurrency=self.settings.collection_concurrency,
            api_type=api_type,
        )
        return _ProviderRun(org_code, collection, refreshed, apis)

    async def _store_run(
        self,
        session: AsyncSession,
        person_id: int,
        person_key: bytes,
        run: _ProviderRun,
        now: datetime,
        api_type: str,
    ) -> None:
        collection = run.collection
        if run.refreshed is not None:
            access, expires, bound = run.refreshed
            await repo.update_access_token(session, person_id, run.org_code, self.vault.seal(access), expires, bound)
        for api_id, items in collection.items.items():
            spec = run.apis[api_id]
            if spec.kind is Kind.ASSET_LIST:
                await repo.save_assets(
                    session,
                    person_id,
                    person_key,
                    run.org_code,
                    api_id,
                    ((natural, payload) for (_key, natural), payload in items.items()),
                    now,
                )
            else:
                await repo.save_records(
                    session,
                    person_id,
                    person_key,
                    run.org_code,
                    api_id,
                    ((key, natural, payload) for (key, natural), payload in items.items()),
                    now,
                )
        await repo.save_marks(session, person_id, person_key, run.org_code, collection.marks)
        await repo.add_api_calls(
            session,
            [
                {
                    "at": timing.at,
                    "org_code": run.org_code,
                    "api_id": timing.api_id,
                    "api_type": api_type,
                    "status_code": timing.status_code,
                    "rsp_code": timing.rsp_code,
                    "rsp_ms": timing.rsp_ms,
                }
                for timing in collection.timings
            ],
        )
        await repo.save_status(
            session,
            {
                "person_id": person_id,
                "org_code": run.org_code,
                "state": collection.state,
                "last_attempt": now,
                "last_success": now if collection.state != "failed" else None,
                "error_code": collection.error_code,
                "record_count": collection.record_count,
            },
        )
        await self._audit(
            session,
            "collection",
            now,
            person_id=person_id,
            org_code=run.org_code,
            api_type=api_type,
            records={api_id: len(items) for api_id, items in sorted(collection.items.items())},
            state=collection.state,
            calls=collection.calls_ok,
            errors=[{"api_id": api_id, "code": code} for api_id, code in collection.errors],
        )
        _logger.info(
            "collected",
            org_code=run.org_code,
            state=collection.state,
            calls=collection.calls_ok,
            error_code=collection.error_code,
        )

    async def history(self, session: AsyncSession, person: Member) -> list[HistoryItem]:
        """What each institution sent this person and when, newest first: the audit chain's collection entries
        since the person signed up (a person id of a withdrawn person reused later never shows the old entries)."""
        names = {choice.org_code: choice.org_name for choice in await self.provider_choices(session)}
        items = []
        for at, event in await repo.collection_history(
            session, self.audit, person.id, since=as_utc(person.created_at), limit=HISTORY_LIMIT
        ):
            org_code = str(event.get("org_code", ""))
            for api_id, count in sorted((event.get("records") or {}).items()):
                if not count:
                    continue
                title = self.catalogue[api_id].title if api_id in self.catalogue else api_id
                items.append(
                    HistoryItem(
                        at=at,
                        org_code=org_code,
                        org_name=names.get(org_code, org_code),
                        api_id=api_id,
                        title=title,
                        records=int(count),
                    )
                )
        return items

    # consent lifecycle

    async def housekeeping(self, session: AsyncSession, now: datetime | None = None) -> HousekeepingReport:
        """For everyone: mark consents past their end_date "ended"; once an ended consent's holding period is over,
        delete what it covered (that provider's records, assets, sync marks, collection status and tokens), mark
        it "purged" and append a `holding_period_deleted` audit entry. The person row and other providers stay.
        Pages of `housekeeping_batch` consents; running it again changes nothing."""
        moment = as_utc(now) if now is not None else utcnow()
        ended = await repo.end_consents(session, moment)
        purged = rows = 0
        after = 0
        while True:
            page = await repo.ended_consents(session, moment, after_id=after, limit=self.settings.housekeeping_batch)
            if not page:
                break
            after = page[-1].id
            for consent in page:
                person_id = consent.person_id
                if person_id is None or holding_due(consent, self.settings) > moment:
                    continue
                if await repo.has_active_consent(session, person_id, consent.org_code):
                    # a newer consent covers this provider's data now
                    await repo.set_consent_status(session, consent.id, "superseded")
                    continue
                deleted = await repo.delete_provider_data(session, person_id, consent.org_code)
                await repo.set_consent_status(session, consent.id, "purged")
                await self._audit(
                    session,
                    "holding_period_deleted",
                    moment,
                    person_id=person_id,
                    org_code=consent.org_code,
                    rows_deleted=deleted,
                )
                purged += 1
                rows += deleted
        if ended or purged:
            _logger.info("housekeeping", consents_ended=ended, purged=purged, rows_deleted=rows)
        return HousekeepingReport(ended, purged, rows)

    # withdrawal

    async def withdraw(self, session: AsyncSession, person: Member) -> Withdrawal:
        """개별인증-004 at every provider (concurrently), then delete everything held for the person, including the
        person row with the only (wrapped) copy of their data key: sealed leftovers can no longer be opened."""
        tokens = await repo.tokens_of(session, person.id)
        choices = {choice.org_code: choice for choice in await self.provider_choices(session)}

        async def revoke(org_code: str, access: str, refresh: str) -> tuple[str, str]:
            choice = choices.get(org_code)
            if choice is None:
                return org_code, RspCode.ORG_NOT_RECOGNISED.value
            client = self.peers.provider(org_code, choice.domain)
            try:
                code = await client.revoke(access, "access_token")
                if code == RspCode.REVOKE_INVALID_TOKEN.value:
                    code = await client.revoke(refresh, "refresh_token")
            except ApiCallError as exc:
                return org_code, exc.code or f"HTTP {exc.status_code}"
            except PeerUnavailable:
                return org_code, RspCode.PROVIDER_UNAVAILABLE.value
            return org_code, code

        revoked = list(
            await asyncio.gather(
                *(
                    revoke(token.org_code, self.vault.open(token.access_token), self.vault.open(token.refresh_token))
                    for token in tokens
                )
            )
        )
        now = utcnow()
        withdrawn = await repo.withdraw_consents(session, person.id, now)
        deleted = await repo.delete_person_data(session, person.id)
        await repo.add_withdrawal_audit(
            session,
            WithdrawalAudit(
                withdrawn_at=now,
                revoked=[{"org_code": org, "rsp_code": code} for org, code in revoked],
                records_deleted=deleted,
            ),
        )
        await self._audit(
            session,
            "withdrawal",
            now,
            person_id=person.id,
            revoked=[{"org_code": org, "rsp_code": code} for org, code in revoked],
            consents_withdrawn=withdrawn,
            records_deleted=deleted,
        )
        remaining = await repo.count_held(session, person.id)
        _logger.info("person withdrew", providers=len(revoked), records_deleted=deleted)
        return Withdrawal(revoked, remaining)


def _signed_scopes(consent: Consent) -> list[str]:
    """The scopes of the signed 전송요구 (when the provider's token response named none)."""
    payload = consent.consent if isinstance(consent.consent, dict) else {}
    targets = payload.get("target_info") or []
    return [str(item["scope"]) for item in targets if isinstance(item, dict) and item.get("scope")]


def _check_sign_status(status: str) -> None:
    if status == SIGN_DONE:
        return
    if status == SIGN_PENDING:
        raise StandardError(RspCode.INVALID_CALL, "approval pending at the certification authority")
    if status == SIGN_REJECTED:
        raise StandardError(RspCode.CERT_CHECK_FAILED, "the person rejected the request")
    if status == SIGN_EXPIRED:
        raise StandardError(RspCode.CERT_CHECK_FAILED, "the request expired")
    raise StandardError(RspCode.PROCESSING_FAILED, f"unknown sign_status {status}")
