"""Outbound calls: the portal (지원-001/002/003/005) and the certification authority (CA token, sign verification),
and the consent-signature verifiers chosen by settings.

Calls go through `standard.client.StandardClient` when the catalogue has the API and through httpx (wrapped by
`kit.http.map_exceptions`) otherwise. Callers see `PeerUnavailable` or `PeerError`, never httpx exceptions.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import httpx
from cryptography import x509

from openmydata.kit import cms, pki
from openmydata.kit.errors import PeerError
from openmydata.kit.http import map_exceptions
from openmydata.provider.settings import ProviderSettings
from openmydata.standard.apis import CATALOGUE
from openmydata.standard.catalogue import Catalogue
from openmydata.standard.client import StandardClient
from openmydata.standard.formats import Party, new_tran_id

TOKEN_MARGIN_S = 30.0


@dataclass
class _CachedToken:
    value: str
    expires_at: float


class _Peer:
    """A participant reached with a client-credentials token (the portal with `manage`, a CA with `ca`)."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        base_url: str,
        *,
        name: str,
        org_code: str,
        client_id: str,
        client_secret: str,
        scope: str,
        catalogue: Catalogue,
    ):
        self.http = http
        self.base_url = base_url.rstrip("/")
        self.name = name
        self.org_code = org_code
        self.client_id = client_id
        self.client_secret = client_secret
        self.scope = scope
        self.catalogue = catalogue
        self.standard = StandardClient(
            http, self.base_url, org_code=org_code, party=Party.PROVIDER, peer=name, catalogue=catalogue
        )
        self._token: _CachedToken | None = None

    def _headers(self, token: str | None = None) -> dict[str, str]:
        headers = {"x-api-tran-id": new_tran_id(self.org_code, Party.PROVIDER)}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return headers

    async def _send(self, request: httpx.Request) -> dict[str, Any]:
        with map_exceptions(self.name):
            response = await self.http.send(request)
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise PeerError(self.name, response.status_code, {"rsp_code": "50007", "rsp_msg": "not a JSON object"})
        code = body.get("rsp_code")
        if response.status_code >= 400 or "error" in body or (code is not None and code not in {"00000", "00001"}):
            raise PeerError(self.name, response.status_code, body)
        return body

    async def call(
        self,
        api_id: str | None,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        form: Mapping[str, str] | None = None,
        json: Mapping[str, Any] | None = None,
        token: str | None = None,
    ) -> dict[str, Any]:
        """Call by catalogue ID when catalogued, else by method and path; returns the JSON body."""
        if api_id is not None and api_id in self.catalogue:
            payload = dict(form or json or params or {})
            result = await self.standard.call(api_id, payload, token=token)
            return dict(result.raw)
        url = f"{self.base_url}{path}"
        request = self.http.build_request(
            method, url, params=params, data=form, json=json, headers=self._headers(token)
        )
        return await self._send(request)

    async def token(self, token_path: str, api_id: str | None) -> str:
        """A client-credentials access token, cached until shortly before it expires."""
        now = time.monotonic()
        if self._token is not None and self._token.expires_at > now:
            return self._token.value
        body = await self.call(
            api_id,
            "POST",
            token_path,
            form={
                "grant_type": "client_credentials",
                "client_id": self.client_id,
                "client_secret": self.client_secret,
                "scope": self.scope,
            },
        )
        value = body.get("access_token")
        if not isinstance(value, str) or not value:
            raise PeerError(self.name, 200, {"rsp_code": "50007", "rsp_msg": "token response without access_token"})
        lifetime = float(body.get("expires_in") or 300)
        self._token = _CachedToken(value, now + max(lifetime - TOKEN_MARGIN_S, 1.0))
        return value

    def forget_token(self) -> None:
        self._token = None


class PortalCaller(Protocol):
    """Who calls the portal's 지원 APIs: a provider or a relay (`provider.relay`)."""

    portal_url: str
    org_code: str
    support_client_id: str
    support_client_secret: str


class PortalClient:
    """종합포털: 지원-001 token, 지원-002 organisations, 지원-003 services, 지원-005 weekly statistics."""

    def __init__(self, http: httpx.AsyncClient, settings: PortalCaller, catalogue: Catalogue = CATALOGUE):
        self.peer = _Peer(
            http,
            settings.portal_url,
            name="portal",
            org_code=settings.org_code,
            client_id=settings.support_client_id,
            client_secret=settings.support_client_secret,
            scope="manage",
            catalogue=catalogue,
        )

    async def _get(self, api_id: str, path: str, search_timestamp: str | None) -> dict[str, Any]:
        token = await self.peer.token("/mgmts/oauth/2.0/token", "지원-001")
        params = {"search_timestamp": search_timestamp} if search_timestamp else {}
        try:
            return await self.peer.call(api_id, "GET", path, params=params, token=token)
        except PeerError as exc:
            if exc.status_code == 401:
                self.peer.forget_token()
            raise

    async def orgs(self, search_timestamp: str | None = None) -> dict[str, Any]:
        """지원-002: `{search_timestamp, org_cnt, org_list[{op_type, org_code, org_type, industry, ...}]}`."""
        return await self._get("지원-002", "/v1/mgmts/orgs", search_timestamp)

    async def services(self, search_timestamp: str | None = None) -> dict[str, Any]:
        """지원-003: `{search_timestamp, org_cnt, org_list[{org_code, service_list[{client_id, ...}]}]}`."""
        return await self._get("지원-003", "/v1/mgmts/services", search_timestamp)

    async def send_statistics(self, report: Mapping[str, Any]) -> dict[str, Any]:
        """지원-005: one weekly report (wire form); a refused token is fetched anew and the report sent once more."""
        spec = self.peer.catalogue["지원-005"]
        for attempt in range(2):
            token = await self.peer.token("/mgmts/oauth/2.0/token", "지원-001")
            try:
                return await self.peer.call(spec.id, spec.method, spec.path, json=report, token=token)
            except PeerError as exc:
                if exc.status_code != 401 or attempt:
                    raise
                self.peer.forget_token()
        raise AssertionError("unreachable")


class CertauthClient:
    """통합인증기관: CA token (`ca` scope) and sign verification."""

    def __init__(self, http: httpx.AsyncClient, settings: ProviderSettings, catalogue: Catalogue = CATALOGUE):
        self.peer = _Peer(
            http,
            settings.certauth_url,
            name="certauth",
            org_code=settings.org_code,
            client_id=settings.ca_client_id,
            client_secret=settings.ca_client_secret,
            scope="ca",
            catalogue=catalogue,
        )

    async def sign_verification(
        self, *, tx_id: str, cert_tx_id: str, signed_consent: str, consent_type: str
    ) -> dict[str, Any]:
        token = await self.peer.token("/oauth/2.0/token", None)
        body = {
            "tx_id": tx_id,
            "cert_tx_id": cert_tx_id,
            "signed_consent_len": len(signed_consent),
            "signed_consent": signed_consent,
            "consent_type": consent_type,
        }
        try:
            return await self.peer.call(None, "POST", "/v1/ca/sign_verification", json=body, token=token)
        except PeerError as exc:
            if exc.status_code == 401:
                self.peer.forget_token()
            raise


class SignatureRejectedError(Exception):
    """The signed consent does not verify, or does not belong to the transaction it came with."""


@dataclass(frozen=True)
class VerifiedSignature:
    user_ci: str


class ConsentVerifier(Protocol):
    """Checks a signed consent (CMS SignedData) for 통합인증-002 and tells whose it is."""

    async def verify(
        self, *, tx_id: str, cert_tx_id: str, signed_consent: str, der: bytes, consent_type: str
    ) -> VerifiedSignature: ...


class CertauthVerifier:
    """The usual adapter: ask the CA that issued the certificate (sign_verification)."""

    def __init__(self, certauth: CertauthClient):
        self.certauth = certauth

    async def verify(
        self, *, tx_id: str, cert_tx_id: str, signed_consent: str, der: bytes, consent_type: str
    ) -> VerifiedSignature:
        try:
            body = await self.certauth.sign_verification(
                tx_id=tx_id, cert_tx_id=cert_tx_id, signed_consent=signed_consent, consent_type=consent_type
            )
        except PeerError as exc:
            if exc.status_code < 500:
                raise SignatureRejectedError(f"the CA refused the verification ({exc.code})") from exc
            raise
        if str(body.get("result", "")).lower() != "true":
            raise SignatureRejectedError("the CA did not confirm the signature")
        if body.get("tx_id") not in (None, tx_id):
            raise SignatureRejectedError("the CA answered for another transaction")
        user_ci = body.get("user_ci")
        if not isinstance(user_ci, str) or not user_ci:
            raise SignatureRejectedError("the CA did not name the signer")
        return VerifiedSignature(user_ci=user_ci)


class LocalVerifier:
    """For institutions that verify signatures themselves: the CMS against configured trust roots, the signer
    named by the certificate's SERIALNUMBER (the CI)."""

    def __init__(self, trust_roots: list[x509.Certificate]):
        if not trust_roots:
            raise ValueError("the local consent verifier needs at least one trust root")
        self.trust_roots = trust_roots

    @classmethod
    def from_file(cls, path: Path) -> LocalVerifier:
        return cls(pki.certs_from_pem(path.read_bytes()))

    async def verify(
        self, *, tx_id: str, cert_tx_id: str, signed_consent: str, der: bytes, consent_type: str
    ) -> VerifiedSignature:
        try:
            signed = cms.verify(der, self.trust_roots)
        except cms.CmsError as exc:
            raise SignatureRejectedError(str(exc)) from exc
        user_ci = pki.subject_serial_number(signed.signer)
        if not user_ci:
            raise SignatureRejectedError("the signer's certificate carries no CI")
        return VerifiedSignature(user_ci=user_ci)


def build_verifier(
    settings: ProviderSettings, http: httpx.AsyncClient, catalogue: Catalogue = CATALOGUE
) -> ConsentVerifier:
    if settings.consent_verifier == "local":
        if settings.consent_trust_roots_file is None:
            raise ValueError("consent_verifier=local needs consent_trust_roots_file")
        return LocalVerifier.from_file(settings.consent_trust_roots_file)
    return CertauthVerifier(CertauthClient(http, settings, catalogue))
