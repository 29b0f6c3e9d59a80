"""Secrets the operator holds: web session tokens (stored as SHA-256), CSRF tokens bound to a session, and the
key that encrypts provider tokens at rest, and the 지원-101 tokens the portal presents to 지원-103."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import OctKey


def new_session_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def csrf_token(secret: str, session_hash: str) -> str:
    return hmac.new(secret.encode("utf-8"), b"csrf\x00" + session_hash.encode("ascii"), hashlib.sha256).hexdigest()


def csrf_matches(secret: str, session_hash: str, presented: str | None) -> bool:
    return bool(presented) and hmac.compare_digest(csrf_token(secret, session_hash), presented or "")


class TokenVault:
    """Encrypts provider access/refresh tokens before they reach the database (Fernet, key from HKDF)."""

    def __init__(self, secret: str):
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"openmydata-operator-provider-tokens").derive(
            secret.encode("utf-8")
        )
        self._fernet = Fernet(base64.urlsafe_b64encode(key))

    def seal(self, token: str) -> str:
        return self._fernet.encrypt(token.encode("utf-8")).decode("ascii")

    def open(self, sealed: str) -> str:
        try:
            return self._fernet.decrypt(sealed.encode("ascii")).decode("utf-8")
        except InvalidToken as exc:
            raise ValueError("stored token cannot be decrypted with the current key") from exc


SUPPORT_TOKEN_ISSUER = "openmydata-operator"
SUPPORT_SCOPE = "manage"


class SupportTokens:
    """지원-101 access tokens for the portal: JWS HS256 (key derived from the operator's secret), checked
    statelessly (signature, issuer, audience = the operator's org_code, expiry, scope manage)."""

    def __init__(self, secret: str, org_code: str):
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"openmydata-operator-support-tokens").derive(
            secret.encode("utf-8")
        )
        self._key = OctKey.import_key(key)
        self._audience = org_code

    def issue(self, client_id: str, issued_at: datetime, lifetime: timedelta) -> str:
        claims = {
            "iss": SUPPORT_TOKEN_ISSUER,
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
                iss={"essential": True, "value": SUPPORT_TOKEN_ISSUER},
                aud={"essential": True, "value": self._audience},
                sub={"essential": True},
                exp={"essential": True},
                scope={"essential": True, "value": SUPPORT_SCOPE},
            ).validate(decoded.claims)
        except (JoseError, ValueError):
            return None
        subject = decoded.claims.get("sub")
        return subject if isinstance(subject, str) else None
