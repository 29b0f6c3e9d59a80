"""통합인증-002, 개별인증-003 (refresh) and 개별인증-004 (revoke) at the token endpoints."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from openmydata.kit.pki import CertificateAuthority
from openmydata.provider.models import Consent, Token
from openmydata.standard.consent import TargetInfo
from openmydata.standard.formats import is_valid_tran_id

from .conftest import (
    ALICE,
    CLIENT_ID,
    CLIENT_SECRET,
    NOBODY,
    OPERATOR,
    OTHER_CLIENT_ID,
    OTHER_CLIENT_SECRET,
    OTHER_OPERATOR,
    PROVIDER,
    Harness,
    history_range,
)


async def _consents(harness: Harness) -> list[Consent]:
    async with harness.db.transaction() as session:
        return list((await session.execute(select(Consent).order_by(Consent.created_at))).scalars().all())


async def _error(harness: Harness, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
    response = await harness.post_token(form)
    return response.status_code, response.json()


class TestIntegratedAuthGrant:
    async def test_grant_issues_tokens_and_records_the_consent(self, harness: Harness) -> None:
        form = harness.grant_form(ALICE, harness.consent(), nonce="nonce-0001")
        response = await harness.post_token(form)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["tx_id"] == form["tx_id"]
        assert body["token_type"] == "Bearer"
        assert body["scope"] == "bank.list bank.deposit"
        assert 0 < int(body["expires_in"]) <= 90 * 86_400
        assert int(body["expires_in"]) <= int(body["refresh_token_expires_in"]) <= 300 * 86_400
        assert is_valid_tran_id(response.headers["x-api-tran-id"])
        [consent] = await _consents(harness)
        assert (consent.status, consent.rcv_org_code, consent.client_id) == ("active", OPERATOR, CLIENT_ID)
        assert consent.consent_nonce == "nonce-0001"

    async def test_replayed_consent_nonce_is_an_invalid_grant(self, harness: Harness) -> None:
        form = harness.grant_form(ALICE, harness.consent(), nonce="nonce-replay")
        assert (await harness.post_token(form)).status_code == 200
        status, body = await _error(harness, form)
        assert (status, body["error"], body["tx_id"]) == (400, "invalid_grant", form["tx_id"])
        assert len(await _consents(harness)) == 1

    async def test_a_new_consent_replaces_the_earlier_and_its_tokens(self, harness: Harness) -> None:
        first = await harness.grant()
        second = await harness.grant()
        statuses = [consent.status for consent in await _consents(harness)]
        assert statuses == ["replaced", "active"]
        request = {"account_num": "11012345678", **history_range(30)}
        old = await harness.call("은행-004", request, token=first["access_token"])
        assert (old.status_code, old.json()["rsp_code"]) == (401, "40101")
        new = await harness.call("은행-004", request, token=second["access_token"])
        assert new.status_code == 200

    async def test_form_and_client_errors(self, harness: Harness) -> None:
        good = harness.grant_form(ALICE, harness.consent(), nonce="nonce-forms")
        status, body = await _error(harness, {**good, "client_secret": "wrongsecret"})
        assert (status, body["error"]) == (401, "invalid_client")
        status, body = await _error(harness, {**good, "client_id": "nosuchclient"})
        assert (status, body["error"]) == (401, "invalid_client")
        status, body = await _error(harness, {**good, "org_code": "OTHER00001"})
        assert (status, body["error"], body["tx_id"]) == (400, "invalid_request", good["tx_id"])
        status, body = await _error(harness, {k: v for k, v in good.items() if k != "password"})
        assert (status, body["error"]) == (400, "invalid_request")
        status, body = await _error(harness, {**good, "grant_type": "client_credentials"})
        assert (status, body["error"]) == (400, "unsupported_grant_type")
        status, body = await _error(harness, {**good, "consent_nonce": "another-nonce"})
        assert (status, body["error"]) == (400, "invalid_grant")
        assert await _consents(harness) == []

    async def test_consent_must_match_provider_operator_and_sectors(self, harness: Harness) -> None:
        wrong_provider = harness.grant_form(ALICE, harness.consent(snd="OTHER00001"), nonce="n-1")
        assert (await _error(harness, wrong_provider))[1]["error"] == "invalid_grant"
        other_operator = harness.grant_form(
            ALICE,
            harness.consent(),
            nonce="n-2",
            client_id=OTHER_CLIENT_ID,
            client_secret=OTHER_CLIENT_SECRET,
            operator=OTHER_OPERATOR,
        )
        assert (await _error(harness, other_operator))[1]["error"] == "invalid_grant"
        card = harness.grant_form(ALICE, harness.consent([TargetInfo(scope="card.list")]), nonce="n-3")
        assert (await _error(harness, card))[1]["error"] == "invalid_scope"
        assert await _consents(harness) == []

    async def test_signature_and_person_checks(self, harness: Harness) -> None:
        by_someone_else = harness.grant_form(ALICE, harness.consent(), nonce="n-4", signer=NOBODY)
        assert (await _error(harness, by_someone_else))[1]["error"] == "invalid_grant"
        stranger_ca = CertificateAuthority.create("not trusted")
        key, certificate = stranger_ca.issue_person(ALICE)
        harness.people[ALICE + "#untrusted"] = type(harness.person(ALICE))(ALICE, key, certificate)
        untrusted = harness.grant_form(ALICE, harness.consent(), nonce="n-5", signer=ALICE + "#untrusted")
        assert (await _error(harness, untrusted))[1]["error"] == "invalid_grant"
        unknown_person = harness.grant_form(NOBODY, harness.consent(), nonce="n-6")
        status, body = await _error(harness, unknown_person)
        assert (status, body["error"]) == (400, "unauthorized_user")
        assert await _consents(harness) == []


class TestRefreshAndRevoke:
    async def test_refresh_issues_a_new_access_token_and_drops_the_old(self, harness: Harness) -> None:
        tokens = await harness.grant()
        response = await harness.http.post(
            "/oauth/2.0/token",
            data={
                "org_code": PROVIDER,
                "grant_type": "refresh_token",
                "refresh_token": tokens["refresh_token"],
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
            },
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert set(body) == {"token_type", "access_token", "expires_in"}
        request = {"account_num": "11012345678", **history_range(30)}
        assert (await harness.call("은행-004", request, token=body["access_token"])).status_code == 200
        old = await harness.call("은행-004", request, token=tokens["access_token"])
        assert old.json()["rsp_code"] == "40101"
        reused_access = await harness.http.post(
            "/oauth/2.0/token",
            data={
                "org_code": PROVIDER,
                "grant_type": "refresh_token",
                "refresh_token": tokens["access_token"],
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
            },
        )
        assert (reused_access.status_code, reused_access.json()["error"]) == (400, "invalid_grant")

    async def test_revoke_ends_tokens_and_consent(self, harness: Harness) -> None:
        tokens = await harness.grant()
        form = {
            "org_code": PROVIDER,
            "token": tokens["access_token"],
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
        }
        response = await harness.http.post("/oauth/2.0/revoke", data=form)
        assert (response.status_code, response.json()["rsp_code"]) == (200, "00000")
        again = await harness.http.post("/oauth/2.0/revoke", data=form)
        assert (again.status_code, again.json()["rsp_code"]) == (200, "99999")
        garbage = await harness.http.post("/oauth/2.0/revoke", data={**form, "token": "not.a.token"})
        assert (garbage.status_code, garbage.json()["rsp_code"]) == (200, "99999")
        [consent] = await _consents(harness)
        assert consent.status == "revoked"
        async with harness.db.transaction() as session:
            tokens_rows = (await session.execute(select(Token))).scalars().all()
        assert len(tokens_rows) == 2
        assert all(row.revoked_at is not None for row in tokens_rows)
        refused = await harness.call("은행-001", {}, token=tokens["access_token"])
        assert (refused.status_code, refused.json()["rsp_code"]) == (401, "40101")
