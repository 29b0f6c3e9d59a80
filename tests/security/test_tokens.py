"""OWASP API2 (broken authentication): forged, expired, misdirected, edited and dead tokens at the information
APIs, and the wrong kind of token at the token endpoint."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import update

from openmydata.kit.clock import utcnow
from openmydata.provider.models import Consent, Token
from openmydata.provider.tokens import TokenCodec
from tests.security.attacks import attack
from tests.security.conftest import (
    CLIENT_ID,
    CLIENT_SECRET,
    OTHER_OPERATOR,
    PROVIDER,
    Harness,
)
from tests.security.helpers import TOKEN_SECRET, b64url, claims_of, info_headers, oauth, rsp, sign_claims, unsigned

INVALID = (401, "40101")


async def _accounts(harness: Harness, token: str | None) -> tuple[int, str]:
    return rsp(await harness.call("은행-001", {}, token=token))


async def _live_token(harness: Harness) -> str:
    token: str = (await harness.grant())["access_token"]
    assert await _accounts(harness, token) == (200, "00000")
    return token


class TestTokens:
    @attack("token_expired")
    async def test_token_expired(self, target: Harness) -> None:
        token = await _live_token(target)
        async with target.db.transaction() as session:
            await session.execute(
                update(Token).where(Token.jti == claims_of(token)["jti"]).values(expires_at=utcnow() - timedelta(1))
            )
        assert await _accounts(target, token) == INVALID

    @attack("token_forged_signature")
    async def test_token_forged_signature(self, target: Harness) -> None:
        token = await _live_token(target)
        claims = claims_of(token)
        other_key = sign_claims(claims, secret="guessed-secret")
        header, payload, signature = token.split(".")
        flipped = f"{header}.{payload}.{('A' if signature[0] != 'A' else 'B')}{signature[1:]}"
        stripped = f"{header}.{payload}."
        assert await _accounts(target, other_key) == INVALID
        assert await _accounts(target, flipped) == INVALID
        assert await _accounts(target, stripped) == INVALID

    @attack("token_alg_none")
    async def test_token_alg_none(self, target: Harness) -> None:
        claims = claims_of(await _live_token(target))
        assert await _accounts(target, unsigned(claims)) == INVALID
        none_upper = b64url(b'{"alg":"None"}') + "." + unsigned(claims).split(".")[1] + "."
        assert await _accounts(target, none_upper) == INVALID

    @attack("token_wrong_audience")
    async def test_token_wrong_audience(self, target: Harness) -> None:
        claims = claims_of(await _live_token(target))
        assert await _accounts(target, sign_claims(claims)) == (200, "00000")  # the minting itself is sound
        assert await _accounts(target, sign_claims({**claims, "aud": OTHER_OPERATOR})) == INVALID

    @attack("token_wrong_issuer")
    async def test_token_wrong_issuer(self, target: Harness) -> None:
        claims = claims_of(await _live_token(target))
        assert await _accounts(target, sign_claims({**claims, "iss": "BANK000002"})) == INVALID
        other_provider, _ = TokenCodec(TOKEN_SECRET, "BANK000002").encode(
            consent_id=claims["sub"],
            audience=claims["aud"],
            kind="access",
            scopes=claims["scope"].split(),
            expires_at=utcnow() + timedelta(days=1),
        )
        assert await _accounts(target, other_provider) == INVALID

    @attack("token_scope_claim_edited")
    async def test_token_scope_claim_edited(self, target: Harness) -> None:
        token = await _live_token(target)  # bank.list bank.deposit
        claims = claims_of(token)
        wider = {**claims, "scope": claims["scope"] + " bank.loan card.list card.card"}
        header, _payload, signature = token.split(".")
        edited = f"{header}.{b64url(json.dumps(wider).encode())}.{signature}"
        assert await _accounts(target, edited) == INVALID
        resigned = sign_claims(wider)
        assert rsp(await target.call("은행-008", {"account_num": "31012345678"}, token=resigned)) == INVALID
        assert rsp(await target.call("카드-001", {}, token=resigned)) == INVALID

    @attack("token_refresh_as_access")
    async def test_token_refresh_as_access(self, target: Harness) -> None:
        tokens = await target.grant()
        assert await _accounts(target, tokens["refresh_token"]) == INVALID

    @attack("token_access_as_refresh")
    async def test_token_access_as_refresh(self, target: Harness) -> None:
        tokens = await target.grant()
        form = {
            "org_code": PROVIDER,
            "grant_type": "refresh_token",
            "refresh_token": tokens["access_token"],
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
        }
        response = await target.post_token(form)
        assert oauth(response) == (400, "invalid_grant")

    @attack("token_of_revoked_consent")
    async def test_token_of_revoked_consent(self, target: Harness) -> None:
        tokens = await target.grant()
        revoke = {
            "org_code": PROVIDER,
            "token": tokens["refresh_token"],
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
        }
        assert rsp(await target.http.post("/oauth/2.0/revoke", data=revoke)) == (200, "00000")
        assert await _accounts(target, tokens["access_token"]) == INVALID
        refresh = {
            "org_code": PROVIDER,
            "grant_type": "refresh_token",
            "refresh_token": tokens["refresh_token"],
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
        }
        assert oauth(await target.post_token(refresh)) == (400, "invalid_grant")

    @attack("token_of_replaced_consent")
    async def test_token_of_replaced_consent(self, target: Harness) -> None:
        old = await _live_token(target)
        new = await _live_token(target)
        assert await _accounts(target, old) == INVALID
        assert await _accounts(target, new) == (200, "00000")

    @attack("token_consent_end_passed")
    async def test_token_consent_end_passed(self, target: Harness) -> None:
        token = await _live_token(target)
        async with target.db.transaction() as session:
            await session.execute(
                update(Consent)
                .where(Consent.id == claims_of(token)["sub"])
                .values(end_at=utcnow() - timedelta(seconds=1))
            )
        assert await _accounts(target, token) == (401, "40106")

    @attack("token_malformed_bearer")
    @pytest.mark.parametrize(
        "scheme",
        [
            "Basic {token}",
            "Bearer",
            "Bearer ",
            "{token}",
            "Bearer {token}x",
            "Bearer x{token}",
            "Bearer a.b.c",
            "Bearer ...",
        ],
    )
    async def test_token_malformed_bearer(self, target: Harness, scheme: str) -> None:
        token = await _live_token(target)
        headers = info_headers(None, Authorization=scheme.format(token=token))
        response = await target.http.get("/v1/bank/accounts", params={"org_code": PROVIDER}, headers=headers)
        assert rsp(response) == INVALID

    @attack("token_missing")
    async def test_token_missing(self, target: Harness) -> None:
        await _live_token(target)
        for path in ("/v1/bank/accounts", "/v1/card/cards", "/v1/telecom/telecoms", "/v1/bank/consents"):
            response = await target.http.get(path, params={"org_code": PROVIDER}, headers=info_headers(None))
            assert rsp(response) == INVALID, path
