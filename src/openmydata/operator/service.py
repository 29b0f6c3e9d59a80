"""The operator's business rules: sign-up through identity verification, consent (전송요구) composition and
signature, 통합인증-002 at every chosen provider, collection, and withdrawal.

Functions take the request's session and never commit; HTTP calls to several peers run concurrently, database
writes happen afterwards on the one session.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from openmydata.kit import ids
from openmydata.kit.audit import AuditChain
from openmydata.kit.clock import KST, as_utc, now_kst, parse_date, parse_dtime, to_dtime, utcnow
from openmydata.kit.db import Database
from openmydata.kit.errors import PeerUnavailable
from openmydata.kit.jobs import JobQueue, JobStatus
from openmydata.kit.logging import get_logger
from openmydata.kit.resilience import Backoff, Breakers, RateLimiter, TokenBucket
from openmydata.kit.tls import TlsIdentity
from openmydata.operator import repository as repo
from openmydata.operator.clients import CertAuthClient, PortalClient, ProviderClient
from openmydata.operator.collector import (
    OUTSIDE_WINDOW,
    UNAVAILABLE,
    CallGuard,
    Due,
    Mark,
    ProviderCollection,
    RangePolicy,
    TokenHolder,
    collect_provider,
)
from openmydata.operator.keyring import Keyring
from openmydata.operator.labels import freshness_reason
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
from openmydata.standard.schedule import SCHEDULED_LONG_RANGE_APIS, Cycle, Windows, cycle_for
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
    """The outbound clients of one running operator. Providers are called through `provider_http(base_url)` when
    given: one small connection pool per provider, so that fifty institutions fetched at once neither queue for one
    shared pool's connections nor make each request scan all of them."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        settings: OperatorSettings,
        provider_http: Callable[[str], httpx.AsyncClient] | None = None,
    ):
        self.http = http
        self.provider_http = provider_http or (lambda _base_url: http)
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
            self.provider_http(base_url),
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
    np_times: tuple[str, ...] = ()  # its scheduled-transmission windows (hhmm:hhmm), empty when none published


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
    jobs: list[int] = field(default_factory=list)  # the first collection's jobs (one per provider that granted)

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
class WithdrawnInstitution:
    org_code: str
    rsp_code: str  # the provider's answer to 개별인증-004, or why it could not be asked
    records_deleted: int


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


COLLECT_JOB = "collect"
# A waiting person first (kit.jobs runs lower numbers first): right after consent, then a pull-to-refresh, then the
# scheduled refreshes (정기적 전송).
COLLECT_PRIORITY = {"user-consent": 10, "user-search": 15, "user-refresh": 20, "scheduled": 100}
NOT_REGISTERED = "not-registered"


def provider_windows(np_times: Iterable[str]) -> Windows:
    """A provider's scheduled-transmission windows as 지원-002 published them. Windows that do not parse are not
    enforceable: the provider's own refusal (50009, with Retry-After) then says when to come back."""
    try:
        return Windows.parse(list(np_times))
    except ValueError:
        _logger.warning("unreadable scheduled-transmission windows ignored")
        return Windows()


def person_group(person_id: int) -> str:
    """The job group of one person's collections (progress, cancellation at withdrawal)."""
    return f"person:{person_id}"


@dataclass(frozen=True)
class InstitutionRun:
    """What one collection at one provider came to. `retry_after_s` is set when another attempt may succeed
    (the provider was unreachable, answered 5xx/429/503, its circuit is open, or its windows are closed): the job
    is retried then (0 = after the queue's back-off)."""

    org_code: str
    state: str  # ok | partial | failed | skipped (no live consent, withdrawn) | deferred (windows closed)
    records: int = 0  # records and assets held for the person at this provider afterwards
    fetched: int = 0  # objects received in this run
    error_code: str | None = None
    retry_after_s: float | None = None


@dataclass(frozen=True)
class InstitutionProgress:
    """One provider's collection as the person sees it."""

    org_code: str
    org_name: str
    phase: str  # idle | queued | running | retrying | done | failed
    fresh: bool
    reason: str  # why the data is not fresh ("" when it is)
    last_success: datetime | None
    last_attempt: datetime | None
    next_attempt: datetime | None
    records: int
    error_code: str | None
    attempts: int


JOB_WAIT_POLL_S = 0.05


def cycle_slot_start(cycle: Cycle, moment: datetime) -> datetime:
    """The start of the slot of `cycle` containing `moment`: a cycle of n per period splits its calendar period
    (day; week from Sunday; month, Asia/Seoul) into n equal slots, one scheduled transmission each."""
    start = cycle.period_start(moment)
    if cycle.count <= 1:
        return start
    length = (cycle.next_period_start(moment) - start) / cycle.count
    return start + length * int((moment - start) / length)


def scheduled_due(terms: Mapping[str, Any], marks: Mapping[tuple[str, str], Mark], now: datetime) -> Due:
    """Which (API, key) a scheduled collection may ask for now: those not transmitted on a scheduled call since
    the start of the current slot of the consent's cycle for that API's class (fnd_cycle for 기본, add_cycle for
    추가) — at most once a week per asset and API under the standard's default 1/w (digest §10.4)."""
    try:
        cycle = TransmissionCycle.model_validate(terms.get("cycle") or {})
    except ValueError:
        cycle = TransmissionCycle()

    def due(spec: ApiSpec, key: str) -> bool:
        mark = marks.get((spec.id, key))
        if mark is None or mark.scheduled_at is None:
            return True
        return mark.scheduled_at < cycle_slot_start(cycle_for(spec, cycle), now)

    return due


def consent_slot(terms: Mapping[str, Any], now: datetime) -> datetime:
    """The latest slot start among the consent's two cycles: a scheduled collection is due once per such slot."""
    try:
        cycle = TransmissionCycle.model_validate(terms.get("cycle") or {})
    except ValueError:
        cycle = TransmissionCycle()
    return max(cycle_slot_start(Cycle.parse(text), now) for text in (cycle.fnd_cycle, cycle.add_cycle))


def _mark_updates(
    collection: ProviderCollection, api_type: str, now: datetime
) -> dict[tuple[str, str], dict[str, Any]]:
    """Per (API, key): the new search_timestamp, the end of the range fetched, and — for a scheduled call answered
    successfully — the time of that transmission."""
    updates: dict[tuple[str, str], dict[str, Any]] = {}
    for item, stamp in collection.marks.items():
        updates.setdefault(item, {})["search_timestamp"] = stamp
    for item, end in collection.fetched.items():
        if end:
            updates.setdefault(item, {})["fetched_to"] = end
    if api_type == "scheduled":
        for item in collection.transmitted:
            updates.setdefault(item, {})["scheduled_at"] = now
    return updates


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
        limiter: RateLimiter | None = None,
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
        # Collection: the durable job queue (set by the runtime that owns it), each institution's rate limit
        # (shared through Redis when several processes collect), circuit breaker and retry policy.
        self.jobs: JobQueue | None = None
        self.limiter: RateLimiter = limiter or TokenBucket(
            settings.provider_rate_per_s, settings.provider_burst, rates=settings.provider_rates
        )
        self.breakers = Breakers(failure_threshold=settings.breaker_failures, reset_timeout_s=settings.breaker_reset_s)
        self.backoff = Backoff(
            base_s=settings.retry_base_s, max_s=settings.retry_max_s, max_attempts=settings.retry_attempts
        )
        self.range_policy = RangePolicy(
            months=settings.history_months,
            scheduled_days=settings.scheduled_history_days,
            scheduled_months=settings.scheduled_history_months,
            long_range_apis=frozenset(SCHEDULED_LONG_RANGE_APIS),
            scheduled_period_months=settings.scheduled_period_months,
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
                        "np_times": [item.np_time for item in entry.np_time_list or []] or None,
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
                    np_times=tuple(first.np_times or ()),
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
        # The first collection (x-api-type user-consent) of every provider that granted: durable jobs that run once
        # this transaction commits, all providers at once.
        completion = ConsentCompletion(outcomes)
        jobs = await self.enqueue_collections(session, person.id, completion.authorised, api_type="user-consent")
        _logger.info(
            "consents completed", ok=sum(1 for o in outcomes if o.ok), failed=sum(1 for o in outcomes if not o.ok)
        )
        return ConsentCompletion(outcomes, jobs)

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
                is_scheduled=is_scheduled,
                # The first collection (user-consent, enqueued with the grant) fetches everything in the slot the
                # consent is given in: scheduled transmission starts with the next slot, instead of asking the
                # same data again moments later.
                scheduled_through=consent_slot(consent, at) if is_scheduled else None,
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

    def collect_specs(self, choice: ProviderChoice | None, org_code: str, scope: str) -> list[ApiSpec]:
        """The information APIs of the provider's industries (in its standard's profile) that the token's scope
        covers."""
        granted = set(scope.split())
        catalogue = self.catalogue.for_profile(self.settings.provider_profiles.get(org_code, "financial"))
        return [spec for spec in catalogue.info_apis(choice.industries if choice else ()) if spec.scope in granted]

    async def enqueue_collections(
        self,
        session: AsyncSession,
        person_id: int,
        org_codes: Iterable[str],
        *,
        api_type: str,
        not_before: datetime | None = None,
    ) -> list[int]:
        """One durable collection job per provider (kit.jobs), in the caller's transaction: the jobs run once it
        commits. A live job of the same x-api-type for the same person and provider is not enqueued twice."""
        if self.jobs is None:
            raise RuntimeError("the operator's job queue is not set up")
        ids = []
        for org_code in dict.fromkeys(org_codes):
            job_id = await self.jobs.enqueue(
                session,
                COLLECT_JOB,
                {"person_id": person_id, "org_code": org_code, "api_type": api_type},
                group_key=person_group(person_id),
                dedup_key=f"collect:{api_type}:{person_id}:{org_code}",
                not_before=not_before,
                priority=COLLECT_PRIORITY.get(api_type, 100),
            )
            if job_id is not None:
                ids.append(job_id)
        return ids

    async def live_org_codes(self, session: AsyncSession, person_id: int, now: datetime | None = None) -> list[str]:
        """Providers the person holds a live consent and tokens at (consents past their end are marked ended)."""
        moment = as_utc(now) if now is not None else utcnow()
        await repo.end_consents(session, moment, person_id)
        live = {consent.org_code for consent in await repo.active_consents(session, person_id, moment)}
        return [token.org_code for token in await repo.tokens_of(session, person_id) if token.org_code in live]

    async def collect(
        self,
        db: Database,
        person_id: int,
        *,
        org_codes: Iterable[str] | None = None,
        api_type: str = "user-consent",
        today: date | None = None,
        now: datetime | None = None,
    ) -> dict[str, int]:
        """Collect from every provider the person has a live consent at, concurrently, here and now (what the
        collection jobs do one provider each); returns the records held per provider."""
        wanted = set(org_codes) if org_codes is not None else None
        async with db.transaction() as session:
            live = await self.live_org_codes(session, person_id, now)
        await asyncio.gather(
            *(
                self.collect_institution(db, person_id, org, api_type=api_type, today=today, now=now)
                for org in live
                if wanted is None or org in wanted
            )
        )
        async with db.transaction() as session:
            return await repo.count_held_by_org(session, person_id)

    async def collect_institution(
        self,
        db: Database,
        person_id: int,
        org_code: str,
        *,
        api_type: str,
        today: date | None = None,
        now: datetime | None = None,
    ) -> InstitutionRun:
        """One person's data at one provider: read what is needed (one transaction), fetch over the wire (none),
        store what came back (another). Safe to run twice: every write is an upsert on the standard's natural keys.

        A scheduled run (정기적 전송) fetches only the (API, key) pairs due in the consent's cycle, only inside the
        provider's registered windows (지원-002), with the scheduled history ranges (digest §10.4)."""
        moment = as_utc(now) if now is not None else utcnow()
        day = today or moment.astimezone(KST).date()
        async with db.transaction() as session:
            consent = await repo.active_consent(session, person_id, org_code, moment)
            token = await repo.token_of(session, person_id, org_code)
            person = await repo.person_by_id(session, person_id)
            if consent is None or token is None or person is None:
                return InstitutionRun(org_code, "skipped")
            person_key = await self.keyring.person_key(person)
            choice = next((c for c in await self.provider_choices(session) if c.org_code == org_code), None)
            specs = self.collect_specs(choice, org_code, token.scope)
            known = await self._known(session, person_id, person_key, org_code, specs)
            marks = await repo.marks_of(session, person_id, person_key, org_code)
            status = await repo.status_of(session, person_id, org_code)
            access, refresh = self.vault.open(token.access_token), self.vault.open(token.refresh_token)
            expires_at, bound_to = as_utc(token.expires_at), token.cert_thumbprint
            terms = consent.consent if isinstance(consent.consent, dict) else {}
        if choice is None:
            failure = ProviderCollection(org_code=org_code, errors=[("registry", NOT_REGISTERED)])
            return await self._store_run(db, person_id, org_code, [], failure, moment, api_type)
        due: Due | None = None
        if api_type == "scheduled":
            windows = provider_windows(choice.np_times)
            if not windows.contains(moment):
                # The provider's scheduled-transmission windows are closed: nothing is sent now (it would be 50009).
                wait = (windows.next_open(moment) - moment).total_seconds()
                return InstitutionRun(org_code, "deferred", error_code=OUTSIDE_WINDOW, retry_after_s=max(1.0, wait))
            due = scheduled_due(terms, marks, moment)
        since = None
        if api_type == "user-refresh" and status is not None and status.last_success is not None:
            since = as_utc(status.last_success).astimezone(KST).date()
        client = self.peers.provider(org_code, choice.domain)
        renewal: dict[str, datetime] = {}

        async def renew() -> str:
            renewed = await client.refresh(refresh)  # 개별인증-003
            renewal["expires_at"] = utcnow() + timedelta(seconds=renewed.expires_in)
            return renewed.access_token

        holder = TokenHolder(access, renew)
        thumbprint = self._thumbprint()
        collection: ProviderCollection | None = None
        # An access token about to expire, or bound (RFC 8705) to a certificate the operator no longer presents, is
        # refreshed first: the new one is bound to the current certificate.
        if expires_at <= moment + timedelta(seconds=60) or bound_to != thumbprint:
            try:
                await holder.renew(access)
            except ApiCallError as exc:
                collection = ProviderCollection(org_code, errors=[("개별인증-003", exc.code or str(exc.status_code))])
            except PeerUnavailable:
                collection = ProviderCollection(org_code, errors=[("개별인증-003", UNAVAILABLE)])
        if collection is None:
            collection = await collect_provider(
                client.api,
                specs,
                org_code=org_code,
                token=holder,
                today=day,
                known=known,
                marks=marks,
                months=self.settings.history_months,
                since=since,
                concurrency=self.settings.collection_concurrency,
                api_type=api_type,
                policy=self.range_policy,
                due=due,
                guard=CallGuard(self.limiter, self.breakers.get(org_code), self.backoff),
            )
        renewed = (holder.token, renewal["expires_at"], thumbprint) if "expires_at" in renewal else None
        return await self._store_run(
            db, person_id, org_code, specs, collection, moment, api_type, renewed, person_key=person_key
        )

    async def collection_progress(
        self, session: AsyncSession, person_id: int, now: datetime | None = None
    ) -> list[InstitutionProgress]:
        """Per provider the person is connected to: where its collection job is (queued, running, waiting to retry,
        done, failed), whether the data held is fresh, and if not, why."""
        moment = as_utc(now) if now is not None else utcnow()
        names = {choice.org_code: choice.org_name for choice in await self.provider_choices(session)}
        statuses = {status.org_code: status for status in await repo.statuses_of(session, person_id)}
        live = [consent.org_code for consent in await repo.active_consents(session, person_id, moment)]
        latest: dict[str, JobStatus] = {}
        if self.jobs is not None:
            since = moment - timedelta(seconds=self.settings.stale_after_s)
            for job in await self.jobs.group_status(session, person_group(person_id), since=since):
                org = str(job.payload.get("org_code", ""))
                if job.kind == COLLECT_JOB and job.state != "cancelled":
                    latest[org] = job  # oldest first: the last one wins
        progress = []
        for org_code in dict.fromkeys([*live, *statuses]):
            status = statuses.get(org_code)
            current = latest.get(org_code)
            phase = "idle"
            next_attempt = None
            if current is not None:
                phase = {"running": "running", "done": "done", "failed": "failed"}.get(current.state, "queued")
                if current.state == "pending" and current.attempts > 0:
                    phase, next_attempt = "retrying", as_utc(current.not_before)
            last_success = as_utc(status.last_success) if status and status.last_success else None
            code = status.error_code if status else None
            fresh = (
                status is not None
                and status.state == "ok"
                and last_success is not None
                and moment - last_success <= timedelta(seconds=self.settings.stale_after_s)
            )
            reason = freshness_reason(
                fresh=fresh,
                received=status is not None,
                code=code,
                days=(moment - last_success).days if last_success else 0,
            )
            progress.append(
                InstitutionProgress(
                    org_code=org_code,
                    org_name=names.get(org_code, org_code),
                    phase=phase,
                    fresh=fresh,
                    reason=reason,
                    last_success=last_success,
                    last_attempt=as_utc(status.last_attempt) if status else None,
                    next_attempt=next_attempt,
                    records=status.record_count if status else 0,
                    error_code=code,
                    attempts=current.attempts if current else 0,
                )
            )
        return progress

    async def wait_for_jobs(
        self, db: Database, person_id: int, job_ids: Iterable[int], timeout_s: float
    ) -> float | None:
        """Wait, at most `timeout_s`, until every given job of the person has been attempted: finished (done,
        failed, cancelled) or waiting to be retried (an institution that is down is retried in the background,
        the person need not wait for it). Returns the milliseconds from the first job's creation to the last
        attempt's end, or None when some were not attempted in time."""
        wanted = set(job_ids)
        if not wanted or self.jobs is None:
            return None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while True:
            async with db.transaction() as session:
                rows = [
                    job for job in await self.jobs.group_status(session, person_group(person_id)) if job.id in wanted
                ]
            checked = utcnow()
            ends = [
                as_utc(job.finished_at) if job.finished_at is not None else checked
                for job in rows
                if job.state in ("done", "failed", "cancelled") or (job.state == "pending" and job.attempts > 0)
            ]
            if len(ends) == len(wanted):
                start = min(as_utc(job.created_at) for job in rows)
                return round((max(ends) - start).total_seconds() * 1000, 1)
            if loop.time() >= deadline:
                return None
            await asyncio.sleep(JOB_WAIT_POLL_S)

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

    async def _store_run(
        self,
        db: Database,
        person_id: int,
        org_code: str,
        specs: Sequence[ApiSpec],
        collection: ProviderCollection,
        started: datetime,
        api_type: str,
        renewed: tuple[str, datetime, str | None] | None = None,
        person_key: bytes | None = None,
    ) -> InstitutionRun:
        """Store one provider's collection in one transaction — unless the person withdrew or the consent ended
        meanwhile, in which case nothing is kept. The rows are sealed before the transaction opens, so it holds the
        database's write lock (SQLite) only for the writes. Transient failures (unreachable, 5xx, 429, a circuit
        open) ask for another attempt (`retry_after_s`)."""
        apis = {spec.id: spec for spec in specs}
        now = utcnow()
        assets: list[dict[str, Any]] = []
        records: list[dict[str, Any]] = []
        marks: list[dict[str, Any]] = []
        if person_key is not None:
            for api_id, items in collection.items.items():
                if apis[api_id].kind is Kind.ASSET_LIST:
                    assets += repo.asset_rows(
                        person_id,
                        person_key,
                        org_code,
                        api_id,
                        ((natural, payload) for (_key, natural), payload in items.items()),
                        now,
                    )
                else:
                    records += repo.record_rows(
                        person_id,
                        person_key,
                        org_code,
                        api_id,
                        ((key, natural, payload) for (key, natural), payload in items.items()),
                        now,
                    )
            marks = repo.mark_rows(person_id, person_key, org_code, _mark_updates(collection, api_type, now))
        calls = [
            {
                "at": timing.at,
                "org_code": org_code,
                "api_id": timing.api_id,
                "api_type": api_type,
                "status_code": timing.status_code,
                "rsp_code": timing.rsp_code,
                "rsp_ms": timing.rsp_ms,
            }
            for timing in collection.timings
        ]
        failed = collection.state == "failed"
        async with db.write_transaction() as session:
            if (
                not await repo.person_exists(session, person_id)
                or await repo.active_consent(session, person_id, org_code, started) is None
            ):
                return InstitutionRun(org_code, "skipped")
            if renewed is not None:
                access, expires, bound = renewed
                await repo.update_access_token(session, person_id, org_code, self.vault.seal(access), expires, bound)
            await repo.write_assets(session, assets)
            await repo.write_records(session, records)
            await repo.write_marks(session, marks)
            await repo.add_api_calls(session, calls)
            held = await repo.count_held_at(session, person_id, org_code)
            await repo.save_status(
                session,
                {
                    "person_id": person_id,
                    "org_code": org_code,
                    "state": collection.state,
                    "last_attempt": now,
                    "last_success": now if not failed else None,
                    "error_code": collection.error_code,
                    "record_count": held,
                    "api_type": api_type,
                },
                failed=bool(collection.errors),
            )
            await self._audit(
                session,
                "collection",
                now,
                person_id=person_id,
                org_code=org_code,
                api_type=api_type,
                records={api_id: len(items) for api_id, items in sorted(collection.items.items())},
                state=collection.state,
                calls=collection.calls_ok,
                errors=[{"api_id": api_id, "code": code} for api_id, code in collection.errors],
            )
        _logger.info(
            "collected",
            org_code=org_code,
            api_type=api_type,
            state=collection.state,
            calls=collection.calls_ok,
            error_code=collection.error_code,
        )
        retry = None
        if collection.transient:
            retry = collection.retry_after_s if collection.retry_after_s is not None else 0.0
        return InstitutionRun(
            org_code,
            collection.state,
            records=held,
            fetched=collection.record_count,
            error_code=collection.error_code,
            retry_after_s=retry,
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

    async def _revoke_at(
        self, choices: Mapping[str, ProviderChoice], org_code: str, access: str, refresh: str
    ) -> tuple[str, str]:
        """개별인증-004 at one provider: the access token, or (when that one is no longer valid) the refresh token;
        (org_code, the provider's rsp_code or why it could not be asked)."""
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

    async def withdraw_institution(self, session: AsyncSession, person: Member, org_code: str) -> WithdrawnInstitution:
        """Withdraw the consent at one provider: 개별인증-004 there, the consent marked withdrawn and what was
        collected from that provider deleted; the person's other providers and data stay."""
        now = utcnow()
        token = await repo.token_of(session, person.id, org_code)
        if token is None and not await repo.has_active_consent(session, person.id, org_code):
            raise StandardError(RspCode.BAD_PARAMETER, "no consent at this provider")
        code = RspCode.OK.value
        if token is not None:
            choices = {choice.org_code: choice for choice in await self.provider_choices(session)}
            _, code = await self._revoke_at(
                choices, org_code, self.vault.open(token.access_token), self.vault.open(token.refresh_token)
            )
        withdrawn = await repo.withdraw_consents(session, person.id, now, org_code=org_code)
        deleted = await repo.delete_provider_data(session, person.id, org_code)
        await self._audit(
            session,
            "withdrawal_institution",
            now,
            person_id=person.id,
            org_code=org_code,
            rsp_code=code,
            consents_withdrawn=withdrawn,
            records_deleted=deleted,
        )
        _logger.info("consent withdrawn at one provider", org_code=org_code, rsp_code=code, records_deleted=deleted)
        return WithdrawnInstitution(org_code, code, deleted)

    async def withdraw(self, session: AsyncSession, person: Member) -> Withdrawal:
        """개별인증-004 at every provider (concurrently), then delete everything held for the person, including the
        person row with the only (wrapped) copy of their data key: sealed leftovers can no longer be opened."""
        tokens = await repo.tokens_of(session, person.id)
        choices = {choice.org_code: choice for choice in await self.provider_choices(session)}
        revoke = partial(self._revoke_at, choices)
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
        if self.jobs is not None:
            # No collection runs for the person any more; one already running stores nothing (see _store_run).
            await self.jobs.cancel_group(session, person_group(person.id))
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
