"""Business rules of the provider: 통합인증-002, token refresh and revocation (개별인증-003/004), and the one
enforcement point every information API passes before its generic handler. Nothing here commits."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import math
import re
import secrets
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from openmydata.kit import cms
from openmydata.kit import logging as log
from openmydata.kit.clock import add_months, as_utc, today_kst, utcnow
from openmydata.kit.errors import OAuthError
from openmydata.provider import repository
from openmydata.provider.clients import ConsentVerifier, SignatureRejectedError
from openmydata.provider.models import (
    CONSENT_ACTIVE,
    CONSENT_REPLACED,
    CONSENT_REVOKED,
    TOKEN_ACCESS,
    TOKEN_REFRESH,
    Consent,
    RegistryService,
    Token,
)
from openmydata.provider.settings import ProviderSettings
from openmydata.provider.tokens import TokenClaims, TokenCodec
from openmydata.standard.apis.auth import (
    IntegratedAuthRequest,
    IntegratedAuthResponse,
    RefreshRequest,
    RefreshResponse,
    RevokeRequest,
)
from openmydata.standard.catalogue import ApiSpec, Catalogue, Kind, selector_key
from openmydata.standard.client import API_TYPES
from openmydata.standard.codes import RspCode, Situation, StandardError, success_envelope
from openmydata.standard.consent import SignedConsentContent, TransmissionRequest, decode_signed_content
from openmydata.standard.formats import is_valid_tran_id, parse_tx_id
from openmydata.standard.paging import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    BadCursor,
    decode_cursor,
    encode_cursor,
    is_up_to_date,
    search_timestamp_for,
)
from openmydata.standard.schedule import Windows, cycle_for

_logger = log.get_logger("openmydata.provider")

SCHEDULED = "scheduled"  # x-api-type of periodic transmission without the person (digest §2.3)
SEARCH_TIMESTAMP_RE = re.compile(r"[0-9]{1,14}")

# OAuth ---------------------------------------------------------------------------------------------------------


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def check_client_secret(service: RegistryService, secret: str) -> bool:
    return hmac.compare_digest(service.client_secret_hash, secret_hash(secret))


def _form_error(exc: ValidationError) -> str:
    fields = sorted({str(error["loc"][0]) for error in exc.errors() if error.get("loc")})
    return "invalid or missing: " + ", ".join(fields) if fields else "invalid request"


def parse_form(model: type[Any], form: Mapping[str, str], extra: Mapping[str, str] | None = None) -> Any:
    try:
        return model.model_validate(dict(form))
    except ValidationError as exc:
        raise OAuthError("invalid_request", _form_error(exc), extra=extra) from exc


def _b64url_decode(value: str) -> bytes:
    text = value.strip().replace("+", "-").replace("/", "_").rstrip("=")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _token_scopes(terms: TransmissionRequest, industries: list[str]) -> list[str]:
    """The consented scopes plus `<industry>.list` for every industry they touch (digest §10.7)."""
    scopes: dict[str, None] = {}
    for scope in terms.scopes:
        industry = scope.split(".", 1)[0]
        if industry in industries:
            scopes.setdefault(f"{industry}.list", None)
    for scope in terms.scopes:
        scopes.setdefault(scope, None)
    return list(scopes)


@dataclass
class IssuedTokens:
    access_token: str
    access_expires_in: int
    refresh_token: str
    refresh_expires_in: int
    scope: str


class TokenIssuer:
    """Issues a token pair for a recorded consent; lifetimes never reach beyond the consent's end."""

    def __init__(self, settings: ProviderSettings, codec: TokenCodec):
        self.settings = settings
        self.codec = codec

    async def _issue(
        self,
        session: AsyncSession,
        consent: Consent,
        kind: str,
        ttl_s: int,
        now: datetime,
        cnf_x5t: str | None = None,
    ) -> tuple[str, int]:
        expires_at = min(now + timedelta(seconds=ttl_s), as_utc(consent.end_at))
        value, jti = self.codec.encode(
            consent_id=consent.id,
            audience=consent.rcv_org_code,
            kind=kind,
            scopes=consent.scope.split(),
            expires_at=expires_at,
            cnf_x5t=cnf_x5t,
        )
        await repository.add_token(
            session, Token(jti=jti, consent_id=consent.id, kind=kind, issued_at=now, expires_at=expires_at)
        )
        return value, max(int((expires_at - now).total_seconds()), 0)

    async def issue_pair(
        self, session: AsyncSession, consent: Consent, now: datetime, cnf_x5t: str | None = None
    ) -> IssuedTokens:
        """Access and refresh token; the access token is bound to the client certificate `cnf_x5t` (RFC 8705), the
        refresh token to the client's credentials only, so a rotated certificate gets a new access token by refresh."""
        access, access_in = await self._issue(
            session, consent, TOKEN_ACCESS, self.settings.access_token_ttl_s, now, cnf_x5t
        )
        refresh, refresh_in = await self._issue(session, consent, TOKEN_REFRESH, self.settings.refresh_token_ttl_s, now)
        return IssuedTokens(access, access_in, refresh, refresh_in, consent.scope)

    async def issue_access(
        self, session: AsyncSession, consent: Consent, now: datetime, cnf_x5t: str | None = None
    ) -> tuple[str, int]:
        return await self._issue(session, consent, TOKEN_ACCESS, self.settings.access_token_ttl_s, now, cnf_x5t)


@dataclass
class SignedGrant:
    """What 통합인증-002 learned from the form before touching the database."""

    request: IntegratedAuthRequest
    client: RegistryService
    content: SignedConsentContent
    der: bytes


class IntegratedAuthGrant:
    """통합인증-002: a signed consent (CMS in `password`) becomes a recorded consent and a token pair."""

    def __init__(
        self,
        settings: ProviderSettings,
        verifier: ConsentVerifier,
        issuer: TokenIssuer,
        catalogue: Catalogue,
    ):
        self.settings = settings
        self.verifier = verifier
        self.issuer = issuer
        self.catalogue = catalogue

    def parse(self, form: Mapping[str, str]) -> IntegratedAuthRequest:
        extra = {"tx_id": form["tx_id"]} if form.get("tx_id") else None
        request: IntegratedAuthRequest = parse_form(IntegratedAuthRequest, form, extra)
        error = self._form_problem(request)
        if error:
            raise OAuthError("invalid_request", error, extra={"tx_id": request.tx_id})
        return request

    def _form_problem(self, request: IntegratedAuthRequest) -> str | None:
        if request.org_code != self.settings.org_code:
            return "org_code is not this provider's"
        parts = parse_tx_id(request.tx_id)
        if parts is None:
            return "tx_id is not MD_{operator}_{provider}_{relay}_{ca}_{time}_{serial}"
        if parts[1] != self.settings.org_code:
            return "tx_id names another provider"
        if self.settings.ca_code and request.ca_code != self.settings.ca_code:
            return "ca_code is not a certification authority this provider accepts"
        if request.password_len != len(request.password):
            return "password_len does not match password"
        if request.consent_type != "0":
            return "only consent_type 0 (signature over the consent text) is supported"
        return None

    def read(self, request: IntegratedAuthRequest, client: RegistryService) -> SignedGrant:
        """Read the consent out of the CMS (not yet verified) and check it against the form and the client."""
        extra = {"tx_id": request.tx_id}
        parts = parse_tx_id(request.tx_id)
        if parts is not None and parts[0] != client.org_code:
            raise OAuthError("invalid_request", "tx_id names another operator", extra=extra)
        try:
            der = _b64url_decode(request.password)
            content = decode_signed_content(cms.content_of(der))
        except (binascii.Error, ValueError) as exc:
            raise OAuthError("invalid_grant", "password is not a signed consent", extra=extra) from exc
        terms = content.consent
        if not hmac.compare_digest(content.consentNonce, request.consent_nonce):
            raise OAuthError("invalid_grant", "consent_nonce differs from the signed nonce", extra=extra)
        if terms.snd_org_code != self.settings.org_code:
            raise OAuthError("invalid_grant", "the consent is addressed to another provider", extra=extra)
        if terms.rcv_org_code != client.org_code:
            raise OAuthError("invalid_grant", "the consent names another operator", extra=extra)
        try:
            terms.validate_duration(utcnow())
        except ValueError as exc:
            raise OAuthError("invalid_grant", str(exc), extra=extra) from exc
        served = {scope for industry in self.settings.industries for scope in self.catalogue.scopes(industry)}
        served |= {f"{industry}.list" for industry in self.settings.industries}
        unknown = [scope for scope in terms.scopes if scope not in served]
        if unknown:
            raise OAuthError("invalid_scope", "scopes not served here: " + " ".join(unknown), extra=extra)
        return SignedGrant(request=request, client=client, content=content, der=der)

    async def verify(self, grant: SignedGrant) -> None:
        request = grant.request
        extra = {"tx_id": request.tx_id}
        try:
            verified = await self.verifier.verify(
                tx_id=request.tx_id,
                cert_tx_id=request.cert_tx_id,
                signed_consent=request.password,
                der=grant.der,
                consent_type=request.consent_type,
            )
        except SignatureRejectedError as exc:
            raise OAuthError("invalid_grant", f"signature not verified: {exc}", extra=extra) from exc
        if not hmac.compare_digest(verified.user_ci, request.username):
            raise OAuthError("invalid_grant", "the consent was signed by someone else", extra=extra)

    async def replayed(self, session: AsyncSession, request: IntegratedAuthRequest) -> str | None:
        """Why this request replays an earlier grant (its consent_nonce or its tx_id was used), or None."""
        if await repository.consent_nonce_used(session, request.consent_nonce):
            return "consent_nonce was used before"
        if await repository.consent_tx_id_used(session, request.tx_id):
            return "tx_id was used before"
        return None

    async def record(self, session: AsyncSession, grant: SignedGrant, cnf_x5t: str | None = None) -> dict[str, Any]:
        """Record the consent (replacing the customer's earlier one with this operator) and issue tokens."""
        request = grant.request
        extra = {"tx_id": request.tx_id}
        terms = grant.content.consent
        customer = await repository.customer_by_ci(session, request.username)
        if customer is None:
            raise OAuthError("unauthorized_user", "no customer with this CI", extra=extra)
        try:
            _consent, tokens = await record_consent(
                session,
                self.issuer,
                customer_id=customer.id,
                client=grant.client,
                terms=terms,
                scope=token_scope(terms, self.settings.industries),
                tx_id=request.tx_id,
                cert_tx_id=request.cert_tx_id,
                consent_nonce=request.consent_nonce,
                now=utcnow(),
                cnf_x5t=cnf_x5t,
            )
        except IntegrityError as exc:
            raise OAuthError("invalid_grant", "consent_nonce or tx_id was used before", extra=extra) from exc
        return IntegratedAuthResponse(
            tx_id=request.tx_id,
            access_token=tokens.access_token,
            expires_in=tokens.access_expires_in,
            refresh_token=tokens.refresh_token,
            refresh_token_expires_in=tokens.refresh_expires_in,
            scope=tokens.scope,
        ).to_wire()


def token_scope(terms: TransmissionRequest, industries: list[str]) -> str:
    """The scope string of the tokens for a consent: its scopes plus `<industry>.list` (digest §10.7)."""
    return " ".join(_token_scopes(terms, industries))


async def record_consent(
    session: AsyncSession,
    issuer: TokenIssuer,
    *,
    customer_id: int,
    client: RegistryService,
    terms: TransmissionRequest,
    scope: str,
    tx_id: str,
    cert_tx_id: str,
    consent_nonce: str,
    now: datetime,
    cnf_x5t: str | None = None,
) -> tuple[Consent, IssuedTokens]:
    """Record a consent of one customer for one operator, replacing the earlier one (its tokens are revoked), issue
    its token pair and append `consent_granted` to the audit chain: what 통합인증-002 and 개별인증-002 share.
    Raises IntegrityError when `consent_nonce` or `tx_id` was used before."""
    earlier = await repository.active_consents(session, customer_id, client.org_code)
    earlier_ids = [consent.id for consent in earlier]
    await repository.revoke_tokens(session, earlier_ids, now)
    await repository.set_consent_status(session, earlier_ids, CONSENT_REPLACED, now)
    consent = Consent(
        id=secrets.token_hex(16),
        customer_id=customer_id,
        rcv_org_code=client.org_code,
        client_id=client.client_id,
        consent=terms.to_wire(),
        scope=scope,
        tx_id=tx_id,
        cert_tx_id=cert_tx_id,
        consent_nonce=consent_nonce,
        status=CONSENT_ACTIVE,
        end_at=as_utc(terms.end),
        created_at=now,
        updated_at=now,
    )
    await repository.add_consent(session, consent)
    tokens = await issuer.issue_pair(session, consent, now, cnf_x5t)
    await repository.audit(
        session,
        "consent_granted",
        {
            "consent_id": consent.id,
            "customer_id": customer_id,
            "rcv_org_code": consent.rcv_org_code,
            "client_id": consent.client_id,
            "tx_id": consent.tx_id,
            "cert_tx_id": consent.cert_tx_id,
            "scope": consent.scope,
            "end_date": terms.end_date,
            "replaced": earlier_ids,
        },
        at=now,
    )
    return consent, tokens


async def _token_state(session: AsyncSession, claims: TokenClaims | None) -> tuple[Token, Consent] | None:
    if claims is None:
        return None
    token = await repository.get_token(session, claims.jti)
    if token is None or token.consent_id != claims.consent_id or token.kind != claims.kind:
        return None
    consent = await repository.get_consent(session, token.consent_id)
    # The claims must be those the token was issued with: its operator (aud) and the consent's scopes.
    if consent is None or claims.audience != consent.rcv_org_code or claims.scopes != tuple(consent.scope.split()):
        return None
    return token, consent


async def refresh_access_token(
    session: AsyncSession,
    request: RefreshRequest,
    client: RegistryService,
    codec: TokenCodec,
    issuer: TokenIssuer,
    cnf_x5t: str | None = None,
) -> dict[str, Any]:
    """개별인증-003: a new access token for a live refresh token; the earlier access tokens are discarded."""
    now = utcnow()
    claims = codec.decode(request.refresh_token)
    state = await _token_state(session, claims)
    if claims is None or state is None or claims.kind != TOKEN_REFRESH:
        raise OAuthError("invalid_grant", "not a refresh token of this provider")
    token, consent = state
    if consent.client_id != client.client_id:
        raise OAuthError("invalid_grant", "the refresh token was issued to another client")
    if token.revoked_at is not None or consent.status != CONSENT_ACTIVE:
        raise OAuthError("invalid_grant", "the refresh token was revoked")
    if as_utc(token.expires_at) <= now or as_utc(consent.end_at) <= now:
        raise OAuthError("invalid_grant", "the refresh token or its consent has expired")
    await repository.revoke_tokens(session, [consent.id], now, kind=TOKEN_ACCESS)
    access, expires_in = await issuer.issue_access(session, consent, now, cnf_x5t)
    await repository.audit(
        session, "token_refreshed", {"consent_id": consent.id, "rcv_org_code": consent.rcv_org_code}, at=now
    )
    return RefreshResponse(access_token=access, expires_in=expires_in).to_wire()


async def revoke_token(
    session: AsyncSession, request: RevokeRequest, client: RegistryService, codec: TokenCodec
) -> dict[str, str]:
    """개별인증-004: revoke both tokens and the consent; 99999 (HTTP 200) when the token was not valid."""
    now = utcnow()
    state = await _token_state(session, codec.decode(request.token))
    if state is None:
        return success_envelope(RspCode.REVOKE_INVALID_TOKEN)
    token, consent = state
    if (
        consent.client_id != client.client_id
        or token.revoked_at is not None
        or consent.status != CONSENT_ACTIVE
        or as_utc(token.expires_at) <= now
    ):
        return success_envelope(RspCode.REVOKE_INVALID_TOKEN)
    await repository.revoke_tokens(session, [consent.id], now)
    await repository.set_consent_status(session, [consent.id], CONSENT_REVOKED, now)
    await repository.audit(
        session,
        "consent_revoked",
        {"consent_id": consent.id, "rcv_org_code": consent.rcv_org_code, "client_id": consent.client_id},
        at=now,
    )
    return success_envelope(RspCode.OK)


# Information APIs ----------------------------------------------------------------------------------------------


@dataclass
class AccessTrail:
    """What the enforcement point learned so far; the endpoint writes it as the access record."""

    api_type: str | None = None
    rcv_org_code: str | None = None
    consent_id: str | None = None
    key: str | None = None


@dataclass
class Authorised:
    consent: Consent
    terms: TransmissionRequest
    scopes: tuple[str, ...]
    token_id: str = ""


@dataclass
class InfoCall:
    spec: ApiSpec
    industry: str
    tran_id: str | None
    api_type: str | None
    authorization: str | None
    data: dict[str, Any] | None  # None when the body could not be read
    trail: AccessTrail = field(default_factory=AccessTrail)
    content_type: str | None = None
    # The mutual-TLS peer: the org_codes its certificate is registered for and the certificate's RFC 8705
    # thumbprint (None on a development plain-HTTP call).
    peer_org_codes: frozenset[str] | None = None
    peer_thumbprint: str | None = None


class RateLimiter:
    """At most `per_minute` admitted calls per key in any sliding 60 seconds (in memory, per process)."""

    WINDOW_S = 60.0

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic):
        self.per_minute = per_minute
        self.clock = clock
        self._calls: dict[str, deque[float]] = {}
        self._last_sweep = clock()

    def admit(self, key: str) -> int | None:
        """None when the call is admitted (and counted), else the seconds until it would be."""
        now = self.clock()
        if now - self._last_sweep > self.WINDOW_S:
            self._sweep(now)
        calls = self._calls.setdefault(key, deque())
        while calls and calls[0] <= now - self.WINDOW_S:
            calls.popleft()
        if len(calls) >= self.per_minute:
            return max(1, math.ceil(calls[0] + self.WINDOW_S - now))
        calls.append(now)
        return None

    def _sweep(self, now: float) -> None:
        """Forget keys (tokens) with no call in the window, so that the table does not grow without bound."""
        self._last_sweep = now
        for key in [key for key, calls in self._calls.items() if not calls or calls[-1] <= now - self.WINDOW_S]:
            del self._calls[key]


def _is_json_media_type(content_type: str) -> bool:
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type == "application/json" or (media_type.startswith("application/") and media_type.endswith("+json"))


def _month_index(value: str) -> int:
    return int(value[:4]) * 12 + int(value[4:6]) - 1


class InfoService:
    """Every information API: the enforcement point, then one generic handler per kind of API. `clock` is the time
    the enforcement point judges by (token and consent ends, scheduled-transmission windows and periods); tests
    replace it to stand at a chosen moment."""

    def __init__(
        self,
        settings: ProviderSettings,
        codec: TokenCodec,
        catalogue: Catalogue,
        *,
        clock: Callable[[], datetime] = utcnow,
    ):
        self.settings = settings
        self.codec = codec
        self.catalogue = catalogue
        self.clock = clock
        self.cursor_key = settings.cursor_secret.encode("utf-8")
        self.limiter = RateLimiter(settings.rate_limit_per_minute)
        self.configured_windows = Windows.parse(settings.scheduled_windows)

    # enforcement -------------------------------------------------------------------------------------------

    def check_headers(self, call: InfoCall) -> None:
        if not is_valid_tran_id(call.tran_id):
            raise StandardError(RspCode.BAD_HEADER, "x-api-tran-id")
        if call.api_type not in API_TYPES:
            raise StandardError(RspCode.BAD_HEADER, "x-api-type")
        call.trail.api_type = call.api_type
        # A body declared as something else than JSON is refused (no body sniffing); none declared is tolerated.
        if call.spec.method == "POST" and call.content_type and not _is_json_media_type(call.content_type):
            raise StandardError(RspCode.BAD_HEADER, "Content-Type")

    def parse_request(self, call: InfoCall) -> dict[str, Any]:
        if call.data is None:
            raise StandardError(RspCode.BAD_PARAMETER, "the body is not a JSON object")
        try:
            request = call.spec.request.model_validate(call.data)
        except ValidationError as exc:
            raise StandardError(RspCode.BAD_PARAMETER, _form_error(exc)) from exc
        values = request.to_wire()
        if values.get("org_code") != self.settings.org_code:
            raise StandardError(RspCode.BAD_PARAMETER, "org_code")
        if call.spec.paged and not 1 <= int(values.get("limit") or DEFAULT_LIMIT) <= MAX_LIMIT:
            raise StandardError(RspCode.BAD_PARAMETER, "limit")
        # This provider hands out DTIME search_timestamps (digest §2.5); anything else is not one of ours.
        stamp = values.get("search_timestamp")
        if stamp is not None and not SEARCH_TIMESTAMP_RE.fullmatch(str(stamp)):
            raise StandardError(RspCode.BAD_PARAMETER, "search_timestamp")
        return values

    def check_rate(self, auth: Authorised) -> None:
        """42901 beyond rate_limit_per_minute calls of one access token in any sliding minute."""
        retry_after = self.limiter.admit(auth.token_id)
        if retry_after is not None:
            raise StandardError(RspCode.LIMIT_EXCEEDED, headers={"Retry-After": str(retry_after)})

    async def authorise(self, session: AsyncSession, call: InfoCall) -> Authorised:
        header = call.authorization or ""
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise StandardError(RspCode.INVALID_TOKEN)
        claims = self.codec.decode(value.strip())
        state = await _token_state(session, claims)
        if claims is None or state is None or claims.kind != TOKEN_ACCESS:
            raise StandardError(RspCode.INVALID_TOKEN)
        token, consent = state
        call.trail.consent_id = consent.id
        call.trail.rcv_org_code = consent.rcv_org_code
        now = self.clock()
        # An ended consent is reported as such even though its tokens are dead too (digest §3.1: 40106).
        if consent.status == CONSENT_ACTIVE and as_utc(consent.end_at) <= now:
            raise StandardError(RspCode.CONSENT_ENDED)
        # The nationwide code set tells a withdrawn consent (40107) and an expired token (40108) from a bad one.
        if consent.status == CONSENT_REVOKED:
            raise StandardError(RspCode.INVALID_TOKEN, situation=Situation.CONSENT_WITHDRAWN)
        if token.revoked_at is not None or consent.status != CONSENT_ACTIVE:
            raise StandardError(RspCode.INVALID_TOKEN)
        if as_utc(token.expires_at) <= now:
            raise StandardError(RspCode.INVALID_TOKEN, situation=Situation.TOKEN_EXPIRED)
        # RFC 8705: a token bound to a client certificate is only good over a connection with that certificate.
        if claims.cnf_x5t is not None and claims.cnf_x5t != call.peer_thumbprint:
            raise StandardError(
                RspCode.INVALID_TOKEN,
                "the token is bound to another client certificate",
                {"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        if call.peer_org_codes is not None and consent.rcv_org_code not in call.peer_org_codes:
            raise StandardError(RspCode.CERT_CHECK_FAILED, "the client certificate belongs to another organisation")
        return Authorised(consent, TransmissionRequest.model_validate(consent.consent), claims.scopes, token.jti)

    def required_scope(self, call: InfoCall) -> str:
        """The spec's scope under the industry called (IRP-002 at /v1/invest/irps/basic needs invest.irp)."""
        return call.spec.scope_for(call.industry) or f"{call.industry}.list"

    def check_scope(self, call: InfoCall, auth: Authorised) -> None:
        scope = self.required_scope(call)
        if scope not in auth.scopes or scope not in auth.consent.scope.split():
            raise StandardError(RspCode.SCOPE_NOT_GRANTED)

    async def check_asset(
        self, session: AsyncSession, call: InfoCall, auth: Authorised, values: Mapping[str, Any]
    ) -> None:
        spec = call.spec
        if not spec.asset_field:
            return
        asset = str(values.get(spec.asset_field) or "")
        if not auth.terms.covers(self.required_scope(call), asset):
            raise StandardError(RspCode.ASSET_NOT_CONSENTED)
        if asset not in await self._customer_assets(session, auth.consent.customer_id, spec):
            raise StandardError(RspCode.ASSET_INVALID)

    async def _customer_assets(self, session: AsyncSession, customer_id: int, spec: ApiSpec) -> set[str]:
        """The customer's asset identifiers from the asset list(s) `spec` takes its assets from (insurance and
        e-finance have two lists: an insurance-loan API checks against the loan list, not the insurance list)."""
        assets: set[str] = set()
        for list_spec in self.catalogue.asset_lists_for(spec):
            rows = await repository.select_records(session, customer_id, list_spec.id, "")
            field_name = list_spec.asset_id_field or ""
            assets |= {str(row.payload.get(field_name) or "") for row in rows}
        return assets

    def check_range(self, call: InfoCall, values: Mapping[str, Any]) -> tuple[str, str] | None:
        spec = call.spec
        if spec.range_fields is None:
            return None
        start, end = (str(values.get(name) or "") for name in spec.range_fields)
        if not start or not end:
            raise StandardError(RspCode.BAD_PARAMETER, "range")
        if end < start:
            raise StandardError(RspCode.BAD_PARAMETER, "the range ends before it starts")
        api_type = call.api_type or "user-consent"
        if spec.range_unit == "month":
            span = _month_index(end) - _month_index(start) + 1
            if span > self._month_limit(api_type):
                raise StandardError(RspCode.RANGE_EXCEEDED)
            oldest = add_months(today_kst(), -self.settings.lookback_years * 12).strftime("%Y%m")
            if start < oldest:
                raise StandardError(RspCode.TOO_OLD)
            return start, end
        first, last = (
            date.fromisoformat(f"{start[:4]}-{start[4:6]}-{start[6:8]}"),
            date.fromisoformat(f"{end[:4]}-{end[4:6]}-{end[6:8]}"),
        )
        if api_type == SCHEDULED and spec.id not in self.settings.scheduled_long_range_apis:
            if (last - first).days + 1 > self.settings.history_scheduled_days:
                raise StandardError(RspCode.RANGE_EXCEEDED)
        elif first < add_months(last, -self._month_limit(api_type)):
            raise StandardError(RspCode.RANGE_EXCEEDED)
        if first < add_months(today_kst(), -self.settings.lookback_years * 12):
            raise StandardError(RspCode.TOO_OLD)
        return start, end

    async def published_windows(self, session: AsyncSession) -> Windows:
        """The windows this provider enforces: those the portal's registry (지원-002) publishes for its own org_code,
        so that operators read exactly what is enforced; the `scheduled_windows` setting when it publishes none."""
        registered = await repository.published_windows(session, self.settings.org_code)
        if registered:
            try:
                return Windows.parse(registered)
            except ValueError:
                # The registry sync keeps only parsable windows; should a bad one be stored, the setting applies.
                _logger.warning("unreadable windows in the registry", org_code=self.settings.org_code)
        return self.configured_windows

    async def check_window(self, session: AsyncSession, call: InfoCall, now: datetime) -> None:
        """50009: a scheduled call outside the published windows (§10.4), with Retry-After = seconds until the next
        window opens. Continuation pages are calls too. User-involved calls are never refused for windows."""
        if call.api_type != SCHEDULED:
            return
        windows = await self.published_windows(session)
        if windows.contains(now):
            return
        raise StandardError(
            RspCode.OUTSIDE_WINDOW,
            "scheduled transmission is allowed " + ", ".join(windows.to_wire()) + " (KST)",
            {"Retry-After": str(windows.seconds_until_open(now))},
        )

    async def check_cycle(
        self,
        session: AsyncSession,
        call: InfoCall,
        auth: Authorised,
        values: Mapping[str, Any],
        key: str,
        now: datetime,
    ) -> None:
        """42901 beyond the consent's cycle (§10.4): at most `count` scheduled transmissions per consent, API and
        asset (the selector key) in each calendar period of the cycle of the API's class (fnd_cycle for 기본,
        add_cycle for 추가), with Retry-After = seconds until the next period starts.

        A transmission is a successful answer (00000 or 00001) to a first-page call: continuation pages
        (`next_page`) belong to the retrieval their first page started and are neither counted nor limited.
        The count is taken here, before the handler, by an atomic conditional upsert on a small table
        (`scheduled_transmissions`, one row per consent, API and key) in the request's transaction: a failing
        call rolls it back (so a failed call does not count and may be retried until the first success), and two
        concurrent first pages cannot both take the last transmission of a period. Counting access records
        instead would need a lock around check and insert, and they do not tell first pages from the others.
        A consent that did not ask for scheduled transmission (`is_scheduled` false) allows none: 40301.
        """
        if call.api_type != SCHEDULED or not self.settings.enforce_scheduled_cycle or values.get("next_page"):
            return
        if not auth.terms.is_scheduled:
            raise StandardError(RspCode.INVALID_CALL, "the consent does not ask for scheduled transmission")
        cycle = cycle_for(call.spec, auth.terms.cycle)
        period = call.spec.period_field
        if period is not None and values.get(period):
            # A period-filtered API (통신-002's charge month) holds one data set per period: each month's bill is
            # counted on its own, so this month's and last month's bills may both move in one week.
            key = f"{key}|{values[period]}"
        claimed = await repository.claim_scheduled_transmission(
            session,
            consent_id=auth.consent.id,
            api_id=call.spec.id,
            key=key,
            period_start=cycle.period_start(now),
            limit=cycle.count,
            at=now,
        )
        if not claimed:
            raise StandardError(
                RspCode.LIMIT_EXCEEDED,
                f"the consent's cycle {cycle.to_wire()} of scheduled transmissions is used up for this period",
                {"Retry-After": str(cycle.seconds_until_next_period(now))},
            )

    def _month_limit(self, api_type: str) -> int:
        limits = {
            "user-consent": self.settings.history_user_consent_months,
            "user-refresh": self.settings.history_user_refresh_months,
            "user-search": self.settings.history_user_search_months,
            "scheduled": self.settings.history_scheduled_months,
        }
        return limits[api_type]

    # the generic handler -----------------------------------------------------------------------------------

    async def serve(self, session: AsyncSession, call: InfoCall) -> dict[str, Any]:
        """Enforce, then answer (digest §2.3–§2.7, §6); raises StandardError with the failing check's code."""
        self.check_headers(call)
        values = self.parse_request(call)
        auth = await self.authorise(session, call)
        self.check_rate(auth)
        self.check_scope(call, auth)
        spec = call.spec
        key = selector_key(values, spec.key_fields)
        call.trail.key = key
        await self.check_asset(session, call, auth, values)
        period_range = self.check_range(call, values)
        # Scheduled transmission (§10.4) last: a call refused for anything else neither waits for a window nor
        # uses up a transmission of the period.
        now = self.clock()
        await self.check_window(session, call, now)
        await self.check_cycle(session, call, auth, values, key, now)
        if spec.kind is Kind.CONSENT:
            return self._consent(spec, auth)
        if spec.kind is Kind.ASSET_LIST:
            return await self._asset_list(session, call, auth, values)
        if spec.kind is Kind.ASSET_INFO:
            return await self._asset_info(session, call, auth, values, key)
        return await self._records(session, call, auth, values, key, period_range)

    def _consent(self, spec: ApiSpec, auth: Authorised) -> dict[str, Any]:
        terms = auth.terms
        body: dict[str, Any] = {
            **success_envelope(),
            "is_scheduled": terms.is_scheduled,
            "cycle": terms.cycle.to_wire(),
            "end_date": terms.end_date,
            "purpose": terms.purpose,
            "period": terms.holding_period,
            **terms.sensitive_flags(),
        }
        return self._respond(spec, body)

    def _respond(self, spec: ApiSpec, body: dict[str, Any]) -> dict[str, Any]:
        return spec.response.model_validate(body).to_wire()

    def _strip(self, spec: ApiSpec, auth: Authorised, payload: Mapping[str, Any]) -> dict[str, Any]:
        flags = auth.terms.sensitive_flags()
        return {name: value for name, value in payload.items() if flags.get(spec.sensitive.get(name, ""), True)}

    async def _up_to_date(
        self, session: AsyncSession, call: InfoCall, auth: Authorised, values: Mapping[str, Any], key: str | None
    ) -> bool:
        if not call.spec.search_timestamp or values.get("next_page"):
            return False
        requested = values.get("search_timestamp")
        if not requested:
            return False
        changed = await repository.last_modified(session, auth.consent.customer_id, call.spec.id, key)
        return is_up_to_date(str(requested), changed)

    def _binding(self, call: InfoCall, auth: Authorised, key: str) -> str:
        return f"{auth.consent.id}|{call.spec.id}|{key}"

    def _from_seq(self, call: InfoCall, auth: Authorised, values: Mapping[str, Any], key: str) -> int | None:
        cursor = values.get("next_page")
        if not cursor:
            return None
        try:
            position = decode_cursor(str(cursor), key=self.cursor_key, binding=self._binding(call, auth, key))
        except BadCursor as exc:
            raise StandardError(RspCode.BAD_PARAMETER, "next_page") from exc
        seq = position.get("seq")
        if not isinstance(seq, int) or isinstance(seq, bool):
            raise StandardError(RspCode.BAD_PARAMETER, "next_page")
        return seq

    def _limit(self, call: InfoCall, values: Mapping[str, Any]) -> int | None:
        if not call.spec.paged:
            return None
        return int(values.get("limit") or DEFAULT_LIMIT)

    async def _asset_list(
        self, session: AsyncSession, call: InfoCall, auth: Authorised, values: Mapping[str, Any]
    ) -> dict[str, Any]:
        spec = call.spec
        if await self._up_to_date(session, call, auth, values, ""):
            return success_envelope(RspCode.UP_TO_DATE)
        stamp = search_timestamp_for(utcnow())
        page, next_page = await self._page(session, call, auth, values, "", {})
        # the scopes of the APIs served with this list (an IRP account is consented by <industry>.irp only)
        opening = {
            other.scope
            for other in self.catalogue.family(spec)
            if other.scope and other.scope != f"{spec.sector.value}.list"
        }
        sector_scopes = [target for target in auth.terms.target_info if target.scope in opening]
        id_field = spec.asset_id_field or ""
        entries = []
        for row in page:
            asset = str(row.payload.get(id_field) or "")
            entry = self._strip(spec, auth, row.payload)
            entry["is_consent"] = any(target.covers(asset) for target in sector_scopes)
            entries.append(entry)
        body: dict[str, Any] = {
            **success_envelope(),
            spec.count_field or "": len(entries),
            spec.list_field or "": entries,
        }
        if next_page:
            body["next_page"] = next_page
        if spec.search_timestamp and not values.get("next_page"):
            body["search_timestamp"] = stamp
        customer = await repository.get_customer(session, auth.consent.customer_id)
        if customer is not None and customer.reg_date and "reg_date" in spec.response.model_fields:
            body["reg_date"] = customer.reg_date
        return self._respond(spec, body)

    async def _asset_info(
        self, session: AsyncSession, call: InfoCall, auth: Authorised, values: Mapping[str, Any], key: str
    ) -> dict[str, Any]:
        spec = call.spec
        if await self._up_to_date(session, call, auth, values, key):
            return success_envelope(RspCode.UP_TO_DATE)
        stamp = search_timestamp_for(utcnow())
        rows = await repository.select_records(session, auth.consent.customer_id, spec.id, key, limit=1)
        if not rows:
            raise StandardError(RspCode.ASSET_INVALID)
        body: dict[str, Any] = {**self._strip(spec, auth, rows[0].payload), **success_envelope()}
        if spec.search_timestamp:
            body["search_timestamp"] = stamp
        return self._respond(spec, body)

    async def _page(
        self,
        session: AsyncSession,
        call: InfoCall,
        auth: Authorised,
        values: Mapping[str, Any],
        key: str,
        filters: Mapping[str, str],
    ) -> tuple[list[Any], str | None]:
        """One page in seq order (keyset), and the cursor naming the first object of the next page."""
        limit = self._limit(call, values)
        from_seq = self._from_seq(call, auth, values, key)
        rows = await repository.select_records(
            session,
            auth.consent.customer_id,
            call.spec.id,
            key,
            from_seq=from_seq,
            limit=None if limit is None else limit + 1,
            **filters,
        )
        if limit is None or len(rows) <= limit:
            return rows, None
        cursor = encode_cursor({"seq": rows[limit].seq}, key=self.cursor_key, binding=self._binding(call, auth, key))
        return rows[:limit], cursor

    def _consented_entry(self, call: InfoCall, auth: Authorised) -> Callable[[Mapping[str, Any]], bool]:
        """A customer-level API (no asset_field) still sends only consented assets' entries: an entry naming
        the sector's asset (e.g. 통신-002 bills name their mgmt_id) must be covered by the consent."""
        if call.spec.asset_field:
            return lambda _payload: True
        id_fields = [spec.asset_id_field for spec in self.catalogue.asset_lists_for(call.spec) if spec.asset_id_field]
        scope = self.required_scope(call)
        terms = auth.terms

        def consented(payload: Mapping[str, Any]) -> bool:
            return all(terms.covers(scope, str(payload[name])) for name in id_fields if name in payload)

        return consented

    async def _records(
        self,
        session: AsyncSession,
        call: InfoCall,
        auth: Authorised,
        values: Mapping[str, Any],
        key: str,
        period_range: tuple[str, str] | None,
    ) -> dict[str, Any]:
        spec = call.spec
        if await self._up_to_date(session, call, auth, values, key):
            return success_envelope(RspCode.UP_TO_DATE)
        stamp = search_timestamp_for(utcnow())
        filters: dict[str, str] = {}
        if period_range is not None:
            width = 6 if spec.range_unit == "month" else 8
            filters = {"period_from": period_range[0][:width], "period_to": period_range[1][:width]}
        elif spec.period_field and values.get(spec.period_field):
            filters = {"period": str(values[spec.period_field])}
        page, next_page = await self._page(session, call, auth, values, key, filters)
        consented = self._consented_entry(call, auth)
        entries = [self._strip(spec, auth, row.payload) for row in page if consented(row.payload)]
        body: dict[str, Any] = {**success_envelope(), spec.list_field or "": entries}
        if spec.count_field:
            body[spec.count_field] = len(entries)
        if next_page:
            body["next_page"] = next_page
        if spec.search_timestamp and not values.get("next_page"):
            body["search_timestamp"] = stamp
        return self._respond(spec, body)
