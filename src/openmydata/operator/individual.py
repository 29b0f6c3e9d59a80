"""개별인증: connecting one institution with its own login instead of 통합인증's certificate signature.

1. `GET /connect/individual/{org_code}` explains what happens; its form (CSRF-protected) posts back.
2. `POST /connect/individual/{org_code}` makes a `state` (aN(40)) and a PKCE verifier, keeps them server-side as a
   pending request of kind "individual" bound to the person and their web session, and sends the browser to the
   provider's own page, `<provider public URL>/oauth/2.0/authorize` (개별인증-001), with redirect_uri = the
   operator's registered `<public_url>/oauth/callback`. The provider's public URL comes from the
   `provider_public_urls` setting (deployment configuration): 지원-002's `domain` is the mutual-TLS API base.
3. The person signs in there and chooses assets; the provider redirects to `GET /oauth/callback` with code and
   state. The state must be this person's and this session's, unused and recent; the code is exchanged at
   개별인증-002 over mutual TLS, the consent's terms are read back with 정보제공-공통-002, and consent and tokens
   are stored exactly as after 통합인증-002 (`OperatorService.record_grant`). The first collection runs and the
   person lands on the dashboard.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response

from openmydata.kit import ids
from openmydata.kit.clock import as_utc, parse_dtime, to_dtime, utcnow
from openmydata.kit.db import Database
from openmydata.kit.errors import PeerUnavailable
from openmydata.kit.logging import get_logger
from openmydata.operator import repository as repo
from openmydata.operator.endpoints import (
    OptionalViewer,
    SignedIn,
    Viewer,
    _db,
    _form,
    _page,
    _redirect,
    _service,
    _tr,
)
from openmydata.operator.i18n import N_
from openmydata.operator.labels import cycle_label, scope_labels
from openmydata.operator.models import PendingRequest
from openmydata.operator.service import OperatorService, ProviderChoice, provider_scopes
from openmydata.operator.settings import OperatorSettings
from openmydata.standard.apis.auth import AuthorizationCodeRequest, TokenResponse
from openmydata.standard.apis.common import ConsentResponse
from openmydata.standard.client import ApiCallError

_logger = get_logger("openmydata.operator.individual")

KIND = "individual"
CALLBACK_PATH = "/oauth/callback"
PENDING_TTL = timedelta(minutes=15)  # the person's time at the provider's pages (the provider allows 10 minutes)
AUTHORIZE_PATH = "/oauth/2.0/authorize"
ERROR_MESSAGES = {
    "access_denied": N_("기관 화면에서 연결을 취소했거나 본인 확인에 실패했습니다."),
    "invalid_request": N_("기관이 연결 요청을 받아들이지 않았습니다."),
    "unsupported_response_type": N_("기관이 연결 요청을 받아들이지 않았습니다."),
    "server_error": N_("기관에서 오류가 발생했습니다. 잠시 뒤에 다시 시도해 주세요."),
    "temporarily_unavailable": N_("기관이 잠시 응답하지 않습니다. 잠시 뒤에 다시 시도해 주세요."),
}

router = APIRouter(include_in_schema=False)


def redirect_uri(settings: OperatorSettings) -> str:
    """The redirect_uri registered for the operator's service (지원-003): `<public_url>/oauth/callback`."""
    return settings.public_url.rstrip("/") + CALLBACK_PATH


def s256_challenge(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode("ascii")


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


async def _choice(session: AsyncSession, service: OperatorService, org_code: str) -> ProviderChoice | None:
    """The provider, if it is registered and the operator knows where its login page is."""
    if org_code not in service.settings.provider_public_urls:
        return None
    await service.sync_registry(session)
    return next((c for c in await service.provider_choices(session) if c.org_code == org_code), None)


def _failure(request: Request, who: Viewer | None, message: str, status_code: int) -> HTMLResponse:
    """The error page; `message` is a Korean msgid (marked with `N_`), shown in the person's language."""
    tr = _tr(request)
    return _page(
        request,
        "error.html",
        {"title": tr.gettext("기관 연결"), "message": tr.gettext(message)},
        who=who,
        status_code=status_code,
    )


@router.get("/connect/individual/{org_code}", response_class=HTMLResponse)
async def individual_page(request: Request, org_code: str, who: OptionalViewer) -> Response:
    if who is None:
        return _redirect("/")
    service = _service(request)
    async with _db(request).transaction() as session:
        choice = await _choice(session, service, org_code)
    if choice is None:
        return _failure(request, who, N_("이 기관은 기관 로그인(개별인증)으로 연결할 수 없습니다."), 404)
    settings = service.settings
    tr = _tr(request)
    response = _page(
        request,
        "individual.html",
        {
            "title": tr.gettext("기관 로그인으로 연결"),
            "org_code": choice.org_code,
            "provider_name": choice.org_name,
            "scopes": scope_labels(provider_scopes(choice.industries, service.catalogue), tr),
            "purpose": settings.purpose,
            "fnd_cycle": cycle_label(settings.fnd_cycle, tr),
        },
        who=who,
    )
    # The form's answer is a redirect to the provider's page: allow it as a form target.
    public = settings.provider_public_urls[choice.org_code]
    response.headers["Content-Security-Policy"] = (
        f"default-src 'self'; img-src 'self' data:; form-action 'self' {_origin(public)}"
    )
    return response


@router.post("/connect/individual/{org_code}")
async def individual_start(request: Request, org_code: str, who: SignedIn) -> Response:
    await _form(request, who)
    service = _service(request)
    settings = service.settings
    async with _db(request).transaction() as session:
        choice = await _choice(session, service, org_code)
        if choice is None:
            return _failure(request, who, N_("이 기관은 기관 로그인(개별인증)으로 연결할 수 없습니다."), 404)
        state = ids.alnum(40)
        verifier = secrets.token_urlsafe(48)  # 64 characters of [A-Za-z0-9_-] (RFC 7636: 43 to 128)
        await repo.add_pending(
            session,
            PendingRequest(
                cert_tx_id=state,
                kind=KIND,
                person_id=who.person_id,
                prepared={"org_code": choice.org_code, "code_verifier": verifier, "session": who.session_hash},
                state="pending",
                created_at=utcnow(),
            ),
        )
    query = {
        "org_code": choice.org_code,
        "response_type": "code",
        "client_id": settings.service_client_id,
        "redirect_uri": redirect_uri(settings),
        "state": state,
        "code_challenge": s256_challenge(verifier),
        "code_challenge_method": "S256",
    }
    public = settings.provider_public_urls[choice.org_code].rstrip("/")
    _logger.info("individual auth started", person_id=who.person_id, org_code=choice.org_code)
    return _redirect(f"{public}{AUTHORIZE_PATH}?{urlencode(query)}")


async def _claim(session: AsyncSession, state: str, who: Viewer, now: datetime) -> dict[str, Any] | None:
    """What the pending request `state` names prepared (org_code, code_verifier), if it is this person's and this
    session's, unused and recent. It is used up either way."""
    if not state or len(state) > 40 or not state.isalnum():
        return None
    pending = await repo.pending(session, state, KIND)
    if pending is None or pending.state != "pending":
        return None
    prepared = dict(pending.prepared) if isinstance(pending.prepared, dict) else {}
    pending.state = "done"
    pending.prepared = {"org_code": prepared.get("org_code")}  # the verifier is not kept
    usable = (
        pending.person_id == who.person_id
        and hmac.compare_digest(str(prepared.get("session", "")), who.session_hash)
        and now - as_utc(pending.created_at) <= PENDING_TTL
    )
    return prepared if usable else None


@router.get(CALLBACK_PATH)
async def callback(request: Request, who: OptionalViewer) -> Response:
    """Where the provider's page sends the browser back: code and state, or error, error_description and state."""
    if who is None:
        return _redirect("/")
    params = request.query_params
    async with _db(request).transaction() as session:
        prepared = await _claim(session, params.get("state", ""), who, utcnow())
    if prepared is None:
        return _failure(
            request, who, N_("연결 요청을 확인할 수 없습니다. 기관 연결을 처음부터 다시 시작해 주세요."), 400
        )
    org_code = str(prepared.get("org_code", ""))
    error = params.get("error")
    code = params.get("code")
    if error or not code:
        _logger.info("individual auth refused at the provider", org_code=org_code, error=(error or "no code")[:40])
        return _failure(request, who, ERROR_MESSAGES.get(error or "", N_("기관에서 연결을 완료하지 못했습니다.")), 400)
    verifier = str(prepared.get("code_verifier", ""))
    try:
        connected = await connect(_service(request), _db(request), who.person_id, org_code, code, verifier)
    except (ApiCallError, PeerUnavailable) as exc:
        _logger.warning("individual auth failed", org_code=org_code, error=str(exc))
        return _failure(request, who, N_("기관에서 연결을 완료하지 못했습니다. 다시 시도해 주세요."), 502)
    if not connected:
        return _failure(request, who, N_("이 기관은 더 이상 연결할 수 없습니다."), 404)
    return _redirect("/dashboard")


async def connect(
    service: OperatorService, db: Database, person_id: int, org_code: str, code: str, verifier: str
) -> bool:
    """개별인증-002 at the provider (over mutual TLS), 정보제공-공통-002 for the consent's terms, the grant stored as
    after 통합인증-002, then the first collection. False when the provider is no longer registered."""
    settings = service.settings
    async with db.transaction() as session:
        choice = next((c for c in await service.provider_choices(session) if c.org_code == org_code), None)
    if choice is None:
        return False
    client = service.peers.provider(org_code, choice.domain)
    tran_id = client.api.new_tran_id()
    request = AuthorizationCodeRequest(
        org_code=org_code,
        grant_type="authorization_code",
        code=code,
        client_id=settings.service_client_id,
        client_secret=settings.service_client_secret,
        redirect_uri=redirect_uri(settings),
        code_verifier=verifier,
    )
    granted = await client.api.call("개별인증-002", request, tran_id=tran_id)
    tokens: TokenResponse = granted.model
    at = utcnow()
    consent, end_date, is_scheduled = await _terms(service, choice, tokens, at)
    tx_id = f"IA_{settings.org_code}_{org_code}_{to_dtime(at)}_{ids.upper_alnum(12)}"
    async with db.transaction() as session:
        await service.audit.append(
            session,
            "individual_auth",
            {"person_id": person_id, "org_code": org_code, "tx_id": tx_id, "ok": True, "tran_id": tran_id},
            at=at,
        )
        await service.record_grant(
            session,
            person_id,
            org_code,
            tx_id=tx_id,
            consent=consent,
            consent_nonce=None,
            end_date=end_date,
            is_scheduled=is_scheduled,
            tokens=tokens,
            at=at,
        )
        # the first collection from this institution: a durable job that runs once the grant is committed
        await service.enqueue_collections(session, person_id, [org_code], api_type="user-consent")
    _logger.info("individual auth completed", person_id=person_id, org_code=org_code)
    return True


async def _terms(
    service: OperatorService, choice: ProviderChoice, tokens: TokenResponse, at: datetime
) -> tuple[dict[str, Any], datetime, bool]:
    """The consent as the operator records it: what 정보제공-공통-002 reports (the assets were chosen at the provider
    and are not part of it), with the granted scopes. Should 공통-002 fail, the refresh token's end stands in for
    the consent's (providers never let it outlive the consent)."""
    settings = service.settings
    scopes = [scope for scope in tokens.scope.split() if not scope.endswith(".list")]
    consent: dict[str, Any] = {
        "snd_org_code": choice.org_code,
        "rcv_org_code": settings.org_code,
        "target_info": [{"scope": scope} for scope in scopes],
    }
    client = service.peers.provider(choice.org_code, choice.domain)
    try:
        result = await client.api.call(
            "정보제공-공통-002",
            {"org_code": choice.org_code},
            token=tokens.access_token,
            api_type="user-consent",
            path_params={"industry": choice.industries[0]},
        )
    except (ApiCallError, PeerUnavailable) as exc:
        _logger.warning("consent terms not read (정보제공-공통-002)", org_code=choice.org_code, error=str(exc))
        return consent, at + timedelta(seconds=tokens.refresh_token_expires_in), True
    terms: ConsentResponse = result.model
    wire = terms.to_wire()
    consent.update(
        {
            "is_scheduled": wire.get("is_scheduled"),
            "cycle": wire.get("cycle"),
            "end_date": terms.end_date,
            "purpose": terms.purpose,
            "holding_period": terms.period,
            **{
                name: wire[name]
                for name in ConsentResponse.model_fields
                if name.startswith("is_consent_") and name in wire
            },
        }
    )
    return consent, as_utc(parse_dtime(terms.end_date)), bool(terms.is_scheduled)
