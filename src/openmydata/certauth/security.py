"""Secrets of the CA: the root key on disk, PIN hashes (scrypt), CA tokens (JWS, HS256), client-secret hashes."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import OctKey

from openmydata.kit.pki import CertificateAuthority

ISSUER = "openmydata-certauth"
CA_SCOPE = "ca"
ROOT_KEY_FILE = "root-key.pem"
ROOT_CERT_FILE = "root-cert.pem"


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def secret_matches(secret: str, expected_hash: str) -> bool:
    return hmac.compare_digest(hash_secret(secret), expected_hash)


def _write_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)


def load_or_create_key(configured: str, path: Path) -> str:
    """The configured secret, or one kept in `path` (created once, mode 0600)."""
    if configured:
        return configured
    if path.exists():
        return path.read_text(encoding="ascii").strip()
    value = secrets.token_urlsafe(32)
    _write_private(path, value.encode("ascii"))
    return value


def load_or_create_root(data_dir: Path, name: str, password: str) -> CertificateAuthority:
    """The CA's root from `data_dir` (PEM files), created on first start."""
    key_path, cert_path = data_dir / ROOT_KEY_FILE, data_dir / ROOT_CERT_FILE
    secret = password.encode("utf-8") or None
    if key_path.exists() and cert_path.exists():
        return CertificateAuthority.from_pem(key_path.read_bytes(), cert_path.read_bytes(), secret)
    authority = CertificateAuthority.create(name)
    _write_private(key_path, authority.key_pem(secret))
    cert_path.write_bytes(authority.certificate_pem())
    return authority


# PINs: scrypt, parameters stored with the hash so that the cost can change later.
def hash_pin(pin: str, cost: int) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(pin.encode("utf-8"), salt=salt, n=cost, r=8, p=1, dklen=32)
    encode = base64.urlsafe_b64encode
    return f"scrypt${cost}$8$1${encode(salt).decode()}${encode(digest).decode()}"


def pin_matches(pin: str, stored: str) -> bool:
    try:
        scheme, cost, block, parallel, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.urlsafe_b64decode(digest)
        actual = hashlib.scrypt(
            pin.encode("utf-8"),
            salt=base64.urlsafe_b64decode(salt),
            n=int(cost),
            r=int(block),
            p=int(parallel),
            dklen=len(expected),
        )
    except ValueError:
        return False
    return hmac.compare_digest(actual, expected)


def normalise_phone(phone: str) -> str:
    """Digits of a Korean mobile number in domestic form: `+82 10-1234-5678` → `01012345678`."""
    digits = re.sub(r"[^0-9]", "", phone)
    if phone.strip().startswith("+82") or (digits.startswith("82") and len(digits) >= 11):
        digits = "0" + digits[2:].lstrip("0")
    return digits


@dataclass(frozen=True)
class CaTokenClaims:
    org_code: str
    scope: str
    jti: str


class TokenSigner:
    def __init__(self, secret: str):
        self._key = OctKey.import_key(
            hmac.new(secret.encode("utf-8"), b"openmydata certauth tokens", "sha256").digest()
        )

    def issue(self, org_code: str, jti: str, issued_at: datetime, lifetime: timedelta) -> str:
        claims = {
            "iss": ISSUER,
            "aud": ISSUER,
            "sub": org_code,
            "scope": CA_SCOPE,
            "jti": jti,
            "iat": int(issued_at.timestamp()),
            "exp": int((issued_at + lifetime).timestamp()),
        }
        return jwt.encode({"alg": "HS256"}, claims, self._key)

    def verify(self, token: str, now: datetime) -> CaTokenClaims | None:
        try:
            decoded = jwt.decode(token, self._key, algorithms=["HS256"])
            jwt.JWTClaimsRegistry(
                now=int(now.timestamp()),
                iss={"essential": True, "value": ISSUER},
                aud={"essential": True, "value": ISSUER},
                sub={"essential": True},
                jti={"essential": True},
                exp={"essential": True},
            ).validate(decoded.claims)
        except (JoseError, ValueError):
            return None
        claims = decoded.claims
        if not all(isinstance(claims.get(name), str) for name in ("sub", "scope", "jti")):
            return None
        return CaTokenClaims(org_code=claims["sub"], scope=claims["scope"], jti=claims["jti"])
