"""Cursor paging (digest §2.4) and search_timestamp (§2.5) helpers.

A cursor is opaque to the receiver: URL-safe Base64 of compact JSON, authenticated with an HMAC so that a
receiver cannot forge one or use one minted for another person or API. The object a cursor names is included in
the next page.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from datetime import datetime
from typing import Any

from openmydata.kit.clock import to_dtime

MAX_LIMIT = 500
DEFAULT_LIMIT = 500


class BadCursor(ValueError):
    """The next_page value is not one this provider issued for this request."""


def encode_cursor(position: dict[str, Any], *, key: bytes, binding: str) -> str:
    body = json.dumps(position, separators=(",", ":"), sort_keys=True).encode("utf-8")
    tag = hmac.new(key, binding.encode("utf-8") + b"\x00" + body, hashlib.sha256).digest()[:12]
    return base64.urlsafe_b64encode(tag + body).rstrip(b"=").decode("ascii")


def decode_cursor(cursor: str, *, key: bytes, binding: str) -> dict[str, Any]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    except (binascii.Error, ValueError) as exc:
        raise BadCursor("not a cursor") from exc
    tag, body = raw[:12], raw[12:]
    expected = hmac.new(key, binding.encode("utf-8") + b"\x00" + body, hashlib.sha256).digest()[:12]
    if len(tag) != 12 or not hmac.compare_digest(tag, expected):
        raise BadCursor("cursor was not issued for this request")
    try:
        position = json.loads(body)
    except ValueError as exc:
        raise BadCursor("not a cursor") from exc
    if not isinstance(position, dict):
        raise BadCursor("not a cursor")
    return position


def search_timestamp_for(moment: datetime) -> str:
    """The search_timestamp a provider hands out: the time of the data it sent, as DTIME (14)."""
    return to_dtime(moment)


def is_up_to_date(requested: str | None, last_modified: datetime | None) -> bool:
    """True when the receiver already holds everything changed up to `last_modified` (→ 00001).

    Timestamps have one-second resolution, so a change in the same second as the receiver's timestamp counts as
    newer (ST > MT, not ST ≥ MT): a duplicate send is harmless, a missed change is not.
    """
    if not requested or requested == "0" or last_modified is None:
        return False
    return requested > to_dtime(last_modified)
