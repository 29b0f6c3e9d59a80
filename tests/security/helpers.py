"""Small helpers shared by the attack tests."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from typing import Any

import httpx
from joserfc import jwt
from joserfc.jwk import OctKey

from openmydata.standard.formats import Party, new_tran_id
from tests.security.conftest import OPERATOR

TOKEN_SECRET = "security-token-secret"


def rsp(response: httpx.Response) -> tuple[int, str]:
    """(HTTP status, rsp_code) of a standard response."""
    return response.status_code, str(response.json().get("rsp_code"))


def oauth(response: httpx.Response) -> tuple[int, str]:
    """(HTTP status, error) of an OAuth error response."""
    return response.status_code, str(response.json().get("error"))


def tran_id() -> str:
    return new_tran_id(OPERATOR, Party.OPERATOR)


def info_headers(token: str | None, **extra: str) -> dict[str, str]:
    headers = {"x-api-tran-id": tran_id(), "x-api-type": "user-consent"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    headers.update(extra)
    return headers


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def claims_of(token: str) -> dict[str, Any]:
    """The claims of a JWS compact token, without verifying it."""
    claims: dict[str, Any] = json.loads(b64url_decode(token.split(".")[1]))
    return claims


def sign_claims(claims: Mapping[str, Any], secret: str = TOKEN_SECRET) -> str:
    """A token over `claims` signed with the provider's own key (what an insider or a key leak could mint)."""
    key = OctKey.import_key(hashlib.sha256(secret.encode("utf-8")).digest())
    return jwt.encode({"alg": "HS256"}, dict(claims), key)


def unsigned(claims: Mapping[str, Any]) -> str:
    header = b64url(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    return f"{header}.{b64url(json.dumps(dict(claims)).encode())}."


def leaks(response: httpx.Response, *needles: str) -> list[str]:
    """Which of `needles` appear in the response body."""
    text = response.text
    return [needle for needle in needles if needle in text]
