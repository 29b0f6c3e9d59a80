"""Secrets of the portal: client-secret hashing, the box that keeps re-distributable secrets encrypted, key
files, and the support-API access tokens (JWS, HS256)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import OctKey

ISSUER = "openmydata-portal"
AUDIENCE = "openmydata-portal"


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def secret_matches(secret: str, expected_hash: str) -> bool:
    return hmac.compare_digest(hash_secret(secret), expected_hash)


def load_or_create_key(configured: str, path: Path) -> str:
    """The configured secret, or one kept in `path` (created once, mode 0600)."""
    if configured:
        return configured
    if path.exists():
        return path.read_text(encoding="ascii").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(32)
    path.touch(mode=0o600)
    path.write_text(value, encoding="ascii")
    return value


def _derive(secret: str, purpose: bytes) -> bytes:
    return hmac.new(secret.encode("utf-8"), purpose, hashlib.sha256).digest()


class SecretBox:
    """Encrypts secrets the portal has to hand out again (Fernet, key derived from `credentials_key`)."""

    def __init__(self, secret: str):
        self._fernet = Fernet(base64.urlsafe_b64encode(_derive(secret, b"openmydata portal credentials")))

    def seal(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode("utf-8")).decode("ascii")

    def open(self, sealed: str) -> str:
        try:
            return self._fernet.decrypt(sealed.encode("ascii")).decode("utf-8")
        except InvalidToken as exc:
            raise ValueError("stored secret cannot be decrypted with the configured credentials_key") from exc


@dataclass(frozen=True)
class TokenClaims:
    org_code: str
    client_id: str
    scope: str
    jti: str


class TokenSigner:
    """Support-API access tokens: JWS HS256 with iss/aud/sub/exp/jti claims."""

    def __init__(self, secret: str):
        self._key = OctKey.import_key(_derive(secret, b"openmydata portal tokens"))

    def issue(
        self, org_code: str, client_id: str, scope: str, jti: str, issued_at: datetime, lifetime: timedelta
    ) -> str:
        claims = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": org_code,
            "client_id": client_id,
            "scope": scope,
            "jti": jti,
            "iat": int(issued_at.timestamp()),
            "exp": int((issued_at + lifetime).timestamp()),
        }
        return jwt.encode({"alg": "HS256"}, claims, self._key)

    def verify(self, token: str, now: datetime) -> TokenClaims | None:
        """The claims of a genuine, unexpired token; None otherwise."""
        try:
            decoded = jwt.decode(token, self._key, algorithms=["HS256"])
            registry = jwt.JWTClaimsRegistry(
                now=int(now.timestamp()),
                iss={"essential": True, "value": ISSUER},
                aud={"essential": True, "value": AUDIENCE},
                sub={"essential": True},
                jti={"essential": True},
                exp={"essential": True},
            )
            registry.validate(decoded.claims)
        except (JoseError, ValueError):
            return None
        claims = decoded.claims
        values = (claims.get("sub"), claims.get("client_id"), claims.get("scope"), claims.get("jti"))
        if not all(isinstance(value, str) for value in values):
            return None
        return TokenClaims(
            org_code=claims["sub"], client_id=claims["client_id"], scope=claims["scope"], jti=claims["jti"]
        )
