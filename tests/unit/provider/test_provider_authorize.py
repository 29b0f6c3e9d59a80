"""개별인증-001/002 at the provider: its own login and asset-selection pages, the authorization code with PKCE, and
the token pair the code is exchanged for (on SQLite and PostgreSQL)."""

from __future__ import annotations

import base64
import hashlib
import html
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import select

from openmydata.kit.clock import utcnow
from openmydata.provider import authorize
from openmydata.provider.app import is_participant_path
from openmydata.provider.authorize import (
    CODE_TTL_S,
    FLOW_TTL_S,
    LOCKOUT_S,
    MAX_LOGIN_ATTEMPTS,
    MAX_PIN_FAILURES,
    flow_of,
)
from openmydata.provider.importer import InvalidImportError, import_login_pins
from openmydata.provider.models import Authorization, Consent, CustomerLogin, Token
from openmydata.provider.registry import register_service
from openmydata.standard.consent import TransmissionRequest
from openmydata.standard.formats import is_valid_tran_id

from .conftest import (
    ALICE,
    BOB,
    CLIENT_ID,
    CLIENT_SECRET,
    DEPOSIT,
    DEPOSIT_2,
    LOAN,
    OPERATOR,
    OTHER_CLIENT_ID,
    OTHER_CLIENT_SECRET,
    OTHER_OPERATOR,
    PROVIDER,
    Harness,
    history_range,
)

REDIRECT = "https://operator.example/oauth/callback"
OTHER_REDIRECT = "https://other.example/oauth/callback"
ALICE_PIN = "123456"
BOB_PIN = "654321"
ALICE_LOGIN = {"name": "김앨리스", "birth_date": "19900101", "phone": "010-1234-5678", "pin": ALICE_PIN}
BOB_LOGIN = {"name": "박밥", "birth_date": "19850505", "phone": "01099998888", "pin": BOB_PIN}
HIDDEN = re.compile(r'<input type="hidden" name="(flow|csrf)" value="([^"]+)">')


class Clock:
    """A clock the test moves."""

    def __init__(self) -> None:
        self.moment = utcnow()

    def now(self) -> datetime:
        return self.moment

    def advance(self, seconds: float) -> None:
        self.moment += timedelta(seconds=seconds)


def verifier_and_challenge() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


@dataclass
class Journey:
    """One run through the pages: what the provider's pages carried and where they sent the browser."""

    verifier: str
    state: str
    form: dict[str, str] = field(default_factory=dict)
    page: str = ""

    def take(self, response: httpx.Response) -> None:
        self.page = response.text
        self.form = {name: html.unescape(value) for name, value in HIDDEN.findall(response.text)}


@dataclass
class World:
    harness: Harness
    clock: Clock

    @property
    def http(self) -> httpx.AsyncClient:
        return self.harness.http

    def query(self, challenge: str, default_state: str, **overrides: str | None) -> dict[str, str]:
        query: dict[str, str | None] = {
            "org_code": PROVIDER,
            "response_type": "code",
            "client_id": CLIENT_ID,
            "redirect_uri": REDIRECT,
            "state": default_state,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            **overrides,
        }
        return {name: value for name, value in query.items() if value is not None}

    async def start(self, headers: Mapping[str, str] | None = None, **overrides: str | None) -> tuple[Journey, Any]:
        verifier, challenge = verifier_and_challenge()
        state = secrets.token_hex(16)
        journey = Journey(verifier, state)
        response = await self.http.get(
            "/oauth/2.0/authorize", params=self.query(challenge, state, **overrides), headers=dict(headers or {})
        )
        journey.take(response)
        return journey, response

    async def login(self, journey: Journey, credentials: Mapping[str, str]) -> httpx.Response:
        response = await self.http.post("/oauth/2.0/authorize/login", data={**journey.form, **credentials})
        journey.take(response)
        return response

    async def choose(self, journey: Journey, extra: Mapping[str, Any] | None = None) -> httpx.Response:
        data: dict[str, Any] = {
            **journey.form,
            "asset": [DEPOSIT, LOAN],
            "scope": ["bank.deposit", "bank.loan"],
            "period": "12",
            "action": "agree",
            **(extra or {}),
        }
        return await self.http.post("/oauth/2.0/authorize/consent", data=data)

    async def code(self, credentials: Mapping[str, str] = ALICE_LOGIN) -> tuple[Journey, dict[str, list[str]]]:
        journey, response = await self.start()
        assert response.status_code == 200, response.text
        selection = await self.login(journey, credentials)
        assert selection.status_code == 200, selection.text
        redirected = await self.choose(journey)
        assert redirected.status_code == 302, redirected.text
        location = redirected.headers["location"]
        assert location.startswith(REDIRECT + "?")
        return journey, parse_qs(urlsplit(location).query)

    async def exchange(self, code: str, verifier: str | None, **overrides: str) -> httpx.Response:
        form = {
            "org_code": PROVIDER,
            "grant_type": "authorization_code",
            "code": code,
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "redirect_uri": REDIRECT,
            **({"code_verifier": verifier} if verifier is not None else {}),
            **overrides,
        }
        return await self.harness.post_token(form)

    async def tokens(self) -> dict[str, Any]:
        journey, redirect = await self.code()
        response = await self.exchange(redirect["code"][0], journey.verifier)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


@pytest.fixture
async def world(harness: Harness) -> World:
    await register_service(
        harness.db, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, org_code=OPERATOR, redirect_uri=REDIRECT
    )
    await register_service(
        harness.db,
        client_id=OTHER_CLIENT_ID,
        client_secret=OTHER_CLIENT_SECRET,
        org_code=OTHER_OPERATOR,
        redirect_uri=OTHER_REDIRECT,
    )
    assert await import_login_pins(harness.db, {ALICE: ALICE_PIN, BOB: BOB_PIN, "nobody": "000000"}, kdf_cost=2**4) == 2
    clock = Clock()
    flow_of(harness.app).clock = clock.now
    return World(harness, clock)


def _error_of(response: httpx.Response) -> dict[str, list[str]]:
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.startswith(REDIRECT + "?")
    return parse_qs(urlsplit(location).query)


async def _consents(harness: Harness) -> list[Consent]:
    async with harness.db.transaction() as session:
        return list((await session.execute(select(Consent).order_by(Consent.created_at))).scalars().all())


class TestAuthorizationCodeFlow:
    async def test_login_select_and_exchange_issue_certificate_bound_tokens(self, world: World) -> None:
        journey, response = await world.start()
        assert response.status_code == 200
        assert "김앨리스" not in response.text  # nobody is signed in yet
        assert "default-src 'none'" in response.headers["content-security-policy"]
        assert "form-action 'self' https://operator.example" in response.headers["content-security-policy"]
        assert set(journey.form) == {"flow", "csrf"}

        selection = await world.login(journey, ALICE_LOGIN)
        assert selection.status_code == 200
        for label in ("자유입출금 (****5678)", "정기예금 (****5432)", "신용대출 (****5678)"):
            assert label in selection.text
        assert "****5555" not in selection.text  # Bob's account

        redirected = await world.choose(journey)
        params = _error_of(redirected)
        assert set(params) == {"code", "state", "api_tran_id"}
        assert params["state"] == [journey.state]
        assert is_valid_tran_id(params["api_tran_id"][0])
        assert params["api_tran_id"][0] == redirected.headers["x-api-tran-id"]
        code = params["code"][0]
        assert len(code) == 128
        assert re.fullmatch(r"[A-Za-z0-9_-]+", code)

        answer = await world.exchange(code, journey.verifier)
        assert answer.status_code == 200, answer.text
        assert answer.headers["cache-control"] == "no-store"
        body = answer.json()
        assert set(body) == {
            "token_type",
            "access_token",
            "expires_in",
            "refresh_token",
            "refresh_token_expires_in",
            "scope",
        }
        assert body["scope"] == "bank.list bank.deposit bank.loan"
        assert 0 < int(body["expires_in"]) <= int(body["refresh_token_expires_in"]) <= 365 * 86_400

        [consent] = await _consents(world.harness)
        assert (consent.status, consent.rcv_org_code, consent.client_id) == ("active", OPERATOR, CLIENT_ID)
        assert consent.tx_id.startswith(f"IA_{OPERATOR}_{PROVIDER}_")
        terms = TransmissionRequest.model_validate(consent.consent)
        assert (terms.snd_org_code, terms.rcv_org_code) == (PROVIDER, OPERATOR)
        assert {t.scope: [a.asset for a in t.asset_list] for t in terms.target_info} == {
            "bank.deposit": [DEPOSIT, LOAN],
            "bank.loan": [DEPOSIT, LOAN],
        }
        assert 364 <= (terms.end - world.clock.now()).days <= 365

    async def test_the_tokens_serve_the_chosen_assets_only(self, world: World) -> None:
        tokens = await world.tokens()
        token = tokens["access_token"]
        listed = await world.harness.call("은행-001", {}, token=token)
        assert listed.status_code == 200, listed.text
        consented = {entry["account_num"]: entry["is_consent"] for entry in listed.json()["account_list"]}
        assert consented == {DEPOSIT: "true", DEPOSIT_2: "false", LOAN: "true"}
        chosen = await world.harness.call("은행-004", {"account_num": DEPOSIT, **history_range(30)}, token=token)
        assert (chosen.status_code, chosen.json()["rsp_code"]) == (200, "00000")
        left_out = await world.harness.call("은행-002", {"account_num": DEPOSIT_2}, token=token)
        assert (left_out.status_code, left_out.json()["rsp_code"]) == (401, "40105")
        consent_api = await world.harness.call("정보제공-공통-002", {}, token=token, path_params={"industry": "bank"})
        assert consent_api.status_code == 200, consent_api.text
        assert consent_api.json()["is_scheduled"] == "true"

    async def test_a_new_grant_replaces_the_earlier_consent_and_its_tokens(self, world: World) -> None:
        integrated = await world.harness.grant()
        individual = await world.tokens()
        statuses = {consent.tx_id[:3]: consent.status for consent in await _consents(world.harness)}
        assert statuses == {"MD_": "replaced", "IA_": "active"}
        old = await world.harness.call("은행-001", {}, token=integrated["access_token"])
        assert (old.status_code, old.json()["rsp_code"]) == (401, "40101")
        new = await world.harness.call("은행-001", {}, token=individual["access_token"])
        assert new.status_code == 200

    async def test_the_refresh_token_works_at_개별인증_003(self, world: World) -> None:
        tokens = await world.tokens()
        refreshed = await world.harness.post_token(
            {
                "org_code": PROVIDER,
                "grant_type": "refresh_token",
                "refresh_token": tokens["refresh_token"],
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
            }
        )
        assert refreshed.status_code == 200, refreshed.text
        assert (await world.harness.call("은행-001", {}, token=refreshed.json()["access_token"])).status_code == 200

    def test_the_pages_are_not_participant_paths(self) -> None:
        for path in ("/oauth/2.0/authorize", "/oauth/2.0/authorize/login", "/oauth/2.0/authorize/style.css"):
            assert not is_participant_path(path)
        for path in ("/oauth/2.0/token", "/oauth/2.0/revoke", "/oauth/2.0/authorizex", "/v1/bank/accounts"):
            assert is_participant_path(path)

    async def test_the_style_sheet_is_served(self, world: World) -> None:
        response = await world.http.get("/oauth/2.0/authorize/style.css")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/css")


class TestAuthorizeRequestErrors:
    async def test_a_redirect_uri_other_than_the_registered_one_is_400_json(self, world: World) -> None:
        for redirect_uri in ("https://attacker.example/cb", REDIRECT + "/", OTHER_REDIRECT):
            _journey, response = await world.start(redirect_uri=redirect_uri)
            assert response.status_code == 400
            assert "location" not in response.headers
            assert response.json()["error"] == "invalid_request"
        _journey, missing = await world.start(redirect_uri=None)
        assert (missing.status_code, missing.json()["error"]) == (400, "invalid_request")

    async def test_an_unknown_client_is_400_json(self, world: World) -> None:
        _journey, response = await world.start(client_id="nosuchclient")
        assert (response.status_code, response.json()["error"]) == (400, "invalid_client")
        assert "location" not in response.headers

    async def test_a_client_without_a_registered_redirect_uri_cannot_use_it(self, world: World) -> None:
        await register_service(world.harness.db, client_id="bare01", client_secret="baresecret01", org_code=OPERATOR)
        _journey, response = await world.start(client_id="bare01")
        assert (response.status_code, response.json()["error"]) == (400, "invalid_request")

    async def test_pkce_with_s256_is_required(self, world: World) -> None:
        for overrides in (
            {"code_challenge": None, "code_challenge_method": None},
            {"code_challenge_method": None},
            {"code_challenge_method": "plain"},
            {"code_challenge": "too-short"},
        ):
            journey, response = await world.start(**overrides)
            params = _error_of(response)
            assert params["error"] == ["invalid_request"], overrides
            assert params["state"] == [journey.state]
            assert "code_challenge" in params["error_description"][0]
        assert await _consents(world.harness) == []

    async def test_other_problems_redirect_with_the_error_and_the_state(self, world: World) -> None:
        journey, response = await world.start(response_type="token")
        params = _error_of(response)
        assert (params["error"], params["state"]) == (["unsupported_response_type"], [journey.state])
        assert is_valid_tran_id(params["api_tran_id"][0])
        journey, response = await world.start(org_code="OTHER00001")
        assert _error_of(response)["error"] == ["invalid_request"]
        _journey, response = await world.start(state="not a valid state!")
        params = _error_of(response)
        assert params["error"] == ["invalid_request"]
        assert "state" not in params


class TestTokenEndpoint:
    async def test_a_wrong_code_verifier_is_invalid_grant(self, world: World) -> None:
        journey, redirect = await world.code()
        code = redirect["code"][0]
        wrong = await world.exchange(code, secrets.token_urlsafe(48))
        assert (wrong.status_code, wrong.json()["error"]) == (400, "invalid_grant")
        missing = await world.exchange(code, None)
        assert (missing.status_code, missing.json()["error"]) == (400, "invalid_request")
        assert await _consents(world.harness) == []
        right = await world.exchange(code, journey.verifier)
        assert right.status_code == 200, right.text

    async def test_the_code_is_bound_to_client_and_redirect_uri(self, world: World) -> None:
        journey, redirect = await world.code()
        code = redirect["code"][0]
        other_client = await world.exchange(
            code, journey.verifier, client_id=OTHER_CLIENT_ID, client_secret=OTHER_CLIENT_SECRET
        )
        assert (other_client.status_code, other_client.json()["error"]) == (400, "invalid_grant")
        other_redirect = await world.exchange(code, journey.verifier, redirect_uri=OTHER_REDIRECT)
        assert (other_redirect.status_code, other_redirect.json()["error"]) == (400, "invalid_grant")
        wrong_secret = await world.exchange(code, journey.verifier, client_secret="wrongsecret")
        assert (wrong_secret.status_code, wrong_secret.json()["error"]) == (401, "invalid_client")
        unknown = await world.exchange("A" * 128, journey.verifier)
        assert (unknown.status_code, unknown.json()["error"]) == (400, "invalid_grant")
        assert await _consents(world.harness) == []

    async def test_a_reused_code_is_refused_and_revokes_its_tokens(self, world: World) -> None:
        journey, redirect = await world.code()
        code = redirect["code"][0]
        first = await world.exchange(code, journey.verifier)
        assert first.status_code == 200
        token = first.json()["access_token"]
        assert (await world.harness.call("은행-001", {}, token=token)).status_code == 200
        again = await world.exchange(code, journey.verifier)
        assert (again.status_code, again.json()["error"]) == (400, "invalid_grant")
        refused = await world.harness.call("은행-001", {}, token=token)
        assert (refused.status_code, refused.json()["rsp_code"]) == (401, "40101")
        [consent] = await _consents(world.harness)
        assert consent.status == "revoked"
        async with world.harness.db.transaction() as session:
            tokens = (await session.execute(select(Token))).scalars().all()
        assert len(tokens) == 2
        assert all(row.revoked_at is not None for row in tokens)

    async def test_a_code_older_than_ten_minutes_is_refused(self, world: World) -> None:
        journey, redirect = await world.code()
        world.clock.advance(CODE_TTL_S + 1)
        late = await world.exchange(redirect["code"][0], journey.verifier)
        assert (late.status_code, late.json()["error"]) == (400, "invalid_grant")
        assert "expired" in late.json()["error_description"]
        assert await _consents(world.harness) == []

    async def test_a_code_just_inside_ten_minutes_is_accepted(self, world: World) -> None:
        journey, redirect = await world.code()
        world.clock.advance(CODE_TTL_S - 1)
        assert (await world.exchange(redirect["code"][0], journey.verifier)).status_code == 200


class TestLoginPage:
    async def test_five_failed_sign_ins_end_the_request(self, world: World) -> None:
        journey, _response = await world.start()
        for attempt in range(1, MAX_LOGIN_ATTEMPTS):
            wrong = await world.login(journey, {**ALICE_LOGIN, "pin": "000000"})
            assert wrong.status_code == 401
            assert f"{MAX_LOGIN_ATTEMPTS - attempt}회 더 시도할 수 있습니다" in wrong.text
            assert 'value="김앨리스"' in wrong.text
        last = await world.login(journey, {**BOB_LOGIN, "name": "아무개"})
        params = _error_of(last)
        assert (params["error"], params["state"]) == (["access_denied"], [journey.state])
        after = await world.login(journey, ALICE_LOGIN)
        assert after.status_code == 400  # the request is over and its cookie gone

    async def test_five_wrong_pins_lock_the_customer_for_a_while(self, world: World) -> None:
        for _ in range(MAX_PIN_FAILURES):
            journey, _response = await world.start()
            assert (await world.login(journey, {**ALICE_LOGIN, "pin": "999999"})).status_code == 401
        journey, _response = await world.start()
        locked = await world.login(journey, ALICE_LOGIN)
        assert locked.status_code == 401
        assert "로그인이 잠겼습니다" in locked.text
        other = await world.login(journey, BOB_LOGIN)  # another customer is not affected
        assert other.status_code == 200
        world.clock.advance(LOCKOUT_S + 1)
        journey, _response = await world.start()
        assert (await world.login(journey, ALICE_LOGIN)).status_code == 200
        async with world.harness.db.transaction() as session:
            login = (await session.execute(select(CustomerLogin).where(CustomerLogin.failures > 0))).first()
        assert login is None  # a successful sign-in clears the count

    async def test_malformed_input_is_not_counted(self, world: World) -> None:
        journey, _response = await world.start()
        for _ in range(MAX_LOGIN_ATTEMPTS + 1):
            response = await world.login(journey, {**ALICE_LOGIN, "pin": "12ab"})
            assert response.status_code == 400
        assert (await world.login(journey, ALICE_LOGIN)).status_code == 200

    async def test_forms_need_the_cookie_and_the_csrf_token(self, world: World) -> None:
        journey, _response = await world.start()
        forged = await world.http.post("/oauth/2.0/authorize/login", data={**journey.form, "csrf": "x", **ALICE_LOGIN})
        assert forged.status_code == 400
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=world.harness.app), base_url="http://test"
        ) as stranger:
            without_cookie = await stranger.post("/oauth/2.0/authorize/login", data={**journey.form, **ALICE_LOGIN})
        assert without_cookie.status_code == 400
        assert (await world.login(journey, ALICE_LOGIN)).status_code == 200

    async def test_the_request_expires(self, world: World) -> None:
        journey, _response = await world.start()
        world.clock.advance(FLOW_TTL_S + 1)
        late = await world.login(journey, ALICE_LOGIN)
        params = _error_of(late)
        assert params["error"] == ["access_denied"]
        assert params["state"] == [journey.state]

    async def test_x_user_ci_must_name_the_customer_who_signs_in(self, world: World) -> None:
        journey, _response = await world.start(headers={"x-user-ci": BOB})
        refused = await world.login(journey, ALICE_LOGIN)
        assert _error_of(refused)["error"] == ["access_denied"]
        journey, _response = await world.start(headers={"x-user-ci": ALICE})
        assert (await world.login(journey, ALICE_LOGIN)).status_code == 200

    async def test_the_person_can_cancel(self, world: World) -> None:
        journey, _response = await world.start()
        cancelled = await world.http.post("/oauth/2.0/authorize/login", data={**journey.form, "action": "cancel"})
        assert _error_of(cancelled)["error"] == ["access_denied"]
        journey, _response = await world.start()
        await world.login(journey, ALICE_LOGIN)
        cancelled = await world.choose(journey, {"action": "cancel"})
        assert _error_of(cancelled)["error"] == ["access_denied"]
        assert await _consents(world.harness) == []


class TestAssetSelection:
    async def test_nothing_chosen_shows_the_page_again(self, world: World) -> None:
        journey, _response = await world.start()
        await world.login(journey, ALICE_LOGIN)
        for extra in ({"asset": []}, {"scope": []}, {"asset": ["11055555555"]}, {"period": "24"}):
            again = await world.choose(journey, extra)
            assert again.status_code == 400, extra
            assert "하나 이상 선택해 주세요" in again.text
        chosen = await world.choose(journey, {"asset": [DEPOSIT_2], "scope": ["bank.deposit"], "period": "3"})
        code = _error_of(chosen)["code"][0]
        assert (await world.exchange(code, journey.verifier)).status_code == 200
        [consent] = await _consents(world.harness)
        terms = TransmissionRequest.model_validate(consent.consent)
        assert [(t.scope, [a.asset for a in t.asset_list]) for t in terms.target_info] == [
            ("bank.deposit", [DEPOSIT_2])
        ]
        assert 89 <= (terms.end - world.clock.now()).days <= 91
        assert consent.scope == "bank.list bank.deposit"

    async def test_scopes_that_overflow_the_token_scope_are_refused(
        self, world: World, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # "bank.list bank.deposit bank.loan" is 32 characters: with a limit of 31 it no longer fits in one token.
        monkeypatch.setattr(authorize, "TOKEN_SCOPE_MAX", 31)
        journey, _response = await world.start()
        await world.login(journey, ALICE_LOGIN)
        refused = await world.choose(journey)
        assert refused.status_code == 400
        assert "나누어 연결해 주세요" in refused.text
        assert await _consents(world.harness) == []
        # what fits is still granted from the same page
        chosen = await world.choose(journey, {"scope": ["bank.deposit"]})
        code = _error_of(chosen)["code"][0]
        assert (await world.exchange(code, journey.verifier)).status_code == 200

    async def test_the_code_is_stored_as_a_hash_only(self, world: World) -> None:
        _journey, redirect = await world.code()
        code = redirect["code"][0]
        async with world.harness.db.transaction() as session:
            [row] = (await session.execute(select(Authorization))).scalars().all()
        assert row.code_hash == hashlib.sha256(code.encode()).hexdigest()
        assert code not in str(row.__dict__)


class TestLoginImport:
    async def test_pins_are_six_digits_and_stored_as_scrypt_hashes(self, world: World) -> None:
        with pytest.raises(InvalidImportError):
            await import_login_pins(world.harness.db, {ALICE: "12345"}, kdf_cost=2**4)
        async with world.harness.db.transaction() as session:
            hashes = [row.pin_hash for row in (await session.execute(select(CustomerLogin))).scalars().all()]
        assert len(hashes) == 2
        assert all(value.startswith("scrypt$16$8$1$") for value in hashes)
        assert not any(pin in value for value in hashes for pin in (ALICE_PIN, BOB_PIN))
