"""Korean display labels and masking for the operator's pages: scopes, transfer cycles, telecom and card codes,
account numbers. Unknown codes fall back to the code itself, so new catalogue entries still show something."""

from __future__ import annotations

import re
from collections.abc import Iterable

from openmydata.standard.scopes import SCOPE_NAMES

SCOPE_LABELS = SCOPE_NAMES
CYCLE_UNITS = {"d": "일", "w": "주", "m": "월"}
TELECOM_TYPES = {"01": "이동전화", "02": "데이터 전용"}
TELECOM_STATUSES = {"01": "개인"}
CARD_TYPES = {"01": "신용", "02": "체크", "03": "소액신용체크"}

_CYCLE = re.compile(r"^\s*(\d+)\s*/\s*([A-Za-z])\s*$")


def scope_label(scope: str) -> str:
    """`bank.deposit` → `예금·적금`; an unknown scope stays as its code."""
    return SCOPE_LABELS.get(scope, scope)


def scope_labels(scopes: str | Iterable[str] | None) -> str:
    """A space-separated scope string (as in a token or a consent) or a list of scopes, as Korean names."""
    if scopes is None:
        return ""
    items = scopes.split() if isinstance(scopes, str) else list(scopes)
    return ", ".join(scope_label(scope) for scope in items)


def cycle_label(cycle: str | None) -> str:
    """A transfer cycle `n/unit` (d day, w week, m month): `1/w` → `주 1회`; anything else stays as it is."""
    text = cycle or ""
    match = _CYCLE.match(text)
    if match is None or match.group(2).lower() not in CYCLE_UNITS:
        return text
    return f"{CYCLE_UNITS[match.group(2).lower()]} {int(match.group(1))}회"


def code_label(labels: dict[str, str], code: object) -> str:
    """The label of a code, or the code itself when the table does not know it (empty stays empty)."""
    text = "" if code is None else str(code)
    return labels.get(text, text)


def mask_account(number: object) -> str:
    """An account number for the screen: only the last four digits, `***-****-3652`.

    Separators are ignored when counting; four characters or fewer are masked entirely.
    """
    text = "" if number is None else str(number)
    digits = re.sub(r"[^0-9A-Za-z]", "", text)
    if not digits:
        return ""
    if len(digits) <= 4:
        return "*" * len(digits)
    return f"***-****-{digits[-4:]}"


# Why an institution's data is not fresh, in the person's words (collection error codes: the standard's rsp_code,
# or the collector's own markers).
COLLECTION_REASONS = {
    "unavailable": "기관 서버에 연결할 수 없습니다",
    "circuit-open": "기관 서버 장애가 계속되어 잠시 연결을 멈췄습니다",
    "not-registered": "종합포털에 등록되지 않은 기관입니다",
    "40101": "기관의 접근토큰이 유효하지 않아 다시 연결해야 합니다",
    "40106": "전송요구 기간이 끝났습니다",
    "40108": "기관의 접근토큰이 만료되어 다시 연결해야 합니다",
    "invalid_grant": "기관 인증이 만료되어 다시 연결해야 합니다",
    "42901": "기관이 정한 전송 한도를 넘어 다음 주기에 다시 받습니다",
    "50005": "기관 서버에 연결할 수 없습니다",
    "50008": "기관 시스템 점검 중입니다",
    "50009": "기관의 정기 전송 시간대가 아닙니다",
}


def collection_reason(code: str | None) -> str:
    """A collection error code as a sentence; unknown 5xxxx codes are the institution's system errors."""
    if not code:
        return ""
    if code in COLLECTION_REASONS:
        return COLLECTION_REASONS[code]
    if code.startswith("5") or (code.isdigit() and int(code) >= 500):
        return f"기관 시스템 오류가 있었습니다 ({code})"
    return f"기관이 요청을 거절했습니다 ({code})"
