"""The CA's rules: enrolment, CA tokens, identity and sign requests, the person's approval with a PIN, signed
consents (CMS SignedData over exactly the consent text the operator sent) and sign verification. Never commits.

Request states: 01 pending, 02 done, 03 rejected (by the person, or after too many wrong PINs), 04 expired
(`request_lifetime_s` after the request, checked whenever the request is read).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from openmydata.certauth.clients import PortalClient
from openmydata.certauth.models import (
    KIND_IDENTITY,
    KIND_SIGN,
    STATUS_DONE,
    STATUS_EXPIRED,
    STATUS_PENDING,
    STATUS_REJECTED,
    CaToken,
    CertRequest,
    Person,
    RegisteredOrg,
    SignedConsent,
    audit_head,
    audit_log,
)
from openmydata.certauth.repository import CertAuthRepository
from openmydata.certauth.schemas import (
    CaTokenResponse,
    CertTxResponse,
    IdentityRequest,
    IdentityResultRequest,
    IdentityResultResponse,
    PersonIn,
    SignedConsentItem,
    SignRequest,
    SignResultRequest,
    SignResultResponse,
    SignVerificationRequest,
    SignVerificationResponse,
)
from openmydata.certauth.security import (
    CA_SCOPE,
    TokenSigner,
    hash_pin,
    hash_secret,
    normalise_phone,
    pin_matches,
    secret_matches,
)
from openmydata.certauth.settings import CertAuthSettings
from openmydata.kit import cms, ids, pki
from openmydata.kit import logging as log
from openmydata.kit.audit import AuditChain
from openmydata.kit.clock import KST, as_utc, parse_dtime, to_dtime
from openmydata.kit.errors import OAuthError, PeerUnavailable, ServiceError
from openmydata.standard.apis.support import CaOrgEntry
from openmydata.standard.client import ApiCallError
from openmydata.standard.codes import RspCode, StandardError, success_envelope
from openmydata.standard.consent import ALL_ASSETS, decode_signed_content
from openmydata.standard.oauth import client_credentials_request
from openmydata.standard.peers import Peer

_logger = log.get_logger("openmydata.certauth")

Clock = Callable[[], datetime]

STATUS_LABELS = {STATUS_PENDING: "대기", STATUS_DONE: "완료", STATUS_REJECTED: "거절", STATUS_EXPIRED: "만료"}


class UnknownTransactionError(ServiceError):
    """A cert_tx_id this CA did not issue to the caller (40402-like)."""

    def __init__(self) -> None:
        super().__init__(404, RspCode.ASSET_INVALID.value, "존재하지 않는 인증 거래입니다 (cert_tx_id)")


@dataclass(frozen=True)
class Runtime:
    """What every request of the CA shares: the root, token signer, settings, clock and the portal client."""

    authority: pki.CertificateAuthority
    signer: TokenSigner
    settings: CertAuthSettings
    clock: Clock
    portal: PortalClient | None
    audit: AuditChain = field(default_factory=lambda: AuditChain(audit_log, audit_head))


class Outcome(StrEnum):
    APPROVED = "approved"
    REJECTED = "rejected"
    WRONG_PIN = "wrong_pin"
    LOCKED = "locked"  # too many wrong PINs: the request is rejected
    NOT_PENDING = "not_pending"
    PIN_REQUIRED = "pin_required"


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    status: str
    attempts_left: int
    message: str


@dataclass(frozen=True)
class ConsentView:
    title: str
    text: str
    provider: str | None = None
    scopes: list[str] = field(default_factory=list)
    end_date: str | None = None
    purpose: str | None = None
    holding_period: str | None = None
    scheduled: bool | None = None
    sensitive: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ApprovalView:
    cert_tx_id: str
    kind: str
    status: str
    status_label: str
    title: str
    requester: str
    expires_at: str
    attempts_left: int
    consents: list[ConsentView]


def _display_date(dtime: str) -> str:
    moment = parse_dtime(dtime)
    return f"{moment.year}년 {moment.month}월 {moment.day}일"


def _display_time(moment: datetime) -> str:
    local = moment.astimezone(KST)
    return f"{local.year}년 {local.month}월 {local.day}일 {local.hour:02d}:{local.minute:02d}"


SENSITIVE_LABELS = {
    "is_consent_trans_memo": "거래 적요",
    "is_consent_merchant_name_regno": "가맹점명·사업자등록번호",
    "is_consent_trans_category": "주문내역·카테고리",
}


def decode_signed_text(text: str) -> bytes:
    """URL-safe (or standard) Base64, with or without padding."""
    padded = text + "=" * (-len(text) % 4)
    return base64.b64decode(padded.replace("-", "+").replace("_", "/"), validate=True)


class CertAuthService:
    def __init__(self, repository: CertAuthRepository, runtime: Runtime, *, tran_id: str | None = None):
        self.repo = repository
        self.rt = runtime
        self.settings = runtime.settings
        self.tran_id = tran_id

    async def _audit(self, kind: str, **event: Any) -> None:
        """One audit entry in the request's transaction. Internal ids only (person_id, cert_tx_id, tx_id,
        org_code), never a CI, name, phone number or birth date."""
        if self.tran_id is not None:
            event["tran_id"] = self.tran_id
        await self.rt.audit.append(self.repo.session, kind, event, at=self.rt.clock())

    async def _audit_request(self, suffix: str, request: CertRequest, **event: Any) -> None:
        """`identity_<suffix>` or `sign_<suffix>` for one request."""
        await self._audit(
            f"{request.kind}_{suffix}",
            cert_tx_id=request.cert_tx_id,
            org_code=request.org_code,
            person_id=request.person_id,
            **event,
        )

    # ----- admin -----
    async def enrol(self, persons: list[PersonIn]) -> int:
        now = self.rt.clock()
        for item in persons:
            key, certificate = self.rt.authority.issue_person(item.ci, not_before=now)
            pin_hash = await asyncio.to_thread(hash_pin, item.pin, self.settings.pin_kdf_cost)
            values: dict[str, Any] = {
                "name": item.name,
                "birth_date": item.birth_date,
                "phone": normalise_phone(item.phone),
                "pin_hash": pin_hash,
                # The person's key is usable only with their PIN.
                "key_pem": pki.key_to_pem(key, item.pin.encode("utf-8")).decode("ascii"),
                "cert_pem": pki.cert_to_pem(certificate).decode("ascii"),
                "cert_serial": format(certificate.serial_number, "x"),
                "revoked": False,
                "updated_at": now,
            }
            person = await self.repo.person_by_ci(item.ci)
            if person is None:
                person = Person(ci=item.ci, created_at=now, **values)
            else:
                # Re-enrolment issues a new key and certificate; signatures under the old one stop verifying.
                for name, value in values.items():
                    setattr(person, name, value)
            await self.repo.add(person)
        _logger.info("persons enrolled", count=len(persons))
        return len(persons)

    async def revoke(self, ci: str) -> bool:
        person = await self.repo.person_by_ci(ci)
        if person is None:
            return False
        person.revoked = True
        person.updated_at = self.rt.clock()
        await self.repo.add(person)
        return True

    # ----- registry (지원-006) -----
    async def store_registry(self, entries: list[CaOrgEntry]) -> None:
        now = self.rt.clock()
        known = {org.org_code: org for org in await self.repo.orgs()}
        listed = set()
        for entry in entries:
            listed.add(entry.org_code)
            org = known.get(entry.org_code) or RegisteredOrg(org_code=entry.org_code)
            org.org_type = entry.org_type
            org.org_name = entry.org_name
            org.ca_client_id = entry.ca_client_id
            org.ca_secret_hash = hash_secret(entry.ca_client_secret)
            org.synced_at = now
            await self.repo.add(org)
        await self.repo.remove_orgs(set(known) - listed)

    async def sync_registry(self, *, force: bool = False) -> bool:
        """Re-read the registry from the portal; False when there is no portal, it was read too recently, or
        the portal could not be read."""
        if self.rt.portal is None:
            return False
        try:
            entries = await self.rt.portal.ca_orgs(force=force)
        except (PeerUnavailable, ApiCallError) as exc:
            _logger.warning("portal registry unavailable", error=str(exc))
            return False
        if entries is None:
            return False
        await self.store_registry(entries)
        return True

    # ----- CA token -----
    async def issue_token(
        self,
        grant_type: str | None,
        client_id: str | None,
        client_secret: str | None,
        scope: str | None,
        peer: Peer | None = None,
    ) -> dict[str, Any]:
        client_id, client_secret = client_credentials_request(grant_type, client_id, client_secret)
        org = await self.repo.org_by_client_id(client_id)
        if org is None and await self.sync_registry():
            org = await self.repo.org_by_client_id(client_id)
        if org is None or not secret_matches(client_secret, org.ca_secret_hash):
            raise OAuthError("invalid_client", "unknown client or wrong secret", status_code=401)
        if peer is not None and org.org_code not in peer.org_codes:
            raise OAuthError(
                "unauthorized_client", "the client certificate is not registered for this organisation", status_code=401
            )
        if scope != CA_SCOPE:
            raise OAuthError("invalid_scope", "the CA grants scope ca only")
        now = self.rt.clock()
        lifetime = timedelta(seconds=self.settings.token_lifetime_s)
        jti = ids.alnum(32)
        await self.repo.add(CaToken(jti=jti, org_code=org.org_code, issued_at=now, expires_at=now + lifetime))
        _logger.info("ca token issued", org_code=org.org_code)
        return CaTokenResponse(
            token_type="Bearer",
            access_token=self.rt.signer.issue(org.org_code, jti, now, lifetime),
            expires_in=int(lifetime.total_seconds()),
            scope=CA_SCOPE,
        ).to_wire()

    async def authenticate(self, authorization: str | None, peer: Peer | None = None) -> RegisteredOrg:
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise StandardError(RspCode.INVALID_TOKEN, "Bearer token required", {"WWW-Authenticate": "Bearer"})
        claims = self.rt.signer.verify(token.strip(), self.rt.clock())
        invalid = StandardError(RspCode.INVALID_TOKEN, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
        if claims is None:
            raise invalid
        if claims.scope != CA_SCOPE:
            raise StandardError(RspCode.SCOPE_NOT_GRANTED, "scope ca required")
        issued = await self.repo.token(claims.jti)
        org = await self.repo.org(claims.org_code)
        if issued is None or org is None:
            raise invalid
        if peer is not None and org.org_code not in peer.org_codes:
            raise StandardError(RspCode.CERT_CHECK_FAILED, "the client certificate belongs to another organisation")
        return org

    # ----- requests -----
    def _new_cert_tx_id(self, now: datetime) -> str:
        return f"{self.settings.org_code}{to_dtime(now)}{ids.upper_alnum(16)}"

    def _approval_url(self, cert_tx_id: str) -> str:
        return f"{self.settings.public_url.rstrip('/')}/approve/{cert_tx_id}"

    def _new_request(self, kind: str, caller: RegisteredOrg, person: Person, title: str, **extra: Any) -> CertRequest:
        now = self.rt.clock()
        return CertRequest(
            cert_tx_id=self._new_cert_tx_id(now),
            kind=kind,
            org_code=caller.org_code,
            person_id=person.id,
            status=STATUS_PENDING,
            request_title=title,
            pin_failures=0,
            created_at=now,
            expires_at=now + timedelta(seconds=self.settings.request_lifetime_s),
            completed_at=None,
            **extra,
        )

    async def _current(self, request: CertRequest) -> CertRequest:
        if request.status == STATUS_PENDING and self.rt.clock() >= as_utc(request.expires_at):
            request.status = STATUS_EXPIRED
            request.completed_at = self.rt.clock()
            await self.repo.add(request)
            await self._audit_request("expired", request, status=STATUS_EXPIRED)
        return request

    async def _own_request(self, caller: RegisteredOrg, cert_tx_id: str, kind: str) -> CertRequest:
        request = await self.repo.request(cert_tx_id)
        if request is None or request.kind != kind or request.org_code != caller.org_code:
            raise UnknownTransactionError()
        return await self._current(request)

    async def identity_request(self, caller: RegisteredOrg, body: IdentityRequest) -> dict[str, Any]:
        candidates = await self.repo.persons_by_identity(
            body.real_name, body.birth_date, normalise_phone(body.phone_num)
        )
        person = next((candidate for candidate in candidates if not candidate.revoked), None)
        if person is None:
            raise StandardError(RspCode.SUBJECT_NOT_FOUND, "no certificate holder matches")
        request = self._new_request(KIND_IDENTITY, caller, person, body.request_title, sign_tx_id=None, details={})
        await self.repo.add(request)
        await self._audit_request("request", request, request_title=body.request_title)
        _logger.info("identity request", org_code=caller.org_code, cert_tx_id=request.cert_tx_id)
        return CertTxResponse(
            **success_envelope(), cert_tx_id=request.cert_tx_id, approval_url=self._approval_url(request.cert_tx_id)
        ).to_wire()

    async def identity_result(self, caller: RegisteredOrg, body: IdentityResultRequest) -> dict[str, Any]:
        request = await self._own_request(caller, body.cert_tx_id, KIND_IDENTITY)
        response = IdentityResultResponse(**success_envelope(), sign_status=request.status)
        if request.status == STATUS_DONE:
            person = await self.repo.person(request.person_id)
            assert person is not None
            response.user_ci = person.ci
            response.real_name = person.name
            response.birth_date = person.birth_date
            response.phone_num = person.phone
            await self._audit_request("result_delivered", request, status=request.status)
        return response.to_wire()

    async def sign_request(self, caller: RegisteredOrg, body: SignRequest) -> dict[str, Any]:
        person = await self.repo.person_by_ci(body.user_ci)
        if (
            person is None
            or person.revoked
            or person.name != body.real_name
            or person.phone != normalise_phone(body.phone_num)
        ):
            raise StandardError(RspCode.SUBJECT_NOT_FOUND, "no certificate holder matches user_ci, name and phone")
        details: dict[str, str] = {
            "device_code": body.device_code,
            "device_browser": body.device_browser,
            "consent_type": body.consent_type,
        }
        if body.return_app_scheme_url:
            details["return_app_scheme_url"] = body.return_app_scheme_url
        request = self._new_request(
            KIND_SIGN, caller, person, body.request_title, sign_tx_id=body.sign_tx_id, details=details
        )
        await self.repo.add(request)
        await self.repo.add(
            *(
                SignedConsent(
                    cert_tx_id=request.cert_tx_id,
                    position=position,
                    tx_id=item.tx_id,
                    consent_title=item.consent_title,
                    consent=item.consent,
                    signed_consent=None,
                )
                for position, item in enumerate(body.consent_list)
            )
        )
        await self._audit_request(
            "request",
            request,
            sign_tx_id=body.sign_tx_id,
            consent_cnt=len(body.consent_list),
            tx_ids=[item.tx_id for item in body.consent_list],
        )
        _logger.info(
            "sign request", org_code=caller.org_code, cert_tx_id=request.cert_tx_id, consent_cnt=body.consent_cnt
        )
        return CertTxResponse(
            **success_envelope(), cert_tx_id=request.cert_tx_id, approval_url=self._approval_url(request.cert_tx_id)
        ).to_wire()

    async def sign_result(self, caller: RegisteredOrg, body: SignResultRequest) -> dict[str, Any]:
        request = await self._own_request(caller, body.cert_tx_id, KIND_SIGN)
        if request.sign_tx_id != body.sign_tx_id:
            raise UnknownTransactionError()
        response = SignResultResponse(**success_envelope(), sign_status=request.status)
        if request.status == STATUS_DONE:
            items = [
                SignedConsentItem(
                    tx_id=consent.tx_id,
                    signed_consent_len=len(consent.signed_consent),
                    signed_consent=consent.signed_consent,
                )
                for consent in await self.repo.consents(request.cert_tx_id)
                if consent.signed_consent is not None
            ]
            response.signed_consent_cnt = len(items)
            response.signed_consent_list = items
            await self._audit_request(
                "result_delivered",
                request,
                status=request.status,
                sign_tx_id=request.sign_tx_id,
                signed_consent_cnt=len(items),
                tx_ids=[item.tx_id for item in items],
            )
        return response.to_wire()

    async def sign_verification(self, caller: RegisteredOrg, body: SignVerificationRequest) -> dict[str, Any]:
        request = await self.repo.request(body.cert_tx_id)
        if request is None or request.kind != KIND_SIGN:
            raise UnknownTransactionError()
        user_ci = await self._verified_signer(request, body)
        await self._audit(
            "sign_verification",
            cert_tx_id=body.cert_tx_id,
            tx_id=body.tx_id,
            org_code=caller.org_code,
            person_id=request.person_id if user_ci else None,
            result="true" if user_ci else "false",
        )
        _logger.info(
            "sign verification",
            org_code=caller.org_code,
            cert_tx_id=body.cert_tx_id,
            result="true" if user_ci else "false",
        )
        return SignVerificationResponse(
            **success_envelope(), tx_id=body.tx_id, result="true" if user_ci else "false", user_ci=user_ci
        ).to_wire()

    async def _verified_signer(self, request: CertRequest, body: SignVerificationRequest) -> str | None:
        """The signer's CI when the signature verifies, chains to this CA, is valid and not revoked, and is the
        one this CA made for (cert_tx_id, tx_id); None otherwise."""
        if request.status != STATUS_DONE:
            return None
        stored = await self.repo.consent(request.cert_tx_id, body.tx_id)
        if stored is None or stored.signed_consent is None:
            return None
        try:
            der = decode_signed_text(body.signed_consent)
            signed = cms.verify(der, [self.rt.authority.certificate], at=self.rt.clock())
        except (binascii.Error, ValueError):
            return None
        if not hmac.compare_digest(der, decode_signed_text(stored.signed_consent)):
            return None
        if signed.content != stored.consent.encode("utf-8"):
            return None
        if body.consent is not None and body.consent_type == "0" and body.consent.encode("utf-8") != signed.content:
            return None
        person = await self.repo.person_by_cert_serial(format(signed.signer.serial_number, "x"))
        if person is None or person.revoked or person.id != request.person_id:
            return None
        if pki.subject_serial_number(signed.signer) != person.ci:
            return None
        return person.ci

    # ----- approval (the person) -----
    async def approval_view(self, cert_tx_id: str) -> ApprovalView | None:
        request = await self.repo.request(cert_tx_id)
        if request is None:
            return None
        request = await self._current(request)
        names = await self.repo.org_names([request.org_code])
        consents: list[ConsentView] = []
        if request.kind == KIND_SIGN:
            rows = await self.repo.consents(cert_tx_id)
            providers = await self.repo.org_names(_providers(rows))
            consents = [_consent_view(row, providers) for row in rows]
        return ApprovalView(
            cert_tx_id=cert_tx_id,
            kind=request.kind,
            status=request.status,
            status_label=STATUS_LABELS[request.status],
            title=request.request_title,
            requester=names.get(request.org_code, request.org_code),
            expires_at=_display_time(as_utc(request.expires_at)),
            attempts_left=max(self.settings.pin_attempts - request.pin_failures, 0),
            consents=consents,
        )

    async def decide(self, cert_tx_id: str, pin: str | None, decision: str) -> Decision:
        request = await self.repo.request(cert_tx_id)
        if request is None:
            raise UnknownTransactionError()
        request = await self._current(request)
        left = max(self.settings.pin_attempts - request.pin_failures, 0)
        if request.status != STATUS_PENDING:
            label = STATUS_LABELS[request.status]
            return Decision(Outcome.NOT_PENDING, request.status, left, f"이미 처리된 요청입니다 (상태: {label}).")
        now = self.rt.clock()
        if decision == "reject":
            request.status = STATUS_REJECTED
            request.completed_at = now
            await self.repo.add(request)
            await self._audit_request("rejected", request, reason="person")
            _logger.info("request rejected by the person", cert_tx_id=cert_tx_id)
            return Decision(Outcome.REJECTED, request.status, left, "요청을 거절했습니다.")
        if not pin:
            return Decision(Outcome.PIN_REQUIRED, request.status, left, "PIN을 입력해 주세요.")
        person = await self.repo.person(request.person_id)
        assert person is not None
        if person.revoked or not await asyncio.to_thread(pin_matches, pin, person.pin_hash):
            request.pin_failures += 1
            left = max(self.settings.pin_attempts - request.pin_failures, 0)
            if left == 0:
                request.status = STATUS_REJECTED
                request.completed_at = now
                await self.repo.add(request)
                await self._audit_request("rejected", request, reason="pin_lockout", pin_failures=request.pin_failures)
                _logger.info("request rejected after wrong PINs", cert_tx_id=cert_tx_id)
                return Decision(
                    Outcome.LOCKED,
                    request.status,
                    0,
                    f"PIN이 {self.settings.pin_attempts}회 틀려 요청이 거절되었습니다. 새로 요청해 주세요.",
                )
            await self.repo.add(request)
            await self._audit_request("pin_failed", request, pin_failures=request.pin_failures, attempts_left=left)
            return Decision(Outcome.WRONG_PIN, request.status, left, f"PIN이 올바르지 않습니다. 남은 시도 {left}회.")
        signed_tx_ids: list[str] = []
        if request.kind == KIND_SIGN:
            key = pki.key_from_pem(person.key_pem.encode("ascii"), pin.encode("utf-8"))
            certificate = pki.cert_from_pem(person.cert_pem.encode("ascii"))
            for consent in await self.repo.consents(cert_tx_id):
                der = cms.sign(consent.consent.encode("utf-8"), key, certificate, chain=[self.rt.authority.certificate])
                consent.signed_consent = base64.urlsafe_b64encode(der).decode("ascii")
                await self.repo.add(consent)
                signed_tx_ids.append(consent.tx_id)
        request.status = STATUS_DONE
        request.completed_at = now
        await self.repo.add(request)
        if request.kind == KIND_SIGN:
            await self._audit_request(
                "approved",
                request,
                cert_serial=person.cert_serial,
                consent_cnt=len(signed_tx_ids),
                tx_ids=signed_tx_ids,
            )
        else:
            await self._audit_request("approved", request, cert_serial=person.cert_serial)
        _logger.info("request approved", cert_tx_id=cert_tx_id, kind=request.kind)
        message = "전자서명이 완료되었습니다." if request.kind == KIND_SIGN else "본인확인이 완료되었습니다."
        return Decision(Outcome.APPROVED, request.status, left, message)


def _providers(rows: list[SignedConsent]) -> set[str]:
    codes: set[str] = set()
    for row in rows:
        try:
            codes.add(decode_signed_content(row.consent.encode("utf-8")).consent.snd_org_code)
        except ValueError:
            continue
    return codes


def _consent_view(row: SignedConsent, providers: dict[str, str]) -> ConsentView:
    try:
        content = decode_signed_content(row.consent.encode("utf-8"))
    except ValueError:
        return ConsentView(title=row.consent_title, text=row.consent)
    consent = content.consent
    scopes = []
    for target in consent.target_info:
        assets = [item.asset for item in target.asset_list]
        label = "전체 자산" if ALL_ASSETS in assets else ", ".join(assets)
        scopes.append(f"{target.scope} ({label})")
    return ConsentView(
        title=row.consent_title,
        text=row.consent,
        provider=providers.get(consent.snd_org_code, consent.snd_org_code),
        scopes=scopes,
        end_date=_display_date(consent.end_date),
        purpose=consent.purpose,
        holding_period=_display_date(consent.holding_period),
        scheduled=consent.is_scheduled,
        sensitive=[label for name, label in SENSITIVE_LABELS.items() if consent.sensitive_flags().get(name)],
    )
