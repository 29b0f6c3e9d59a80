"""지원-101 as served by operators and providers: the portal presents the client_id/secret pair it was given for
the served organisation and receives a `manage` token, which it then presents to 지원-102…104 (digest §5.2, §10.4).

The token is a JWS (HS256) whose key is derived from a secret of the served participant; it is checked statelessly
(signature, issuer, audience = the served org_code, expiry, scope), lasts at most one year and has no refresh
token. `SupportTokens` makes and reads the tokens; `SupportDesk` is the served side: the token endpoint's checks
and the Bearer check of the portal's later calls.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import OctKey

from openmydata.kit.errors import OAuthError
from openmydata.kit.logging import get_logger
from openmydata.standard.apis.support import SupportTokenResponse
from openmydata.standard.codes import RspCode, StandardError
from openmydata.standard.oauth import client_credentials_request

SUPPORT_SCOPE = "manage"

_logger = get_logger("openmydata.support")


class SupportTokens:
    """지원-101 access tokens of one participant (`participant` names the issuer and the key derivation, so an
    operator's and a provider's tokens never verify at the other even with the same secret)."""

    def __init__(self, secret: str, org_code: str, *, participant: str = "operator"):
        info = f"openmydata-{participant}-support-tokens".encode()
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(secret.encode("utf-8"))
        self._key = OctKey.import_key(key)
        self._audience = org_code
        self.issuer = f"openmydata-{participant}"

    def issue(self, client_id: str, issued_at: datetime, lifetime: timedelta) -> str:
        claims = {
            "iss": self.issuer,
            "aud": self._audience,
            "sub": client_id,
            "scope": SUPPORT_SCOPE,
            "jti": secrets.token_hex(16),
            "iat": int(issued_at.timestamp()),
            "exp": int((issued_at + lifetime).timestamp()),
        }
        return jwt.encode({"alg": "HS256"}, claims, self._key)

    def verify(self, token: str, now: datetime) -> str | None:
        """The client_id of a genuine, unexpired scope-manage token; None otherwise."""
        try:
            decoded = jwt.decode(token, self._key, algorithms=["HS256"])
            jwt.JWTClaimsRegistry(
                now=int(now.timestamp()),
                iss={"essential": True, "value": self.issuer},
                aud={"essential": True, "value": self._audience},
                sub={"essential": True},
                exp={"essential": True},
                scope={"essential": True, "value": SUPPORT_SCOPE},
            ).validate(decoded.claims)
        except (JoseError, ValueError):
            return None
        subject = decoded.claims.get("sub")
        return subject if isinstance(subject, str) else None


def _same(presented: str, expected: str) -> bool:
    return hmac.compare_digest(presented.encode("utf-8"), expected.encode("utf-8"))


class SupportDesk:
    """The served side of 지원-101 for the one pair the portal holds (`client_id`/`client_secret`; empty disables
    it), and the Bearer check of 지원-102…104."""

    def __init__(self, tokens: SupportTokens, *, client_id: str, client_secret: str, lifetime: timedelta):
        self.tokens = tokens
        self.client_id = client_id
        self.client_secret = client_secret
        self.lifetime = lifetime

    def issue(
        self,
        grant_type: str | None,
        client_id: str | None,
        client_secret: str | None,
        scope: str | None,
        now: datetime,
    ) -> dict[str, Any]:
        """지원-101: a `manage` token for the portal's pair; RFC 6749 errors otherwise."""
        client_id, client_secret = client_credentials_request(grant_type, client_id, client_secret)
        id_ok = _same(client_id, self.client_id)
        secret_ok = _same(client_secret, self.client_secret)
        if not (self.client_id and self.client_secret and id_ok and secret_ok):
            raise OAuthError("invalid_client", "unknown client or wrong secret", status_code=401)
        if scope != SUPPORT_SCOPE:
            raise OAuthError("invalid_scope", "scope manage only")
        token = self.tokens.issue(client_id, now, self.lifetime)
        _logger.info("support token issued", issuer=self.tokens.issuer)
        return SupportTokenResponse(
            token_type="Bearer",
            access_token=token,
            expires_in=int(self.lifetime.total_seconds()),
            scope=SUPPORT_SCOPE,
        ).to_wire()

    def caller(self, authorization: str | None, now: datetime) -> str:
        """The client_id behind a 지원-101 Bearer token (40101 when missing, forged, expired or not the portal's)."""
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise StandardError(RspCode.INVALID_TOKEN, "Bearer token required", {"WWW-Authenticate": "Bearer"})
        client_id = self.tokens.verify(token.strip(), now)
        if client_id is None or not self.client_id or not _same(client_id, self.client_id):
            raise StandardError(RspCode.INVALID_TOKEN, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
        return client_id
