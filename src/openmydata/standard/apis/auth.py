"""Authorization APIs: 개별인증-001…004 and 통합인증-002 (digest §3). Bodies are form-encoded; errors follow
RFC 6749 / RFC 7009."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from openmydata.standard.catalogue import ApiSpec, Kind, Sector
from openmydata.standard.models import Envelope
from openmydata.standard.types import StandardModel

# Named field types: mypy sees the plain Python type, pydantic the standard's constrained type.
if TYPE_CHECKING:
    OrgCode = str
    ClientId = str
    ClientSecret = str
    Token = str
    TokenType = str
    Uri = str
    State = str
    AuthCode = str
    Pkce = str
    Scope = str
    IntegratedScope = str
    TranId = str
    TxId = str
    CertTxId = str
    ServiceId = str
    UserCi = str
    RequestType = str
    Signed = str
    Nonce = str
    Seconds = int
    Length = int
else:
    from openmydata.standard.types import AN, B64, N, a, aN, aNS

    OrgCode = aN(10)
    ClientId = aN(50)
    ClientSecret = aN(50)
    Token = aNS(1500)
    TokenType = a(6)
    Uri = aNS(100)
    State = aN(40)
    AuthCode = aNS(128)
    Pkce = aNS(128)
    Scope = aNS(128)
    # 통합인증-002's `scope` has no length in the digest (§4.3: unconfirmed). One 통합인증 token covers every industry
    # the provider serves (a bank that also issues cards: bank.* card.* plus IRP), which overflows 개별인증's
    # aNS(128); the project's reading is aNS(1024), recorded in docs/decisions.md.
    IntegratedScope = aNS(1024)
    TranId = AN(25)
    TxId = aNS(74)
    CertTxId = aNS(40)
    ServiceId = aNS(22)
    UserCi = B64(100)
    RequestType = aN(1)
    Signed = aNS(10000)
    Nonce = aNS(64)
    Seconds = N(9)
    Length = N(5)


# 개별인증-002's `scope` is aNS(128) (digest §4.2): a provider refuses an authorization whose scopes would not fit.
TOKEN_SCOPE_MAX = 128


class AuthorizeRequest(StandardModel):
    """개별인증-001 query (x-user-ci and x-api-tran-id travel as headers). The PKCE fields are optional here so
    that a provider can say which one is missing; this project's providers require both (S256)."""

    org_code: OrgCode
    response_type: Literal["code"]
    client_id: ClientId
    redirect_uri: Uri
    app_scheme: Uri | None = None
    state: State
    code_challenge: Pkce | None = None
    code_challenge_method: Literal["S256"] | None = None


class AuthorizeRedirect(StandardModel):
    """What the 302 Location carries back to the redirect_uri."""

    code: AuthCode
    state: State
    api_tran_id: TranId


class AuthorizationCodeRequest(StandardModel):
    org_code: OrgCode
    grant_type: Literal["authorization_code"]
    code: AuthCode
    client_id: ClientId
    client_secret: ClientSecret
    redirect_uri: Uri
    code_verifier: Pkce | None = None


class RefreshRequest(StandardModel):
    org_code: OrgCode
    grant_type: Literal["refresh_token"]
    refresh_token: Token
    client_id: ClientId
    client_secret: ClientSecret


class RevokeRequest(StandardModel):
    org_code: OrgCode
    token: Token
    token_type_hint: Literal["access_token", "refresh_token"] | None = None
    client_id: ClientId
    client_secret: ClientSecret


class TokenResponse(StandardModel):
    token_type: TokenType = "Bearer"
    access_token: Token
    expires_in: Seconds
    refresh_token: Token
    refresh_token_expires_in: Seconds
    scope: Scope


class RefreshResponse(StandardModel):
    token_type: TokenType = "Bearer"
    access_token: Token
    expires_in: Seconds


class IntegratedAuthRequest(StandardModel):
    """통합인증-002 form. `password` carries the signed consent (CMS SignedData, Base64url)."""

    tx_id: TxId
    org_code: OrgCode
    grant_type: Literal["password"]
    client_id: ClientId
    client_secret: ClientSecret
    ca_code: OrgCode
    username: UserCi
    request_type: RequestType = "1"
    password_len: Length
    password: Signed
    auth_type: Literal["0", "1"] = "1"
    consent_type: Literal["0", "1"] = "0"
    consent_len: Length | None = None
    consent: Signed | None = None
    signed_person_info_req_len: Length | None = None
    signed_person_info_req: Signed | None = None
    consent_nonce: Nonce
    ucpid_nonce: Nonce | None = None
    cert_tx_id: CertTxId
    service_id: ServiceId | None = None


class IntegratedAuthResponse(TokenResponse):
    tx_id: TxId
    scope: IntegratedScope  # type: ignore[assignment]


SPECS = [
    ApiSpec(
        id="개별인증-001",
        api_code="AU01",
        title="인가코드 발급 요청",
        sector=Sector.AUTH,
        method="GET",
        resource="/oauth/2.0/authorize",
        version=None,
        request=AuthorizeRequest,
        response=AuthorizeRedirect,
        kind=Kind.OAUTH,
        note="PKCE is required by this project's providers (code_challenge with code_challenge_method S256, "
        "code_verifier at 개별인증-002): an extension over the standard, which names neither.",
    ),
    ApiSpec(
        id="개별인증-002",
        api_code="AU02",
        title="접근토큰 발급 요청",
        sector=Sector.AUTH,
        method="POST",
        resource="/oauth/2.0/token",
        version=None,
        request=AuthorizationCodeRequest,
        response=TokenResponse,
        kind=Kind.OAUTH,
    ),
    ApiSpec(
        id="개별인증-003",
        api_code="AU03",
        title="접근토큰 갱신",
        sector=Sector.AUTH,
        method="POST",
        resource="/oauth/2.0/token",
        version=None,
        request=RefreshRequest,
        response=RefreshResponse,
        kind=Kind.OAUTH,
    ),
    ApiSpec(
        id="개별인증-004",
        api_code="AU04",
        title="접근토큰 폐기",
        sector=Sector.AUTH,
        method="POST",
        resource="/oauth/2.0/revoke",
        version=None,
        request=RevokeRequest,
        response=Envelope,
        kind=Kind.OAUTH,
    ),
    ApiSpec(
        id="통합인증-002",
        api_code="AU11",
        title="접근토큰 발급 요청 (통합인증)",
        sector=Sector.AUTH,
        method="POST",
        resource="/oauth/2.0/token",
        version=None,
        request=IntegratedAuthRequest,
        response=IntegratedAuthResponse,
        kind=Kind.OAUTH,
        note="auth_type 1 (사설인증서 via the CA's sign_request/sign_result) and consent_type 0 (signature over "
        "the consent text) are what the project's operator sends; request_type is sent as 1.",
    ),
]
