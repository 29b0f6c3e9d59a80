"""Korean display labels and masking for the operator's pages: scopes, transfer cycles, telecom and card codes,
account numbers. Unknown codes fall back to the code itself, so new catalogue entries still show something.

The labels are the Korean source strings of the pages' catalogue (`operator.i18n`): each function takes the
page's translations (`tr`, Korean by default) and answers in its language."""

from __future__ import annotations

import re
from collections.abc import Iterable
from gettext import NullTranslations

from openmydata.operator.i18n import KOREAN, N_
from openmydata.standard.scopes import SCOPE_NAMES

SCOPE_LABELS = SCOPE_NAMES
TELECOM_TYPES = {"01": N_("이동전화"), "02": N_("데이터 전용")}
TELECOM_STATUSES = {"01": N_("개인")}
CARD_TYPES = {"01": N_("신용"), "02": N_("체크"), "03": N_("소액신용체크")}

_CYCLE = re.compile(r"^\s*(\d+)\s*/\s*([A-Za-z])\s*$")


def scope_label(scope: str, tr: NullTranslations = KOREAN) -> str:
    """`bank.deposit` → `예금·적금`; an unknown scope stays as its code."""
    label = SCOPE_LABELS.get(scope)
    return tr.gettext(label) if label is not None else scope


def scope_labels(scopes: str | Iterable[str] | None, tr: NullTranslations = KOREAN) -> str:
    """A space-separated scope string (as in a token or a consent) or a list of scopes, as names in `tr`'s language."""
    if scopes is None:
        return ""
    items = scopes.split() if isinstance(scopes, str) else list(scopes)
    return ", ".join(scope_label(scope, tr) for scope in items)


def cycle_label(cycle: str | None, tr: NullTranslations = KOREAN) -> str:
    """A transfer cycle `n/unit` (d day, w week, m month): `1/w` → `주 1회`; anything else stays as it is."""
    text = cycle or ""
    match = _CYCLE.match(text)
    if match is None:
        return text
    count = int(match.group(1))
    unit = match.group(2).lower()
    if unit == "d":
        return tr.ngettext("일 %(count)d회", "일 %(count)d회", count) % {"count": count}
    if unit == "w":
        return tr.ngettext("주 %(count)d회", "주 %(count)d회", count) % {"count": count}
    if unit == "m":
        return tr.ngettext("월 %(count)d회", "월 %(count)d회", count) % {"count": count}
    return text


def code_label(labels: dict[str, str], code: object, tr: NullTranslations = KOREAN) -> str:
    """The label of a code, or the code itself when the table does not know it (empty stays empty)."""
    text = "" if code is None else str(code)
    label = labels.get(text)
    return tr.gettext(label) if label is not None else text


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
    "unavailable": N_("기관 서버에 연결할 수 없습니다"),
    "circuit-open": N_("기관 서버 장애가 계속되어 잠시 연결을 멈췄습니다"),
    "not-registered": N_("종합포털에 등록되지 않은 기관입니다"),
    "40101": N_("기관의 접근토큰이 유효하지 않아 다시 연결해야 합니다"),
    "40106": N_("전송요구 기간이 끝났습니다"),
    "40108": N_("기관의 접근토큰이 만료되어 다시 연결해야 합니다"),
    "invalid_grant": N_("기관 인증이 만료되어 다시 연결해야 합니다"),
    "42901": N_("기관이 정한 전송 한도를 넘어 다음 주기에 다시 받습니다"),
    "50005": N_("기관 서버에 연결할 수 없습니다"),
    "50008": N_("기관 시스템 점검 중입니다"),
    "50009": N_("기관의 정기 전송 시간대가 아닙니다"),
}


NOT_RECEIVED = N_("아직 정보를 받지 못했습니다")


def collection_reason(code: str | None, tr: NullTranslations = KOREAN) -> str:
    """A collection error code as a sentence; unknown 5xxxx codes are the institution's system errors."""
    if not code:
        return ""
    if code in COLLECTION_REASONS:
        return tr.gettext(COLLECTION_REASONS[code])
    if code.startswith("5") or (code.isdigit() and int(code) >= 500):
        return tr.gettext("기관 시스템 오류가 있었습니다 (%(code)s)") % {"code": code}
    return tr.gettext("기관이 요청을 거절했습니다 (%(code)s)") % {"code": code}


def freshness_reason(*, fresh: bool, received: bool, code: str | None, days: int, tr: NullTranslations = KOREAN) -> str:
    """Why an institution's data is not fresh ("" when it is): nothing received yet, the last collection's error,
    or how long ago it last arrived."""
    if fresh:
        return ""
    if not received:
        return tr.gettext(NOT_RECEIVED)
    if code:
        return collection_reason(code, tr)
    return tr.ngettext(
        "마지막으로 받은 지 %(days)d일이 지났습니다", "마지막으로 받은 지 %(days)d일이 지났습니다", days
    ) % {"days": days}
