"""Routes: the web pages (Jinja2; Korean, or English by the person's choice) and the JSON API (`/api/...`), both
on the same service. Only the pages are translated (`operator.i18n`): the JSON API answers the same in every
language.

The request boundary owns the transaction. Completing a consent commits the consents and tokens first and then
collects in a second transaction, so a collection failure never loses a signed consent.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from gettext import NullTranslations
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from openmydata.kit.clock import as_utc, to_dtime, utcnow
from openmydata.kit.db import Database
from openmydata.kit.errors import ServiceError
from openmydata.operator import i18n
from openmydata.operator import repository as repo
from openmydata.operator.i18n import N_, request_language, translations
from openmydata.operator.insights.features import Held
from openmydata.operator.insights.view import CreditOutcome, CreditView
from openmydata.operator.labels import cycle_label, scope_labels
from openmydata.operator.personal import Member
from openmydata.operator.schemas import (
    ApprovalResponse,
    CollectedResponse,
    CollectionResponse,
    CompleteRequest,
    ConsentCompleteResponse,
    ConsentItem,
    ConsentRequest,
    ConsentsResponse,
    HistoryItem,
    HistoryResponse,
    InstitutionProgressItem,
    ProviderItem,
    ProviderResult,
    ProvidersResponse,
    RecordItem,
    RecordsResponse,
    RevokedItem,
    SessionResponse,
    SignupRequest,
    WithdrawInstitutionRequest,
    WithdrawInstitutionResponse,
    WithdrawResponse,
)
from openmydata.operator.security import csrf_matches, csrf_token, token_hash
from openmydata.operator.service import SENSITIVE_FLAGS, OperatorService, normalise_applicant, provider_scopes
from openmydata.operator.settings import OperatorSettings
from openmydata.operator.views import (
    ACTIVE_PHASES,
    build_dashboard,
    day_text,
    industries_label,
    industry_label,
    moment_text,
    progress_labels,
    progress_rows,
    won,
)
from openmydata.standard.apis import CATALOGUE
from openmydata.standard.apis.support import MemberConsentsRequest
from openmydata.standard.codes import RspCode, StandardError
from openmydata.standard.profiles import SUCCESS_CODES

SESSION_COOKIE = "omd_session"
TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
TEMPLATES.env.filters["day"] = day_text
i18n.install(TEMPLATES.env)

router = APIRouter()

REVOKED_CODES = SUCCESS_CODES | {RspCode.REVOKE_INVALID_TOKEN.value}


# plumbing


def _db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def _service(request: Request) -> OperatorService:
    service: OperatorService = request.app.state.service
    return service


def _credit(request: Request) -> CreditView:
    view: CreditView = request.app.state.credit
    return view


async def _held(session: AsyncSession, person: Member) -> list[Held]:
    """Everything the person has moved here, opened: (org_code, api_id, key, payload) of every asset and record."""
    assets = await repo.assets_of(session, person.id, person.key)
    records = await repo.records_of(session, person.id, person.key)
    held: list[Held] = [(asset.org_code, asset.api_id, asset.asset_key, asset.payload) for asset in assets]
    held += [(record.org_code, record.api_id, record.key, record.payload) for record in records]
    return held


async def _assess(request: Request, held: list[Held]) -> CreditOutcome:
    """The credit view of what the person holds here (assets and records of every institution)."""
    return await run_in_threadpool(_credit(request).assess, [(api_id, payload) for _, api_id, _, payload in held])


def _credit_json(outcome: CreditOutcome, lang: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "available": outcome.assessment is not None,
        "has_telecom": outcome.has_telecom,
        "has_credit_history": outcome.has_credit_history,
    }
    if outcome.assessment is None:
        body["reason"] = outcome.problem
        return body
    assessment = outcome.assessment
    body.update(
        {
            "probability": round(assessment.probability, 4),
            "band": assessment.band,
            "band_label": assessment.band_en if lang == "en" else assessment.band_ko,
            "reasons": [
                {
                    "feature": reason.feature,
                    "label": reason.label(lang),
                    "value": round(reason.value, 4),
                    "contribution": round(reason.contribution, 4),
                    "raises_risk": reason.raises_risk,
                }
                for reason in assessment.reasons
            ],
        }
    )
    return body


def _settings(request: Request) -> OperatorSettings:
    settings: OperatorSettings = request.app.state.settings
    return settings


async def transaction(request: Request) -> AsyncIterator[AsyncSession]:
    async with _db(request).transaction() as session:
        yield session


# scope="function": commit before the response is sent, so a client acting on it sees the change.
Session = Annotated[AsyncSession, Depends(transaction, scope="function")]


@dataclass(frozen=True)
class Viewer:
    """The signed-in person of a request and the session token that proved it."""

    person_id: int
    token: str
    via_cookie: bool

    @property
    def session_hash(self) -> str:
        return token_hash(self.token)


def _presented_token(request: Request) -> tuple[str | None, bool]:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip(), False
    cookie = request.cookies.get(SESSION_COOKIE)
    return (cookie, True) if cookie else (None, False)


async def optional_viewer(request: Request) -> Viewer | None:
    token, via_cookie = _presented_token(request)
    if not token:
        return None
    async with _db(request).transaction() as session:
        person = await _service(request).person_for_token(session, token)
    return Viewer(person.id, token, via_cookie) if person is not None else None


async def viewer(request: Request) -> Viewer:
    found = await optional_viewer(request)
    if found is None:
        raise StandardError(RspCode.INVALID_TOKEN, "sign in first")
    return found


OptionalViewer = Annotated[Viewer | None, Depends(optional_viewer)]
SignedIn = Annotated[Viewer, Depends(viewer)]


async def _person(session: AsyncSession, request: Request, who: Viewer) -> Member:
    person = await _service(request).member(session, who.person_id)
    if person is None:
        raise StandardError(RspCode.INVALID_TOKEN, "sign in first")
    return person


def _tr(request: Request) -> NullTranslations:
    """The catalogue of the person's language, for the labels a page gets from Python."""
    return translations(request_language(request))


def _language_links(request: Request, lang: str) -> list[dict[str, Any]]:
    """The header's language switch: `/lang?to=..&next=<this page>` (a page a form posted to is not fetched again:
    the switch leads home from it)."""
    here = request.url.path
    if request.method != "GET":
        here = "/"
    elif request.url.query:
        here += "?" + request.url.query
    return [
        {
            "code": code,
            "name": i18n.LANGUAGE_NAMES[code],
            "href": "/lang?" + urlencode({"to": code, "next": here}),
            "current": code == lang,
        }
        for code in i18n.LANGUAGES
    ]


def render(request: Request, name: str, context: dict[str, Any], *, status_code: int = 200) -> HTMLResponse:
    """A page in the person's language: `lang` and the language switch in its context, and the templates' `_()`
    and `{% trans %}` translating into that language (the response is rendered here, in its constructor)."""
    lang = request_language(request)
    base = {"lang": lang, "languages": _language_links(request, lang)}
    with i18n.rendering_in(lang):
        return TEMPLATES.TemplateResponse(request, name, {**base, **context}, status_code=status_code)


def _page(
    request: Request, name: str, context: dict[str, Any], *, who: Viewer | None = None, status_code: int = 200
) -> HTMLResponse:
    settings = _settings(request)
    base = {
        "org_name": settings.org_name,
        "signed_in": who is not None,
        "csrf": csrf_token(settings.session_secret, who.session_hash) if who else "",
    }
    return render(request, name, {**base, **context}, status_code=status_code)


async def _form(request: Request, who: Viewer | None = None) -> dict[str, Any]:
    form = await request.form()
    data: dict[str, Any] = {}
    for key in form:
        values = [value for value in form.getlist(key) if isinstance(value, str)]
        data[key] = values if key == "org_code" else (values[0] if values else "")
    if who is not None and not csrf_matches(_settings(request).session_secret, who.session_hash, data.get("csrf")):
        raise StandardError(RspCode.INVALID_CALL, "form expired, reload the page")
    return data


def _redirect(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


def _set_cookie(request: Request, response: Response, token: str) -> None:
    settings = _settings(request)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=settings.session_days * 86400,
        httponly=True,
        samesite="lax",
        secure=settings.cookie_secure,
        path="/",
    )


# 지원-101 / 지원-103 (called by the portal)


def _form_field(form: Any, name: str) -> str | None:
    value = form.get(name)
    return value if isinstance(value, str) else None


@router.post(CATALOGUE["지원-101"].path, tags=["지원"])
async def support_token(request: Request) -> JSONResponse:
    """지원-101: client_credentials, scope manage, with the portal's pair (form-encoded; RFC 6749 errors)."""
    form = await request.form()
    body = _service(request).issue_support_token(
        _form_field(form, "grant_type"),
        _form_field(form, "client_id"),
        _form_field(form, "client_secret"),
        _form_field(form, "scope"),
    )
    return JSONResponse(body, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})


def _portal_caller(request: Request, authorization: Annotated[str | None, Header()] = None) -> str:
    """The portal's client_id from a 지원-101 Bearer token, checked before the request body is read."""
    return _service(request).support_caller(authorization)


@router.post(CATALOGUE["지원-103"].path, tags=["지원"], dependencies=[Depends(_portal_caller)])
async def member_consents(body: MemberConsentsRequest, request: Request, session: Session) -> JSONResponse:
    """지원-103: the person's currently valid consents (Bearer token from 지원-101)."""
    return JSONResponse(await _service(request).member_consents(session, body))


# JSON API


@router.post("/api/signup", response_model=ApprovalResponse, tags=["api"])
async def api_signup(body: SignupRequest, request: Request, session: Session) -> ApprovalResponse:
    applicant = normalise_applicant(body.name, body.birth_date, body.phone)
    approval = await _service(request).start_identity(session, applicant)
    return ApprovalResponse(cert_tx_id=approval.cert_tx_id, approval_url=approval.approval_url)


@router.post("/api/signup/complete", response_model=SessionResponse, tags=["api"])
async def api_signup_complete(body: CompleteRequest, request: Request, session: Session) -> SessionResponse:
    signed_in = await _service(request).complete_identity(session, body.cert_tx_id)
    return SessionResponse(session_token=signed_in.session_token, person_id=signed_in.person_id)


@router.get("/api/providers", response_model=ProvidersResponse, tags=["api"])
async def api_providers(request: Request, session: Session) -> ProvidersResponse:
    service = _service(request)
    await service.sync_registry(session)
    return ProvidersResponse(
        providers=[
            ProviderItem(
                org_code=c.org_code, org_name=c.org_name, industry=c.industries[0], industries=list(c.industries)
            )
            for c in await service.provider_choices(session)
        ]
    )


@router.post("/api/consents", response_model=ApprovalResponse, tags=["api"])
async def api_consents(body: ConsentRequest, request: Request, who: SignedIn) -> ApprovalResponse:
    async with _db(request).transaction() as session:
        person = await _person(session, request, who)
        approval = await _service(request).start_consent(session, person, body.org_codes, body.flags())
    return ApprovalResponse(cert_tx_id=approval.cert_tx_id, approval_url=approval.approval_url)


WaitQuery = Annotated[
    bool, Query(description="Wait (at most collection_wait_s) for the collection to finish before answering")
]


async def _await_collection(
    request: Request, person_id: int, job_ids: list[int], wait: bool
) -> tuple[dict[str, int], float | None]:
    """(records held per institution, collection_ms) once the jobs finished, or ({}, None) without waiting."""
    if not wait or not job_ids:
        return {}, None
    service = _service(request)
    collection_ms = await service.wait_for_jobs(_db(request), person_id, job_ids, _settings(request).collection_wait_s)
    async with _db(request).transaction() as session:
        return await repo.count_held_by_org(session, person_id), collection_ms


@router.post(
    "/api/consents/complete", response_model=ConsentCompleteResponse, response_model_exclude_none=True, tags=["api"]
)
async def api_consents_complete(
    body: CompleteRequest, request: Request, who: SignedIn, wait: WaitQuery = True
) -> ConsentCompleteResponse:
    """통합인증-002 at every chosen institution, then the first collection as durable jobs (all at once)."""
    service = _service(request)
    async with _db(request).transaction() as session:
        completion = await service.complete_consent(session, await _person(session, request, who), body.cert_tx_id)
    collected, collection_ms = await _await_collection(request, who.person_id, completion.jobs, wait)
    return ConsentCompleteResponse(
        providers=[
            ProviderResult(org_code=o.org_code, ok=o.ok, scope=o.scope, error=o.error) for o in completion.providers
        ],
        collected={org: count for org, count in collected.items() if org in completion.authorised},
        collection_ms=collection_ms,
    )


@router.post("/api/me/refresh", response_model=CollectedResponse, response_model_exclude_none=True, tags=["api"])
async def api_refresh(request: Request, who: SignedIn, wait: WaitQuery = True) -> CollectedResponse:
    """A pull-to-refresh (x-api-type user-refresh) of every connected institution, as durable jobs."""
    jobs = await _enqueue_refresh(request, who.person_id)
    collected, collection_ms = await _await_collection(request, who.person_id, jobs, wait)
    return CollectedResponse(collected=collected, collection_ms=collection_ms)


async def _enqueue_refresh(request: Request, person_id: int) -> list[int]:
    service = _service(request)
    async with _db(request).transaction() as session:
        org_codes = await service.live_org_codes(session, person_id)
        return await service.enqueue_collections(session, person_id, org_codes, api_type="user-refresh")


@router.get("/api/me/collection", response_model=CollectionResponse, response_model_exclude_none=True, tags=["api"])
async def api_collection(request: Request, session: Session, who: SignedIn) -> CollectionResponse:
    """Each connected institution's collection: queued, running, waiting to retry or finished; fresh or stale (why)."""
    progress = await _service(request).collection_progress(session, who.person_id)
    return CollectionResponse(
        institutions=[
            InstitutionProgressItem(
                org_code=item.org_code,
                org_name=item.org_name,
                phase=item.phase,
                fresh=item.fresh,
                reason=item.reason or None,
                last_success=to_dtime(item.last_success) if item.last_success else None,
                last_attempt=to_dtime(item.last_attempt) if item.last_attempt else None,
                next_attempt=to_dtime(item.next_attempt) if item.next_attempt else None,
                records=item.records,
                error_code=item.error_code,
            )
            for item in progress
        ],
        finished=sum(1 for item in progress if item.phase not in ACTIVE_PHASES),
        total=len(progress),
    )


async def _dashboard(
    session: AsyncSession, service: OperatorService, person: Member, tr: NullTranslations = i18n.KOREAN
) -> Any:
    choices = {c.org_code: c for c in await service.provider_choices(session)}
    return build_dashboard(
        await repo.assets_of(session, person.id, person.key),
        await repo.records_of(session, person.id, person.key),
        await repo.statuses_of(session, person.id),
        {org: c.org_name for org, c in choices.items()},
        {org: c.industries for org, c in choices.items()},
        tr=tr,
    )


@router.get("/api/me/summary", tags=["api"])
async def api_summary(request: Request, session: Session, who: SignedIn) -> dict[str, Any]:
    person = await _person(session, request, who)
    view = await _dashboard(session, _service(request), person)
    consents = await repo.active_consents(session, person.id, utcnow())
    return {"person": {"person_id": person.id, "name": person.name}, "consents": len(consents), **view.summary()}


@router.get("/api/me/credit", tags=["api"])
async def api_credit(
    request: Request, session: Session, who: SignedIn, lang: Annotated[str, Query(pattern="^(ko|en)$")] = "ko"
) -> dict[str, Any]:
    """The credit view: a calibrated band of the probability of default within a year from the person's combined
    financial and telecom data, and the features that moved it most (`available: false` without a model)."""
    person = await _person(session, request, who)
    return _credit_json(await _assess(request, await _held(session, person)), lang)


@router.get("/api/me/records", response_model=RecordsResponse, tags=["api"])
async def api_records(request: Request, session: Session, who: SignedIn) -> RecordsResponse:
    person = await _person(session, request, who)
    items = [
        RecordItem(org_code=a.org_code, api_id=a.api_id, key="", record_key=a.asset_key, payload=a.payload)
        for a in await repo.assets_of(session, person.id, person.key)
    ]
    items += [
        RecordItem(org_code=r.org_code, api_id=r.api_id, key=r.key, record_key=r.natural_key, payload=r.payload)
        for r in await repo.records_of(session, person.id, person.key)
    ]
    return RecordsResponse(records=items)


CONSENT_STATUS_LABELS = {
    "active": N_("유효"),
    "failed": N_("실패"),
    "superseded": N_("대체됨"),
    "ended": N_("만료"),
    "purged": N_("만료 (보유기간 경과로 정보 삭제)"),
    "withdrawn": N_("철회"),
}


def _consent_status_label(status: str, tr: NullTranslations) -> str:
    label = CONSENT_STATUS_LABELS.get(status)
    return tr.gettext(label) if label is not None else status


def consent_status(consent: Any, now: datetime) -> str:
    """The consent's status as the person sees it: an active consent past its end_date is "ended" (만료)."""
    if consent.status == "active" and as_utc(consent.end_date) <= now:
        return "ended"
    return str(consent.status)


def _consent_item(consent: Any, now: datetime) -> ConsentItem:
    return ConsentItem(
        org_code=consent.org_code,
        tx_id=consent.tx_id,
        status=consent_status(consent, now),
        scope=consent.scope,
        end_date=to_dtime(as_utc(consent.end_date)),
        signed_at=to_dtime(as_utc(consent.signed_at)),
        error=consent.error_code,
    )


@router.get("/api/me/consents", response_model=ConsentsResponse, response_model_exclude_none=True, tags=["api"])
async def api_consent_list(session: Session, who: SignedIn) -> ConsentsResponse:
    now = utcnow()
    return ConsentsResponse(consents=[_consent_item(c, now) for c in await repo.consents_of(session, who.person_id)])


@router.get("/api/me/history", response_model=HistoryResponse, tags=["api"])
async def api_history(request: Request, session: Session, who: SignedIn) -> HistoryResponse:
    """전송 기록: which institution sent which API's records and when, newest first (from the audit chain)."""
    history = await _service(request).history(session, await _person(session, request, who))
    return HistoryResponse(
        history=[
            HistoryItem(
                at=to_dtime(item.at),
                org_code=item.org_code,
                org_name=item.org_name,
                api_id=item.api_id,
                title=item.title,
                records=item.records,
            )
            for item in history
        ]
    )


@router.post("/api/withdraw", response_model=WithdrawResponse, tags=["api"])
async def api_withdraw(request: Request, session: Session, who: SignedIn) -> WithdrawResponse:
    outcome = await _service(request).withdraw(session, await _person(session, request, who))
    return WithdrawResponse(
        revoked=[RevokedItem(org_code=org, rsp_code=code) for org, code in outcome.revoked],
        records_remaining=outcome.records_remaining,
    )


@router.post("/api/consents/withdraw", response_model=WithdrawInstitutionResponse, tags=["api"])
async def api_withdraw_institution(
    request: Request, session: Session, who: SignedIn, body: WithdrawInstitutionRequest
) -> WithdrawInstitutionResponse:
    """Withdraw the consent at one provider (개별인증-004 there); the data from that provider is deleted, the
    person's other providers and data stay. To extend or change a consent, consent again (`POST /api/consents`):
    the new one replaces it at the provider."""
    outcome = await _service(request).withdraw_institution(session, await _person(session, request, who), body.org_code)
    return WithdrawInstitutionResponse(
        org_code=outcome.org_code, rsp_code=outcome.rsp_code, records_deleted=outcome.records_deleted
    )


# web pages


@router.get("/lang", include_in_schema=False)
async def choose_language(
    request: Request, to: str = "", next_path: Annotated[str, Query(alias="next")] = "/"
) -> Response:
    """The header's language switch: remembers `to` in the `omd_lang` cookie (a year) and goes back to `next`, a
    path on this site only (anything else, such as `//host` or a URL, leads home). An unknown language changes
    nothing."""
    response = _redirect(i18n.safe_next(next_path))
    if i18n.supported(to):
        response.set_cookie(
            i18n.COOKIE,
            to,
            max_age=i18n.COOKIE_MAX_AGE,
            httponly=True,
            samesite="lax",
            secure=_settings(request).cookie_secure,
            path="/",
        )
    return response


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
async def home(request: Request, who: OptionalViewer) -> Response:
    if who is not None:
        return _redirect("/dashboard")
    return _page(request, "home.html", {"title": _tr(request).gettext("시작하기")})


@router.post("/signup", response_class=HTMLResponse, include_in_schema=False)
async def signup(request: Request, session: Session) -> Response:
    form = await _form(request)
    tr = _tr(request)
    try:
        applicant = normalise_applicant(form.get("name", ""), form.get("birth_date", ""), form.get("phone", ""))
    except ServiceError as exc:
        return _page(
            request,
            "home.html",
            {"title": tr.gettext("시작하기"), "error": tr.gettext(_field_message(exc.rsp_msg)), "form": form},
            status_code=400,
        )
    approval = await _service(request).start_identity(session, applicant)
    return _page(
        request,
        "approve.html",
        {
            "title": tr.gettext("본인확인"),
            "heading": tr.gettext("인증서 앱에서 본인확인을 승인해 주세요"),
            "approval_url": approval.approval_url,
            "cert_tx_id": approval.cert_tx_id,
            "action": "/signup/complete",
        },
    )


@router.post("/signup/complete", response_class=HTMLResponse, include_in_schema=False)
async def signup_complete(request: Request) -> Response:
    form = await _form(request)
    cert_tx_id = form.get("cert_tx_id", "")
    try:
        async with _db(request).transaction() as session:
            signed_in = await _service(request).complete_identity(session, cert_tx_id)
            has_consents = bool(await repo.active_consents(session, signed_in.person_id, utcnow()))
    except StandardError as exc:
        if exc.code is not RspCode.INVALID_CALL:
            raise
        tr = _tr(request)
        return _page(
            request,
            "approve.html",
            {
                "title": tr.gettext("본인확인"),
                "heading": tr.gettext("인증서 앱에서 본인확인을 승인해 주세요"),
                "approval_url": form.get("approval_url", ""),
                "cert_tx_id": cert_tx_id,
                "action": "/signup/complete",
                "error": tr.gettext("아직 승인되지 않았습니다. 인증서 앱에서 승인한 뒤 다시 눌러 주세요."),
            },
            status_code=409,
        )
    response = _redirect("/dashboard" if has_consents else "/connect")
    _set_cookie(request, response, signed_in.session_token)
    return response


@router.post("/logout", include_in_schema=False)
async def logout(request: Request, who: SignedIn) -> Response:
    await _form(request, who)
    async with _db(request).transaction() as session:
        await _service(request).sign_out(session, who.token)
    response = _redirect("/")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/connect", response_class=HTMLResponse, include_in_schema=False)
async def connect(
    request: Request, who: OptionalViewer, org: Annotated[list[str] | None, Query(max_length=50)] = None
) -> Response:
    """기관 연결; `?org=…` preselects institutions (the consents page's 연장·변경 comes here)."""
    if who is None:
        return _redirect("/")
    preselected = set(org or [])
    service = _service(request)
    settings = _settings(request)
    tr = _tr(request)
    async with _db(request).transaction() as session:
        await service.sync_registry(session)
        choices = await service.provider_choices(session)
        connected = {c.org_code for c in await repo.active_consents(session, who.person_id, utcnow())}
    groups: dict[str, list[dict[str, Any]]] = {}
    for choice in choices:
        groups.setdefault(choice.industries[0], []).append(
            {
                "org_code": choice.org_code,
                "org_name": choice.org_name,
                "connected": choice.org_code in connected,
                "selected": choice.org_code in preselected,
                "industries": industries_label(choice.industries, tr),
                "scopes": scope_labels(provider_scopes(choice.industries, service.catalogue), tr),
            }
        )
    return _page(
        request,
        "connect.html",
        {
            "title": tr.gettext("기관 연결"),
            "groups": [
                {"industry": industry_label(industry, tr), "providers": providers}
                for industry, providers in groups.items()
            ],
            "purpose": settings.purpose,
            "consent_days": settings.consent_days,
            "holding_days": settings.holding_period_days,
            "fnd_cycle": cycle_label(settings.fnd_cycle, tr),
            "add_cycle": cycle_label(settings.add_cycle, tr),
        },
        who=who,
    )


@router.post("/connect", response_class=HTMLResponse, include_in_schema=False)
async def connect_submit(request: Request, who: SignedIn) -> Response:
    form = await _form(request, who)
    org_codes = form.get("org_code") or []
    if not org_codes:
        return _redirect("/connect")
    flags = {name: form.get(name) == "on" for name in SENSITIVE_FLAGS}
    async with _db(request).transaction() as session:
        approval = await _service(request).start_consent(
            session, await _person(session, request, who), org_codes, flags
        )
    tr = _tr(request)
    count = len(org_codes)
    return _page(
        request,
        "approve.html",
        {
            "title": tr.gettext("전송요구 서명"),
            "heading": tr.ngettext(
                "인증서 앱에서 %(count)d개 기관의 전송요구에 서명해 주세요",
                "인증서 앱에서 %(count)d개 기관의 전송요구에 서명해 주세요",
                count,
            )
            % {"count": count},
            "approval_url": approval.approval_url,
            "cert_tx_id": approval.cert_tx_id,
            "action": "/connect/complete",
        },
        who=who,
    )


@router.post("/connect/complete", response_class=HTMLResponse, include_in_schema=False)
async def connect_complete(request: Request, who: SignedIn) -> Response:
    form = await _form(request, who)
    cert_tx_id = form.get("cert_tx_id", "")
    service = _service(request)
    try:
        async with _db(request).transaction() as session:
            completion = await service.complete_consent(session, await _person(session, request, who), cert_tx_id)
    except StandardError as exc:
        if exc.code is not RspCode.INVALID_CALL:
            raise
        tr = _tr(request)
        return _page(
            request,
            "approve.html",
            {
                "title": tr.gettext("전송요구 서명"),
                "heading": tr.gettext("인증서 앱에서 전송요구에 서명해 주세요"),
                "approval_url": form.get("approval_url", ""),
                "cert_tx_id": cert_tx_id,
                "action": "/connect/complete",
                "error": tr.gettext("아직 서명되지 않았습니다. 인증서 앱에서 승인한 뒤 다시 눌러 주세요."),
            },
            who=who,
            status_code=409,
        )
    async with _db(request).transaction() as session:
        progress = await service.collection_progress(session, who.person_id)
    tr = _tr(request)
    return _page(
        request,
        "connected.html",
        {
            "title": tr.gettext("연결 결과"),
            "outcomes": [{"org_name": o.org_name, "ok": o.ok, "error": o.error} for o in completion.providers],
            "progress": progress_rows(progress, tr),
            "progress_labels": progress_labels(tr),
        },
        who=who,
    )


@router.get("/dashboard", response_class=HTMLResponse, include_in_schema=False)
async def dashboard(request: Request, who: OptionalViewer) -> Response:
    if who is None:
        return _redirect("/")
    tr = _tr(request)
    async with _db(request).transaction() as session:
        person = await _person(session, request, who)
        view = await _dashboard(session, _service(request), person, tr)
        progress = await _service(request).collection_progress(session, person.id)
    return _page(
        request,
        "dashboard.html",
        {
            "title": tr.gettext("내 자산"),
            "person_name": person.name,
            "view": view,
            "totals": {k: won(v) for k, v in view.totals.items()},
            "progress": progress_rows(progress, tr),
            "progress_labels": progress_labels(tr),
        },
        who=who,
    )


@router.get("/credit", response_class=HTMLResponse, include_in_schema=False)
async def credit_page(request: Request, who: OptionalViewer) -> Response:
    """신용 보기: the score band and its reasons, and what the telecom data adds for a thin-file person."""
    if who is None:
        return _redirect("/")
    async with _db(request).transaction() as session:
        person = await _person(session, request, who)
        outcome = await _assess(request, await _held(session, person))
    lang = request_language(request)
    return _page(
        request,
        "credit.html",
        {
            "title": translations(lang).gettext("신용 보기"),
            "person_name": person.name,
            "credit": _credit_json(outcome, lang),
        },
        who=who,
    )


@router.post("/refresh", include_in_schema=False)
async def refresh(request: Request, who: SignedIn) -> Response:
    await _form(request, who)
    await _enqueue_refresh(request, who.person_id)
    return _redirect("/collection")


@router.get("/collection", response_class=HTMLResponse, include_in_schema=False)
async def collection_page(request: Request, who: OptionalViewer) -> Response:
    """수집 현황: each institution's collection progress and freshness (the page updates itself while it runs)."""
    if who is None:
        return _redirect("/")
    async with _db(request).transaction() as session:
        progress = await _service(request).collection_progress(session, who.person_id)
    tr = _tr(request)
    return _page(
        request,
        "collection.html",
        {
            "title": tr.gettext("수집 현황"),
            "progress": progress_rows(progress, tr),
            "progress_labels": progress_labels(tr),
        },
        who=who,
    )


@router.get("/consents", response_class=HTMLResponse, include_in_schema=False)
async def consents(
    request: Request,
    who: OptionalViewer,
    withdrawn: Annotated[str | None, Query(max_length=10)] = None,
    result: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    if who is None:
        return _redirect("/")
    service = _service(request)
    tr = _tr(request)
    async with _db(request).transaction() as session:
        names = {c.org_code: c.org_name for c in await service.provider_choices(session)}
        rows = await repo.consents_of(session, who.person_id)
        statuses = {status.org_code: status for status in await repo.statuses_of(session, who.person_id)}
        now = utcnow()
        history = await service.history(session, await _person(session, request, who))

    def terms(consent: Any) -> dict[str, Any]:
        payload = consent.consent if isinstance(consent.consent, dict) else {}
        raw_cycle = payload.get("cycle")
        cycle: dict[str, Any] = raw_cycle if isinstance(raw_cycle, dict) else {}
        status = statuses.get(consent.org_code)
        return {
            "cycle": " · ".join(
                part
                for part in (
                    tr.gettext("기본 %(cycle)s") % {"cycle": cycle_label(cycle.get("fnd_cycle"), tr)}
                    if cycle.get("fnd_cycle")
                    else "",
                    tr.gettext("추가 %(cycle)s") % {"cycle": cycle_label(cycle.get("add_cycle"), tr)}
                    if cycle.get("add_cycle")
                    else "",
                )
                if part
            )
            or "-",
            "holding_until": day_text(str(payload.get("holding_period", ""))[:8])
            if payload.get("holding_period")
            else "-",
            "last_transmission": moment_text(status.last_success) if status and status.last_success else "-",
        }

    items = [
        {
            "org_code": c.org_code,
            **terms(c),
            "org_name": names.get(c.org_code, c.org_code),
            "status": consent_status(c, now),
            "status_label": _consent_status_label(consent_status(c, now), tr),
            "scope": scope_labels(c.scope, tr) or "-",
            "end_date": moment_text(c.end_date),
            "signed_at": moment_text(c.signed_at),
            "purpose": (c.consent or {}).get("purpose", ""),
            "error": c.error_code,
        }
        for c in rows
    ]
    return _page(
        request,
        "consents.html",
        {
            "title": tr.gettext("전송요구 관리"),
            "consents": items,
            "withdrawn": {"org_name": names.get(withdrawn, withdrawn), "ok": result == "ok"} if withdrawn else None,
            "active": any(consent_status(c, now) == "active" for c in rows),
            "history": [
                {
                    "at": moment_text(item.at),
                    "org_name": item.org_name,
                    "title": item.title,
                    "api_id": item.api_id,
                    "records": item.records,
                }
                for item in history
            ],
        },
        who=who,
    )


@router.post("/consents/withdraw", include_in_schema=False)
async def withdraw_institution(request: Request, who: SignedIn) -> Response:
    """The consents page's 철회 of one institution; back to the page, which says what happened."""
    form = await _form(request, who)
    org_codes = form.get("org_code") or []
    if len(org_codes) != 1:
        raise StandardError(RspCode.BAD_PARAMETER, "org_code")
    async with _db(request).transaction() as session:
        outcome = await _service(request).withdraw_institution(
            session, await _person(session, request, who), org_codes[0]
        )
    state = "ok" if outcome.rsp_code in REVOKED_CODES else "provider-failed"
    return _redirect(f"/consents?withdrawn={outcome.org_code}&result={state}")


@router.post("/withdraw", response_class=HTMLResponse, include_in_schema=False)
async def withdraw(request: Request, who: SignedIn) -> Response:
    await _form(request, who)
    async with _db(request).transaction() as session:
        outcome = await _service(request).withdraw(session, await _person(session, request, who))
    response = _page(
        request,
        "withdrawn.html",
        {
            "title": _tr(request).gettext("철회 완료"),
            "revoked": len(outcome.revoked),
            # success in any profile's code set (00000, nationwide 20001), or 99999: the token was already gone
            "failed": [org for org, code in outcome.revoked if code not in REVOKED_CODES],
        },
    )
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def _field_message(message: str) -> str:
    """The sign-up form's problem in the person's words (Korean: the msgid, translated where it is shown)."""
    for field_name, text in (
        ("birth_date", N_("생년월일을 YYYYMMDD 형식으로 입력해 주세요.")),
        ("phone", N_("휴대폰 번호를 확인해 주세요.")),
        ("name", N_("이름을 입력해 주세요.")),
    ):
        if field_name in message:
            return text
    return N_("입력값을 확인해 주세요.")
