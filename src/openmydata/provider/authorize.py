"""개별인증-001/002: the institution's own login and asset-selection pages, and the authorization code they end in.

These pages are visited by the person's browser, not by a participant: they are served on the provider's public
listener and are exempt from the mutual-TLS peer check (`is_person_path`). The flow:

1. `GET /oauth/2.0/authorize` (개별인증-001). client_id and redirect_uri are checked first: an unknown client or a
   redirect_uri other than the one registered through 지원-003 is a 400 JSON answer, never a redirect. Every later
   problem is a 302 to the redirect_uri with `error`, `error_description`, `state` and `api_tran_id`. PKCE with
   S256 is required (an extension over the standard, docs/decisions.md). The request becomes an `Authorization`
   row bound to this browser by a cookie and to the pages by a CSRF token, and the login page is shown.
2. `POST …/login`: name, birth date, phone number and the six-digit PIN (`CustomerLogin`, scrypt). Failed
   attempts count per request (the fifth ends it with access_denied) and per customer (five wrong PINs in a row
   lock the login for 30 minutes, whichever request they came through).
3. `POST …/consent`: the assets (from the asset lists of the provider's industries), scopes, period and
   sensitive-data flags the person chose become the request's consent terms, and a code (aNS(128), single use,
   at most 10 minutes, stored as its SHA-256) goes back to the redirect_uri with the state.
4. 개별인증-002 (`POST /oauth/2.0/token`, grant_type=authorization_code; `parse_code_request`, `redeem_code`):
   the code, the client, the redirect_uri and the PKCE verifier are checked; then the consent is recorded (replacing
   the customer's earlier one with that operator, as 통합인증-002 does) and the token pair is issued, the access
   token bound to the client certificate. A code presented again revokes the tokens it gave (RFC 6749 §4.1.2).

The consent is recorded when the code is redeemed, not when the person submits the page: a code the operator
never redeems leaves the customer's earlier consent (and its tokens) as they were.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import re
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from fastapi import APIRouter, FastAPI, Request
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from openmydata.kit import ids
from openmydata.kit import logging as log
from openmydata.kit.clock import KST, as_utc, to_dtime, utcnow
from openmydata.kit.errors import OAuthError
from openmydata.provider import repository
from openmydata.provider.models import (
    AUTHZ_ENDED,
    AUTHZ_ISSUED,
    AUTHZ_LOGIN,
    AUTHZ_REDEEMED,
    AUTHZ_SELECT,
    CONSENT_ACTIVE,
    CONSENT_REVOKED,
    Authorization,
    Customer,
    CustomerLogin,
    RegistryService,
)
from openmydata.provider.service import parse_form, record_consent, token_scope
from openmydata.standard.apis.auth import TOKEN_SCOPE_MAX, AuthorizationCodeRequest, AuthorizeRequest, TokenResponse
from openmydata.standard.catalogue import ApiSpec, Catalogue
from openmydata.standard.consent import (
    ALL_ASSETS,
    ConsentAsset,
    TargetInfo,
    TransmissionCycle,
    TransmissionRequest,
)
from openmydata.standard.formats import Party, is_valid_tran_id, new_tran_id
from openmydata.standard.peers import Peer
from openmydata.standard.scopes import SCOPE_NAMES

if TYPE_CHECKING:
    from openmydata.provider.endpoints import ProviderContext

_logger = log.get_logger("openmydata.provider.authorize")

PREFIX = "/oauth/2.0/authorize"
CODE_TTL_S = 600  # digest §10.4: an authorization code lives at most 10 minutes
FLOW_TTL_S = 600  # the person's time for the login and selection pages
MAX_LOGIN_ATTEMPTS = 5  # failed sign-ins within one authorization request, then access_denied
MAX_PIN_FAILURES = 5  # wrong PINs in a row for one customer, then the login is locked
LOCKOUT_S = 1800
KEEP_S = 86_400  # finished requests are kept a day after they expire (a reused code is recognised meanwhile)
DEFAULT_PIN_KDF_COST = 2**14
# Consent periods the person may choose: label → days (at most one year, guideline §2).
PERIODS = {"12": ("1년", 365), "6": ("6개월", 182), "3": ("3개월", 91)}
SENSITIVE_FLAGS = {
    "is_consent_trans_memo": "거래 적요",
    "is_consent_merchant_name_regno": "가맹점명·사업자등록번호",
    "is_consent_trans_category": "주문내역·카테고리",
}
NAME_FIELDS = ("prod_name", "card_name", "account_name", "fob_name", "pp_name", "telecom_num", "account_id")
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}

_VERIFIER_RE = re.compile(r"[A-Za-z0-9._~-]{43,128}")
_CHALLENGE_RE = re.compile(r"[A-Za-z0-9_-]{43}")
_STATE_RE = re.compile(r"[0-9A-Za-z]{1,40}")
_CI_RE = re.compile(r"[A-Za-z0-9+/=]{1,100}")
_PIN_RE = re.compile(r"[0-9]{6}")
_MAX_FORM_BYTES = 16 * 1024
_HERE = Path(__file__).parent
TEMPLATES = Jinja2Templates(directory=str(_HERE / "templates"))

Clock = Callable[[], datetime]


def is_person_path(path: str) -> bool:
    """The pages a person's browser visits (개별인증-001 and its forms and style sheet): no client certificate."""
    return path == PREFIX or path.startswith(PREFIX + "/")


# PINs: scrypt, the parameters stored with the hash (the same scheme as the certification authority's) ----------


def hash_login_pin(pin: str, cost: int = DEFAULT_PIN_KDF_COST) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(pin.encode("utf-8"), salt=salt, n=cost, r=8, p=1, dklen=32)
    encode = base64.urlsafe_b64encode
    return f"scrypt${cost}$8$1${encode(salt).decode()}${encode(digest).decode()}"


def login_pin_matches(pin: str, stored: str) -> bool:
    try:
        scheme, cost, block, parallel, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.urlsafe_b64decode(digest)
        actual = hashlib.scrypt(
            pin.encode("utf-8"),
            salt=base64.urlsafe_b64decode(salt),
            n=int(cost),
            r=int(block),
            p=int(parallel),
            dklen=len(expected),
        )
    except ValueError:
        return False
    return hmac.compare_digest(actual, expected)


@cache
def _decoy_hash() -> str:
    """Checked when nobody matches the name, birth date and phone, so that an unknown person costs a hash too."""
    return hash_login_pin(secrets.token_hex(8))


# PKCE (RFC 7636) ---------------------------------------------------------------------------------------------


def s256_challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


# the flow's clock ----------------------------------------------------------------------------------------------


class AuthorizeFlow:
    """What the authorization pages and 개별인증-002 share per app: the clock (tests move it)."""

    def __init__(self, clock: Clock = utcnow):
        self.clock = clock


def flow_of(app: FastAPI) -> AuthorizeFlow:
    flow: AuthorizeFlow | None = getattr(app.state, "authorize_flow", None)
    if flow is None:
        flow = AuthorizeFlow()
        app.state.authorize_flow = flow
    return flow


def _provider(request: Request) -> ProviderContext:
    provider: ProviderContext = request.app.state.provider
    return provider


# responses -----------------------------------------------------------------------------------------------------


def _json_error(error: str, description: str) -> JSONResponse:
    """개별인증-001 with an unknown client or a redirect_uri other than the registered one: no redirect."""
    return JSONResponse({"error": error, "error_description": description}, status_code=400, headers=NO_STORE)


def _api_tran_id(request: Request, org_code: str) -> str:
    """The response's x-api-tran-id, which the redirect carries as api_tran_id (a header cannot travel along)."""
    current = getattr(request.state, "tran_id", None)
    if isinstance(current, str) and is_valid_tran_id(current):
        return current
    return new_tran_id(org_code, Party.PROVIDER)


def _with_query(uri: str, params: Mapping[str, str]) -> str:
    parts = urlsplit(uri)
    query = parse_qsl(parts.query, keep_blank_values=True) + list(params.items())
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))


def _origin(uri: str) -> str:
    parts = urlsplit(uri)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def _cookie_name(org_code: str) -> str:
    return f"omd_authz_{org_code}"


def _redirect(
    request: Request, org_code: str, redirect_uri: str, params: Mapping[str, str], *, clear_cookie: bool = True
) -> Response:
    query = {**params, "api_tran_id": _api_tran_id(request, org_code)}
    response = RedirectResponse(_with_query(redirect_uri, query), status_code=302, headers=NO_STORE)
    if clear_cookie:
        response.delete_cookie(_cookie_name(org_code), path=PREFIX)
    return response


def _error_redirect(
    request: Request, org_code: str, redirect_uri: str, error: str, description: str, state: str | None
) -> Response:
    params = {"error": error, "error_description": description}
    if state and _STATE_RE.fullmatch(state):
        params["state"] = state
    return _redirect(request, org_code, redirect_uri, params)


def _page(
    request: Request, name: str, context: Mapping[str, Any], *, status_code: int = 200, form_target: str = ""
) -> HTMLResponse:
    provider = _provider(request)
    base = {"org_name": provider.settings.org_name, "prefix": PREFIX}
    response = TEMPLATES.TemplateResponse(request, name, {**base, **context}, status_code=status_code)
    form_action = " ".join(item for item in ("'self'", form_target) if item)
    response.headers.update(
        {
            **NO_STORE,
            "Content-Security-Policy": (
                f"default-src 'none'; style-src 'self'; img-src 'self'; form-action {form_action}; "
                "frame-ancestors 'none'; base-uri 'none'"
            ),
            "X-Frame-Options": "DENY",
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
        }
    )
    return response


def _problem_page(request: Request, message: str, status_code: int = 400) -> HTMLResponse:
    return _page(
        request,
        "authorize_error.html",
        {"title": "요청을 처리할 수 없습니다", "message": message},
        status_code=status_code,
    )


# what the person sees and chooses ------------------------------------------------------------------------------


@dataclass(frozen=True)
class AssetChoice:
    value: str
    label: str


@dataclass(frozen=True)
class AssetGroup:
    title: str
    assets: list[AssetChoice]


def _mask(identifier: str) -> str:
    """An asset number on the screen: the last four characters only."""
    return "*" * min(len(identifier), 4) if len(identifier) <= 4 else f"****{identifier[-4:]}"


def _asset_label(payload: Mapping[str, Any], identifier: str) -> str:
    name = next((str(payload[field]) for field in NAME_FIELDS if payload.get(field) not in (None, "")), "")
    masked = _mask(identifier)
    return f"{name} ({masked})" if name and name != identifier else masked


def _asset_lists(catalogue: Catalogue, industries: Sequence[str]) -> list[ApiSpec]:
    lists: dict[str, ApiSpec] = {}
    for industry in industries:
        for spec in catalogue.asset_lists(industry):
            lists.setdefault(spec.id, spec)
    return list(lists.values())


def _scope_lists(catalogue: Catalogue, industries: Sequence[str]) -> dict[str, set[str]]:
    """Every non-list scope of the industries that some information API needs → the asset lists those APIs take
    their assets from (empty when the sector has no asset list)."""
    scopes: dict[str, set[str]] = {}
    for industry in industries:
        used: dict[str, set[str]] = {}
        for spec in catalogue.info_apis([industry]):
            scope = spec.scope_for(industry)  # IRP-002 under invest needs invest.irp
            if scope and not scope.endswith(".list"):
                used.setdefault(scope, set()).update(origin.id for origin in catalogue.asset_lists_for(spec))
        for scope in catalogue.scopes(industry):  # in the catalogue's order
            if scope in used:
                scopes.setdefault(scope, set()).update(used[scope])
    return scopes


async def _customer_assets(
    session: AsyncSession, catalogue: Catalogue, industries: Sequence[str], customer_id: int
) -> tuple[list[AssetGroup], dict[str, set[str]]]:
    """The customer's assets grouped by asset list, and each list's asset identifiers."""
    groups: list[AssetGroup] = []
    by_list: dict[str, set[str]] = {}
    for spec in _asset_lists(catalogue, industries):
        field = spec.asset_id_field or ""
        choices: list[AssetChoice] = []
        for row in await repository.select_records(session, customer_id, spec.id, ""):
            identifier = str(row.payload.get(field) or "")
            if identifier and identifier not in by_list.setdefault(spec.id, set()):
                by_list[spec.id].add(identifier)
                choices.append(AssetChoice(identifier, _asset_label(row.payload, identifier)))
        if choices:
            groups.append(AssetGroup(spec.title.removesuffix(" 조회"), choices))
    return groups, by_list


def _terms(
    *,
    provider_org: str,
    operator_org: str,
    service_name: str,
    scopes: Sequence[str],
    assets: set[str],
    scope_lists: Mapping[str, set[str]],
    assets_by_list: Mapping[str, set[str]],
    days: int,
    flags: Mapping[str, bool],
    now: datetime,
) -> TransmissionRequest | None:
    """The consent the person chose: per scope, the chosen assets of the lists its APIs use (all assets for a scope
    whose APIs name none); a scope none of whose assets was chosen is left out. None when nothing is left."""
    targets: list[TargetInfo] = []
    for scope in scopes:
        lists = scope_lists.get(scope, set())
        if not lists:
            targets.append(TargetInfo(scope=scope, asset_list=[ConsentAsset(asset=ALL_ASSETS)]))
            continue
        covered = sorted(asset for asset in assets if any(asset in assets_by_list.get(name, ()) for name in lists))
        if covered:
            targets.append(TargetInfo(scope=scope, asset_list=[ConsentAsset(asset=asset) for asset in covered]))
    if not targets:
        return None
    end = to_dtime((now + timedelta(days=days)).astimezone(KST))
    return TransmissionRequest(
        snd_org_code=provider_org,
        rcv_org_code=operator_org,
        is_scheduled=True,
        cycle=TransmissionCycle(),
        end_date=end,
        purpose=_purpose(service_name),
        holding_period=end,
        target_info=targets,
        **flags,
    )


def _purpose(service_name: str) -> str:
    """The consent's purpose (AH(300): at most 300 bytes)."""
    text = f"{service_name} 서비스 제공" if service_name else "마이데이터 서비스 제공"
    while len(text.encode("utf-8")) > 300:
        text = text[:-1]
    return text


# the pages -----------------------------------------------------------------------------------------------------


async def _read_form(request: Request) -> dict[str, list[str]] | None:
    """The page's urlencoded form (bounded); None when it is not one."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > _MAX_FORM_BYTES:
        return None
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > _MAX_FORM_BYTES:
            return None
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True)
    except UnicodeDecodeError:
        return None
    form: dict[str, list[str]] = {}
    for key, value in pairs:
        form.setdefault(key, []).append(value)
    return form


def _one(form: Mapping[str, list[str]], name: str) -> str:
    values = form.get(name) or [""]
    return values[0]


async def _flow_of_form(request: Request, session: AsyncSession, form: Mapping[str, list[str]]) -> Authorization | None:
    """The authorization request a page's form belongs to: its id and CSRF token in the form, its cookie in this
    browser. None when any of them does not match."""
    provider = _provider(request)
    authorization_id = _one(form, "flow")
    cookie = request.cookies.get(_cookie_name(provider.settings.org_code), "")
    if not authorization_id or len(authorization_id) > 64 or not cookie:
        return None
    authorization = await repository.get_authorization(session, authorization_id)
    if authorization is None:
        return None
    if not hmac.compare_digest(authorization.browser_hash, _sha256(cookie)):
        return None
    if not hmac.compare_digest(authorization.csrf.encode("utf-8"), _one(form, "csrf").encode("utf-8")):
        return None
    return authorization


def _login_page(
    request: Request,
    authorization: Authorization,
    service_name: str,
    *,
    error: str | None = None,
    values: Mapping[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return _page(
        request,
        "authorize_login.html",
        {
            "title": "로그인",
            "flow": authorization.id,
            "csrf": authorization.csrf,
            "service_name": service_name,
            "error": error,
            "values": values or {},
        },
        status_code=status_code,
        form_target=_origin(authorization.redirect_uri),
    )


async def _selection_page(
    request: Request,
    session: AsyncSession,
    authorization: Authorization,
    customer: Customer,
    service_name: str,
    *,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    provider = _provider(request)
    industries = provider.settings.industries
    groups, _by_list = await _customer_assets(session, provider.catalogue, industries, customer.id)
    scopes = [
        {"scope": scope, "label": SCOPE_NAMES.get(scope, scope)}
        for scope in _scope_lists(provider.catalogue, industries)
    ]
    return _page(
        request,
        "authorize_consent.html",
        {
            "title": "전송할 자산 선택",
            "flow": authorization.id,
            "csrf": authorization.csrf,
            "service_name": service_name,
            "customer_name": customer.name,
            "groups": groups,
            "scopes": scopes,
            "periods": [(value, label) for value, (label, _days) in PERIODS.items()],
            "flags": list(SENSITIVE_FLAGS.items()),
            "error": error,
        },
        status_code=status_code,
        form_target=_origin(authorization.redirect_uri),
    )


async def _service_of(session: AsyncSession, authorization: Authorization) -> str:
    service = await repository.get_service(session, authorization.client_id)
    return service.service_name if service is not None else authorization.rcv_org_code


def _normalise_phone(phone: str) -> str:
    digits = re.sub(r"[^0-9]", "", phone)
    if phone.strip().startswith("+82") or (digits.startswith("82") and len(digits) >= 11):
        digits = "0" + digits[2:].lstrip("0")
    return digits


async def _find_login(
    session: AsyncSession, name: str, birth_date: str, phone: str
) -> tuple[Customer | None, CustomerLogin | None]:
    for customer in await repository.customers_by_name_and_birth_date(session, name, birth_date):
        if _normalise_phone(customer.phone) == phone:
            login = await repository.customer_login(session, customer.id)
            if login is not None:
                return customer, login
    return None, None


async def _registered_service(provider: ProviderContext, client_id: str) -> RegistryService | None:
    async with provider.db.transaction() as session:
        service = await repository.get_service(session, client_id)
    if service is None and await provider.registry.resync_for_unknown_client():
        async with provider.db.transaction() as session:
            service = await repository.get_service(session, client_id)
    return service


def _pkce_problem(request: AuthorizeRequest) -> str | None:
    if not request.code_challenge:
        return "code_challenge is required (PKCE with S256)"
    if request.code_challenge_method != "S256":
        return "code_challenge_method must be S256"
    if not _CHALLENGE_RE.fullmatch(request.code_challenge):
        return "code_challenge is not a Base64url SHA-256 (43 characters)"
    return None


def build_authorize_router() -> APIRouter:
    router = APIRouter()

    @router.get(PREFIX, summary="개별인증-001 인가코드 발급 요청", response_model=None)
    async def authorize(request: Request) -> Response:
        """개별인증-001: the provider's login page, then the asset selection; ends in a 302 to the redirect_uri."""
        provider = _provider(request)
        settings = provider.settings
        query = dict(request.query_params)
        client_id, redirect_uri = query.get("client_id", ""), query.get("redirect_uri", "")
        if not client_id or not redirect_uri:
            return _json_error("invalid_request", "client_id and redirect_uri are required")
        if len(client_id) > 50 or len(redirect_uri) > 200:
            return _json_error("invalid_request", "client_id or redirect_uri is too long")
        service = await _registered_service(provider, client_id)
        if service is None:
            return _json_error("invalid_client", "client_id is not a registered service")
        if not service.redirect_uri or not hmac.compare_digest(
            service.redirect_uri.encode("utf-8"), redirect_uri.encode("utf-8")
        ):
            return _json_error("invalid_request", "redirect_uri is not the one registered for this client")
        state = query.get("state")
        org_code = settings.org_code

        def refuse(error: str, description: str) -> Response:
            return _error_redirect(request, org_code, redirect_uri, error, description, state)

        if query.get("response_type") != "code":
            return refuse("unsupported_response_type", "response_type must be code")
        try:
            parsed = AuthorizeRequest.model_validate(query)
        except ValidationError as exc:
            fields = sorted({str(error["loc"][0]) for error in exc.errors() if error.get("loc")})
            return refuse("invalid_request", "invalid or missing: " + ", ".join(fields))
        if parsed.org_code != org_code:
            return refuse("invalid_request", "org_code is not this provider's")
        problem = _pkce_problem(parsed)
        if problem:
            return refuse("invalid_request", problem)
        if parsed.app_scheme is not None and parsed.app_scheme != (service.app_scheme or ""):
            return refuse("invalid_request", "app_scheme is not the one registered for this client")
        user_ci = request.headers.get("x-user-ci")
        if user_ci is not None and not _CI_RE.fullmatch(user_ci):
            return refuse("invalid_request", "x-user-ci is not a CI (Base64, at most 100 characters)")
        assert parsed.code_challenge is not None
        now = flow_of(request.app).clock()
        browser = secrets.token_urlsafe(32)
        authorization = Authorization(
            id=secrets.token_urlsafe(32),
            browser_hash=_sha256(browser),
            csrf=secrets.token_urlsafe(32),
            client_id=service.client_id,
            rcv_org_code=service.org_code,
            redirect_uri=redirect_uri,
            state=parsed.state,
            code_challenge=parsed.code_challenge,
            app_scheme=parsed.app_scheme,
            user_ci=user_ci,
            customer_id=None,
            login_failures=0,
            status=AUTHZ_LOGIN,
            created_at=now,
            expires_at=now + timedelta(seconds=FLOW_TTL_S),
        )
        async with provider.db.transaction() as session:
            await repository.delete_authorizations_before(session, now - timedelta(seconds=KEEP_S))
            await repository.add_authorization(session, authorization)
        response = _login_page(request, authorization, service.service_name)
        response.set_cookie(
            _cookie_name(org_code),
            browser,
            max_age=FLOW_TTL_S,
            path=PREFIX,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
        )
        return response

    @router.post(PREFIX + "/login", include_in_schema=False, response_model=None)
    async def login(request: Request) -> Response:
        provider = _provider(request)
        form = await _read_form(request)
        if form is None:
            return _problem_page(request, "요청을 읽을 수 없습니다.")
        async with provider.db.transaction() as session:
            return await _login(request, session, form)

    @router.post(PREFIX + "/consent", include_in_schema=False, response_model=None)
    async def consent(request: Request) -> Response:
        provider = _provider(request)
        form = await _read_form(request)
        if form is None:
            return _problem_page(request, "요청을 읽을 수 없습니다.")
        async with provider.db.transaction() as session:
            return await _consent(request, session, form)

    @router.get(PREFIX + "/style.css", include_in_schema=False, response_model=None)
    async def style() -> Response:
        return Response(_style(), media_type="text/css", headers={"Cache-Control": "max-age=3600"})

    return router


@cache
def _style() -> str:
    return (_HERE / "templates" / "authorize.css").read_text(encoding="utf-8")


async def _current(
    request: Request, session: AsyncSession, form: Mapping[str, list[str]], expected: str
) -> Authorization | Response:
    """The form's authorization request in the `expected` step, or the response that ends this request."""
    provider = _provider(request)
    authorization = await _flow_of_form(request, session, form)
    if authorization is None:
        return _problem_page(
            request, "요청을 확인할 수 없습니다. 이용하시던 서비스로 돌아가 처음부터 다시 시도해 주세요."
        )
    org_code = provider.settings.org_code
    if authorization.status != expected:
        return _problem_page(request, "이미 처리된 요청입니다. 이용하시던 서비스로 돌아가 주세요.", status_code=409)
    if _one(form, "action") == "cancel":
        authorization.status = AUTHZ_ENDED
        return _error_redirect(
            request,
            org_code,
            authorization.redirect_uri,
            "access_denied",
            "the customer cancelled",
            authorization.state,
        )
    if flow_of(request.app).clock() >= as_utc(authorization.expires_at):
        authorization.status = AUTHZ_ENDED
        return _error_redirect(
            request,
            org_code,
            authorization.redirect_uri,
            "access_denied",
            "the authorization request expired",
            authorization.state,
        )
    return authorization


async def _login(request: Request, session: AsyncSession, form: Mapping[str, list[str]]) -> Response:
    current = await _current(request, session, form, AUTHZ_LOGIN)
    if isinstance(current, Response):
        return current
    authorization = current
    provider = _provider(request)
    service_name = await _service_of(session, authorization)
    name = " ".join(_one(form, "name").split())
    birth_date = re.sub(r"[^0-9]", "", _one(form, "birth_date"))
    phone = _normalise_phone(_one(form, "phone"))
    pin = _one(form, "pin")
    values = {"name": name, "birth_date": _one(form, "birth_date")[:20], "phone": _one(form, "phone")[:20]}
    if not name or len(name) > 100 or len(birth_date) != 8 or not 9 <= len(phone) <= 11 or not _PIN_RE.fullmatch(pin):
        return _login_page(
            request,
            authorization,
            service_name,
            error="이름, 생년월일(8자리), 휴대폰 번호와 6자리 비밀번호를 입력해 주세요.",
            values=values,
            status_code=400,
        )
    now = flow_of(request.app).clock()
    customer, login = await _find_login(session, name, birth_date, phone)
    locked = login is not None and login.locked_until is not None and as_utc(login.locked_until) > now
    matched = False
    if not locked:
        stored = login.pin_hash if login is not None else _decoy_hash()
        matched = await asyncio.to_thread(login_pin_matches, pin, stored) and login is not None
    if matched and customer is not None and login is not None:
        login.failures = 0
        login.locked_until = None
        login.updated_at = now
        if authorization.user_ci and not hmac.compare_digest(authorization.user_ci, customer.ci):
            authorization.status = AUTHZ_ENDED
            return _error_redirect(
                request,
                provider.settings.org_code,
                authorization.redirect_uri,
                "access_denied",
                "the customer who signed in is not the one the service named (x-user-ci)",
                authorization.state,
            )
        authorization.customer_id = customer.id
        authorization.status = AUTHZ_SELECT
        await repository.audit(
            session,
            "customer_login",
            {"customer_id": customer.id, "client_id": authorization.client_id},
            at=now,
        )
        return await _selection_page(request, session, authorization, customer, service_name)
    # a failed attempt: counted for this request and, for a known customer, towards the lock
    authorization.login_failures += 1
    if login is not None and not locked:
        login.failures += 1
        login.updated_at = now
        if login.failures >= MAX_PIN_FAILURES:
            login.failures = 0
            login.locked_until = now + timedelta(seconds=LOCKOUT_S)
            locked = True
            await repository.audit(session, "customer_login_locked", {"customer_id": login.customer_id}, at=now)
    await repository.audit(
        session,
        "customer_login_failed",
        {"customer_id": customer.id if customer is not None else None, "client_id": authorization.client_id},
        at=now,
    )
    if authorization.login_failures >= MAX_LOGIN_ATTEMPTS:
        authorization.status = AUTHZ_ENDED
        return _error_redirect(
            request,
            provider.settings.org_code,
            authorization.redirect_uri,
            "access_denied",
            "too many failed sign-in attempts",
            authorization.state,
        )
    left = MAX_LOGIN_ATTEMPTS - authorization.login_failures
    message = (
        f"비밀번호를 여러 번 잘못 입력해 로그인이 잠겼습니다. {LOCKOUT_S // 60}분 뒤에 다시 시도해 주세요."
        if locked
        else f"입력하신 정보가 일치하지 않습니다. ({left}회 더 시도할 수 있습니다)"
    )
    return _login_page(request, authorization, service_name, error=message, values=values, status_code=401)


async def _consent(request: Request, session: AsyncSession, form: Mapping[str, list[str]]) -> Response:
    current = await _current(request, session, form, AUTHZ_SELECT)
    if isinstance(current, Response):
        return current
    authorization = current
    provider = _provider(request)
    settings = provider.settings
    customer = (
        await repository.get_customer(session, authorization.customer_id)
        if authorization.customer_id is not None
        else None
    )
    if customer is None:
        authorization.status = AUTHZ_ENDED
        return _problem_page(request, "고객 정보를 찾을 수 없습니다.", status_code=409)
    service_name = await _service_of(session, authorization)
    scope_lists = _scope_lists(provider.catalogue, settings.industries)
    _groups, by_list = await _customer_assets(session, provider.catalogue, settings.industries, customer.id)
    owned = set().union(*by_list.values()) if by_list else set()
    chosen_scopes = [scope for scope in dict.fromkeys(form.get("scope") or []) if scope in scope_lists]
    chosen_assets = {asset for asset in form.get("asset") or [] if asset in owned}
    period = PERIODS.get(_one(form, "period"))
    now = flow_of(request.app).clock()
    terms = (
        _terms(
            provider_org=settings.org_code,
            operator_org=authorization.rcv_org_code,
            service_name=service_name,
            scopes=chosen_scopes,
            assets=chosen_assets,
            scope_lists=scope_lists,
            assets_by_list=by_list,
            days=period[1],
            flags={name: _one(form, name) == "on" for name in SENSITIVE_FLAGS},
            now=now,
        )
        if period is not None
        else None
    )
    if terms is None:
        return await _selection_page(
            request,
            session,
            authorization,
            customer,
            service_name,
            error="전송할 자산과 정보 항목을 하나 이상 선택해 주세요.",
            status_code=400,
        )
    if len(token_scope(terms, settings.industries)) > TOKEN_SCOPE_MAX:
        # The token's scope (개별인증-002) is aNS(128): more kinds of data than fit go in a second authorization.
        return await _selection_page(
            request,
            session,
            authorization,
            customer,
            service_name,
            error="한 번에 요청할 수 있는 정보 항목 수를 넘었습니다. 항목을 줄여 두 번에 나누어 연결해 주세요.",
            status_code=400,
        )
    code = secrets.token_urlsafe(96)  # 128 characters of the URL-safe alphabet: aNS(128)
    authorization.code_hash = _sha256(code)
    authorization.terms = terms.to_wire()
    authorization.status = AUTHZ_ISSUED
    authorization.expires_at = now + timedelta(seconds=CODE_TTL_S)
    await repository.audit(
        session,
        "authorization_code_issued",
        {
            "customer_id": customer.id,
            "client_id": authorization.client_id,
            "rcv_org_code": authorization.rcv_org_code,
            "scopes": terms.scopes,
        },
        at=now,
    )
    _logger.info("authorization code issued", operator=authorization.rcv_org_code)
    return _redirect(
        request, settings.org_code, authorization.redirect_uri, {"code": code, "state": authorization.state}
    )


# 개별인증-002 --------------------------------------------------------------------------------------------------


def parse_code_request(org_code: str, form: Mapping[str, str]) -> AuthorizationCodeRequest:
    """The 개별인증-002 form (invalid_request when it does not fit the standard's model or names another provider)."""
    request: AuthorizationCodeRequest = parse_form(AuthorizationCodeRequest, form)
    if request.org_code != org_code:
        raise OAuthError("invalid_request", "org_code is not this provider's")
    return request


def _individual_tx_id(operator_org: str, provider_org: str, now: datetime) -> str:
    """The recorded consent's transaction id: `IA_{operator}_{provider}_{DTIME}_{serial(12)}` (통합인증 ids start
    with MD_, so the two never collide)."""
    return f"IA_{operator_org}_{provider_org}_{to_dtime(now)}_{ids.upper_alnum(12)}"


async def redeem_code(
    request: Request,
    provider: ProviderContext,
    code_request: AuthorizationCodeRequest,
    client: RegistryService,
    peer: Peer | None,
) -> dict[str, Any]:
    """개별인증-002 for an authenticated client: the code's checks, then the consent and its token pair."""
    now = flow_of(request.app).clock()
    async with provider.db.transaction() as session:
        outcome = await _redeem(session, provider, code_request, client, peer, now)
    # A reused code's tokens are revoked in the transaction above, which commits before the refusal is raised.
    if isinstance(outcome, OAuthError):
        raise outcome
    _logger.info("authorization code redeemed", operator=client.org_code)
    return outcome


async def _redeem(
    session: AsyncSession,
    provider: ProviderContext,
    code_request: AuthorizationCodeRequest,
    client: RegistryService,
    peer: Peer | None,
    now: datetime,
) -> dict[str, Any] | OAuthError:
    authorization = await repository.authorization_by_code(session, _sha256(code_request.code))
    if authorization is None:
        return OAuthError("invalid_grant", "the authorization code is not valid")
    if authorization.status == AUTHZ_REDEEMED:
        await _revoke_reused(session, authorization, now)
        return OAuthError("invalid_grant", "the authorization code was used before; its tokens are revoked")
    if authorization.status != AUTHZ_ISSUED or authorization.customer_id is None or authorization.terms is None:
        return OAuthError("invalid_grant", "the authorization code is not valid")
    if now >= as_utc(authorization.expires_at):
        return OAuthError("invalid_grant", "the authorization code has expired")
    if authorization.client_id != client.client_id:
        return OAuthError("invalid_grant", "the authorization code was issued to another client")
    if not hmac.compare_digest(authorization.redirect_uri.encode("utf-8"), code_request.redirect_uri.encode("utf-8")):
        return OAuthError("invalid_grant", "redirect_uri differs from the authorization request's")
    verifier = code_request.code_verifier
    if not verifier:
        return OAuthError("invalid_request", "code_verifier is required (PKCE)")
    if not _VERIFIER_RE.fullmatch(verifier) or not hmac.compare_digest(
        s256_challenge(verifier), authorization.code_challenge
    ):
        return OAuthError("invalid_grant", "code_verifier does not match the code_challenge")
    if not await repository.claim_authorization_code(session, authorization.id, now):
        return OAuthError("invalid_grant", "the authorization code was used before")
    terms = TransmissionRequest.model_validate(authorization.terms)
    consent, tokens = await record_consent(
        session,
        provider.issuer,
        customer_id=authorization.customer_id,
        client=client,
        terms=terms,
        scope=token_scope(terms, provider.settings.industries),
        tx_id=_individual_tx_id(client.org_code, provider.settings.org_code, now),
        cert_tx_id="",
        consent_nonce=authorization.id,
        now=now,
        cnf_x5t=peer.thumbprint if peer is not None else None,
    )
    authorization.consent_id = consent.id
    return TokenResponse(
        access_token=tokens.access_token,
        expires_in=tokens.access_expires_in,
        refresh_token=tokens.refresh_token,
        refresh_token_expires_in=tokens.refresh_expires_in,
        scope=tokens.scope,
    ).to_wire()


async def _revoke_reused(session: AsyncSession, authorization: Authorization, now: datetime) -> None:
    """RFC 6749 §4.1.2: a code used twice revokes the tokens issued from it (and ends the consent they serve)."""
    consent_id = authorization.consent_id
    if consent_id is None:
        return
    await repository.revoke_tokens(session, [consent_id], now)
    consent = await repository.get_consent(session, consent_id)
    if consent is not None and consent.status == CONSENT_ACTIVE:
        await repository.set_consent_status(session, [consent_id], CONSENT_REVOKED, now)
    await repository.audit(
        session,
        "authorization_code_reused",
        {"consent_id": consent_id, "client_id": authorization.client_id, "rcv_org_code": authorization.rcv_org_code},
        at=now,
    )
    _logger.warning("authorization code reused; its tokens are revoked", operator=authorization.rcv_org_code)
