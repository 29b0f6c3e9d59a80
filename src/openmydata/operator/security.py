"""Secrets the operator holds: web session tokens (stored as SHA-256), CSRF tokens bound to a session, and the
key that encrypts provider tokens at rest (the 지원-101 tokens the portal presents are `standard.support_tokens`)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


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
