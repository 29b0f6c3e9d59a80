"""통합인증-002: attacks on the signed consent (FAPI-style negative tests of the grant) and on the client
credentials of the OAuth endpoints."""

from __future__ import annotations

from datetime import timedelta

from openmydata.kit import cms
from openmydata.kit.clock import now_kst, to_dtime, utcnow
from openmydata.kit.ids import urlsafe_nonce
from openmydata.kit.pki import CertificateAuthority, PrivateKey
from openmydata.standard.consent import TransmissionRequest, encode_signed_content
from openmydata.standard.formats import new_tx_id
from tests.security.attacks import attack
from tests.security.conftest import (
    ALICE,
    BOB,
    CA_CODE,
    CLIENT_ID,
    CLIENT_SECRET,
    OPERATOR,
    OTHER_CLIENT_SECRET,
    OTHER_OPERATOR,
    PROVIDER,
    Harness,
)
from tests.security.helpers import b64url, b64url_decode, oauth, rsp

OTHER_PROVIDER = "BANK000002"


def _with_der(form: dict[str, str], der: bytes) -> dict[str, str]:
    password = b64url(der)
    return {**form, "password": password, "password_len": str(len(password))}


def _signed_by(form: dict[str, str], content: bytes, key: PrivateKey, certificate: object) -> dict[str, str]:
    return _with_der(form, cms.sign(content, key, certificate))  # type: ignore[arg-type]


async def _refused(harness: Harness, form: dict[str, str], error: str, status: int = 400) -> None:
    response = await harness.post_token(form)
    assert oauth(response) == (status, error), response.text
    assert "access_token" not in response.json()


def _lasting(harness: Harness, end: timedelta) -> TransmissionRequest:
    consent = harness.consent()
    return consent.model_copy(update={"end_date": to_dtime(now_kst() + end)})


class TestSignedConsent:
    @attack("consent_tampered_after_signing")
    async def test_consent_tampered_after_signing(self, target: Harness) -> None:
        form = target.grant_form(ALICE, target.consent(), nonce=urlsafe_nonce())
        der = b64url_decode(form["password"])
        signed_text = b'"is_consent_trans_memo":"false"'
        assert signed_text in der
        # Widen the consent to the sensitive memo field; same length, so the DER stays well-formed.
        tampered = der.replace(signed_text, b'"is_consent_trans_memo":"true" ')
        assert b'"true" ' in cms.content_of(tampered)
        await _refused(target, _with_der(form, tampered), "invalid_grant")
        # The untampered form still works: the refusal was about the tampering.
        assert (await target.post_token(form)).status_code == 200

    @attack("consent_signed_by_other_person")
    async def test_consent_signed_by_other_person(self, target: Harness) -> None:
        form = target.grant_form(ALICE, target.consent(), nonce=urlsafe_nonce(), signer=BOB)
        await _refused(target, form, "invalid_grant")

    @attack("consent_signed_by_untrusted_ca")
    async def test_consent_signed_by_untrusted_ca(self, target: Harness) -> None:
        rogue = CertificateAuthority.create("openmydata rogue CA")
        key, certificate = rogue.issue_person(ALICE)
        nonce = urlsafe_nonce()
        consent = target.consent()
        form = target.grant_form(ALICE, consent, nonce=nonce)
        await _refused(
            target, _signed_by(form, encode_signed_content(consent, nonce), key, certificate), "invalid_grant"
        )

    @attack("consent_signed_with_expired_certificate")
    async def test_consent_signed_with_expired_certificate(self, target: Harness) -> None:
        key, certificate = target.ca.issue_person(
            ALICE, not_before=utcnow() - timedelta(days=400), valid_for=timedelta(days=30)
        )
        nonce = urlsafe_nonce()
        consent = target.consent()
        form = target.grant_form(ALICE, consent, nonce=nonce)
        await _refused(
            target, _signed_by(form, encode_signed_content(consent, nonce), key, certificate), "invalid_grant"
        )

    @attack("consent_for_other_provider")
    async def test_consent_for_other_provider(self, target: Harness) -> None:
        form = target.grant_form(ALICE, target.consent(snd=OTHER_PROVIDER), nonce=urlsafe_nonce())
        await _refused(target, form, "invalid_grant")

    @attack("consent_for_other_operator")
    async def test_consent_for_other_operator(self, target: Harness) -> None:
        form = target.grant_form(ALICE, target.consent(rcv=OTHER_OPERATOR), nonce=urlsafe_nonce())
        await _refused(target, form, "invalid_grant")

    @attack("consent_longer_than_one_year")
    async def test_consent_longer_than_one_year(self, target: Harness) -> None:
        form = target.grant_form(ALICE, _lasting(target, timedelta(days=400)), nonce=urlsafe_nonce())
        await _refused(target, form, "invalid_grant")
        within = target.grant_form(ALICE, _lasting(target, timedelta(days=360)), nonce=urlsafe_nonce())
        assert (await target.post_token(within)).status_code == 200

    @attack("consent_already_ended")
    async def test_consent_already_ended(self, target: Harness) -> None:
        form = target.grant_form(ALICE, _lasting(target, -timedelta(days=1)), nonce=urlsafe_nonce())
        await _refused(target, form, "invalid_grant")

    @attack("consent_password_not_cms")
    async def test_consent_password_not_cms(self, target: Harness) -> None:
        form = target.grant_form(ALICE, target.consent(), nonce=urlsafe_nonce())
        for der in (b"not a signed consent", b"\x30\x03\x02\x01\x01", encode_signed_content(target.consent(), "n")):
            await _refused(target, _with_der(form, der), "invalid_grant")

    @attack("consent_nonce_replayed")
    async def test_consent_nonce_replayed(self, target: Harness) -> None:
        form = target.grant_form(ALICE, target.consent(), nonce=urlsafe_nonce())
        assert (await target.post_token(form)).status_code == 200
        await _refused(target, form, "invalid_grant")
        fresh_tx = {**form, "tx_id": new_tx_id(OPERATOR, PROVIDER, CA_CODE)}
        await _refused(target, fresh_tx, "invalid_grant")

    @attack("consent_tx_id_replayed")
    async def test_consent_tx_id_replayed(self, target: Harness) -> None:
        first = target.grant_form(ALICE, target.consent(), nonce=urlsafe_nonce())
        assert (await target.post_token(first)).status_code == 200
        second = target.grant_form(ALICE, target.consent(), nonce=urlsafe_nonce())
        await _refused(target, {**second, "tx_id": first["tx_id"]}, "invalid_grant")
        assert (await target.post_token(second)).status_code == 200

    @attack("consent_nonce_mismatch")
    async def test_consent_nonce_mismatch(self, target: Harness) -> None:
        form = target.grant_form(ALICE, target.consent(), nonce=urlsafe_nonce())
        await _refused(target, {**form, "consent_nonce": urlsafe_nonce()}, "invalid_grant")

    @attack("consent_tx_id_other_operator")
    async def test_consent_tx_id_other_operator(self, target: Harness) -> None:
        form = target.grant_form(ALICE, target.consent(), nonce=urlsafe_nonce())
        await _refused(target, {**form, "tx_id": new_tx_id(OTHER_OPERATOR, PROVIDER, CA_CODE)}, "invalid_request")

    @attack("consent_form_other_provider")
    async def test_consent_form_other_provider(self, target: Harness) -> None:
        form = target.grant_form(ALICE, target.consent(), nonce=urlsafe_nonce())
        await _refused(target, {**form, "org_code": OTHER_PROVIDER}, "invalid_request")
        await _refused(target, {**form, "tx_id": new_tx_id(OPERATOR, OTHER_PROVIDER, CA_CODE)}, "invalid_request")
        await _refused(target, {**form, "ca_code": "ROGUECA001"}, "invalid_request")

    @attack("grant_type_without_consent")
    async def test_grant_type_without_consent(self, target: Harness) -> None:
        credentials = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "org_code": PROVIDER}
        for grant_type in ("client_credentials", "implicit", "urn:ietf:params:oauth:jwt"):
            response = await target.post_token({**credentials, "grant_type": grant_type, "scope": "bank.list"})
            assert oauth(response) == (400, "unsupported_grant_type"), grant_type
        # 개별인증-002 is served, but not without the code (and the redirect_uri and PKCE verifier it was issued for).
        response = await target.post_token({**credentials, "grant_type": "authorization_code", "scope": "bank.list"})
        assert oauth(response) == (400, "invalid_request")
        assert oauth(await target.post_token(credentials)) == (400, "invalid_request")


class TestClientCredentials:
    @attack("client_wrong_secret_integrated_auth")
    async def test_client_wrong_secret_integrated_auth(self, target: Harness) -> None:
        form = target.grant_form(ALICE, target.consent(), nonce=urlsafe_nonce())
        for secret in (
            "wrongsecret",
            CLIENT_SECRET + "x",
            CLIENT_SECRET[:-1],
            CLIENT_SECRET.upper(),
            OTHER_CLIENT_SECRET,
        ):
            await _refused(target, {**form, "client_secret": secret}, "invalid_client", 401)
        assert (await target.post_token(form)).status_code == 200

    @attack("client_wrong_secret_refresh")
    async def test_client_wrong_secret_refresh(self, target: Harness) -> None:
        tokens = await target.grant()
        form = {
            "org_code": PROVIDER,
            "grant_type": "refresh_token",
            "refresh_token": tokens["refresh_token"],
            "client_id": CLIENT_ID,
            "client_secret": "wrongsecret",
        }
        await _refused(target, form, "invalid_client", 401)
        assert (await target.post_token({**form, "client_secret": CLIENT_SECRET})).status_code == 200

    @attack("client_wrong_secret_revoke")
    async def test_client_wrong_secret_revoke(self, target: Harness) -> None:
        tokens = await target.grant()
        form = {"org_code": PROVIDER, "token": tokens["access_token"], "client_id": CLIENT_ID, "client_secret": "bad"}
        response = await target.http.post("/oauth/2.0/revoke", data=form)
        assert oauth(response) == (401, "invalid_client")
        assert (await target.call("은행-001", {}, token=tokens["access_token"])).status_code == 200

    @attack("client_unknown_client_id")
    async def test_client_unknown_client_id(self, target: Harness) -> None:
        form = target.grant_form(ALICE, target.consent(), nonce=urlsafe_nonce())
        await _refused(target, {**form, "client_id": "nosuchclient01"}, "invalid_client", 401)
        tokens = await target.grant()
        revoke = {"org_code": PROVIDER, "token": tokens["access_token"], "client_id": "nosuch", "client_secret": "x"}
        assert oauth(await target.http.post("/oauth/2.0/revoke", data=revoke)) == (401, "invalid_client")
        refresh = {
            "org_code": PROVIDER,
            "grant_type": "refresh_token",
            "refresh_token": tokens["refresh_token"],
            "client_id": "nosuch",
            "client_secret": "x",
        }
        assert oauth(await target.post_token(refresh)) == (401, "invalid_client")
        assert rsp(await target.call("은행-001", {}, token=tokens["access_token"]))[0] == 200
