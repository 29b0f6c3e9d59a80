"""Access and refresh tokens: JWS (HS256) with `iss` = own org_code, `aud` = the operator's org_code,
`sub` = the consent id, `jti`, `scope` (space-separated), `kind` and `exp` (digest §3.1, §10.4)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import OctKey

ALGORITHM = "HS256"


@dataclass(frozen=True)
class TokenClaims:
    jti: str
    consent_id: str
    kind: str
    audience: str
    scopes: tuple[str, ...]
    expires_at: int
    cnf_x5t: str | None = None  # RFC 8705: the SHA-256 thumbprint of the client certificate the token is bound to


class TokenCodec:
    """Signs and reads the provider's tokens. Revocation and consent state live in the database."""

    def __init__(self, secret: str, issuer: str):
        # The key is the SHA-256 of the configured secret: always 256 bits, whatever the secret's length.
        self._key = OctKey.import_key(hashlib.sha256(secret.encode("utf-8")).digest())
        self.issuer = issuer

    def encode(
        self,
        *,
        consent_id: str,
        audience: str,
        kind: str,
        scopes: list[str],
        expires_at: datetime,
        cnf_x5t: str | None = None,
    ) -> tuple[str, str]:
        """A new token and its jti; with `cnf_x5t`, bound to that client certificate (`cnf.x5t#S256`)."""
        jti = secrets.token_hex(16)
        claims = {
            "iss": self.issuer,
            "aud": audience,
            "sub": consent_id,
            "jti": jti,
            "kind": kind,
            "scope": " ".join(scopes),
            "exp": int(expires_at.timestamp()),
        }
        if cnf_x5t is not None:
            claims["cnf"] = {"x5t#S256": cnf_x5t}
        return jwt.encode({"alg": ALGORITHM}, claims, self._key), jti

    def decode(self, value: str) -> TokenClaims | None:
        """The claims of a token this provider signed (expiry not checked here), or None."""
        try:
            token = jwt.decode(value, self._key, algorithms=[ALGORITHM])
        except (JoseError, ValueError, TypeError):
            return None
        claims = token.claims
        try:
            if claims["iss"] != self.issuer:
                return None
            return TokenClaims(
                jti=str(claims["jti"]),
                consent_id=str(claims["sub"]),
                kind=str(claims["kind"]),
                audience=str(claims["aud"]),
                scopes=tuple(str(claims.get("scope", "")).split()),
                expires_at=int(claims["exp"]),
                cnf_x5t=_thumbprint(claims.get("cnf")),
            )
        except (KeyError, TypeError, ValueError):
            return None


def _thumbprint(cnf: Any) -> str | None:
    if cnf is None:
        return None
    if not isinstance(cnf, dict) or not isinstance(cnf.get("x5t#S256"), str):
        raise ValueError("malformed cnf claim")
    return str(cnf["x5t#S256"])
