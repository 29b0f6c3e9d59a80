"""Random identifiers and secrets."""

from __future__ import annotations

import base64
import secrets
import string

_UPPER_ALNUM = string.ascii_uppercase + string.digits
_ALNUM = string.ascii_letters + string.digits


def upper_alnum(length: int) -> str:
    return "".join(secrets.choice(_UPPER_ALNUM) for _ in range(length))


def alnum(length: int) -> str:
    return "".join(secrets.choice(_ALNUM) for _ in range(length))


def digits(length: int) -> str:
    return "".join(secrets.choice(string.digits) for _ in range(length))


def urlsafe_nonce(nbytes: int = 16) -> str:
    """URL-safe Base64 without padding of `nbytes` random bytes (the standard's consent_nonce)."""
    return base64.urlsafe_b64encode(secrets.token_bytes(nbytes)).rstrip(b"=").decode("ascii")
