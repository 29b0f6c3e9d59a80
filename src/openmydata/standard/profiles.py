"""Standard profiles: which standard a provider speaks, and each standard's response-code set (digest §8).

The financial standard (신용정보법, digest §2.7) and the 2025 nationwide standard (개인정보보호법, onmydata.go.kr)
share the machinery (OAuth flows, envelope, paging, x-api-tran-id, search_timestamp) but not their information
APIs nor their response codes. The catalogue's entries say which profile they belong to (`ApiSpec.profile`),
and `ResponseCodes` renders a situation — a financial `RspCode`, possibly refined by a `Situation` the financial
table folds into a broader code — in one standard's codes.

The nationwide code set is the project's reading (digest §8 marks it "likely, unconfirmed"): 20001 success,
20002 success without data, 40001 bad request, 40002 bad parameter, 40003 header error, 40101…40106 as
financial with 40103 the TLS **fingerprint** check, 40107 consent withdrawn, 40108 token must be refreshed,
40301–40303, 40304 query-period error, 40305 query-identifier error, 40306 periodic transmission not allowed,
40401–40403, 40501, 40801 processing timeout, 42901, 50001, 50005, 50007, 50008, 50301 temporarily unavailable.
How every financial situation maps onto it is in `NATIONWIDE_FOR` (docs/decisions.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from openmydata.kit.errors import ServiceError
from openmydata.standard.codes import CODES, CodeInfo, RspCode, Situation, StandardError


class Profile(StrEnum):
    """The standard an information API (and a provider instance serving it) belongs to."""

    FINANCIAL = "financial"  # 금융분야 마이데이터 표준API
    NATIONWIDE = "nationwide"  # 2025 전 분야 마이데이터 (개인정보 전송 표준)


class NationwideCode(StrEnum):
    OK = "20001"
    UP_TO_DATE = "20002"
    BAD_REQUEST = "40001"
    BAD_PARAMETER = "40002"
    BAD_HEADER = "40003"
    INVALID_TOKEN = "40101"
    IP_NOT_ALLOWED = "40102"
    FINGERPRINT_CHECK_FAILED = "40103"
    SCOPE_NOT_GRANTED = "40104"
    ASSET_NOT_CONSENTED = "40105"
    CONSENT_ENDED = "40106"
    CONSENT_WITHDRAWN = "40107"
    TOKEN_REFRESH_REQUIRED = "40108"
    INVALID_CALL = "40301"
    THROTTLED = "40302"
    ORG_NOT_RECOGNISED = "40303"
    PERIOD_ERROR = "40304"
    IDENTIFIER_ERROR = "40305"
    SCHEDULED_NOT_ALLOWED = "40306"
    NOT_FOUND = "40401"
    ASSET_INVALID = "40402"
    SUBJECT_NOT_FOUND = "40403"
    METHOD_NOT_ALLOWED = "40501"
    TIMEOUT = "40801"
    LIMIT_EXCEEDED = "42901"
    SYSTEM_FAILURE = "50001"
    PROVIDER_UNAVAILABLE = "50005"
    CONVERSION_ERROR = "50007"
    MAINTENANCE = "50008"
    TEMPORARILY_UNAVAILABLE = "50301"


NATIONWIDE_CODES: dict[NationwideCode, CodeInfo] = {
    NationwideCode.OK: CodeInfo(200, "성공"),
    NationwideCode.UP_TO_DATE: CodeInfo(200, "성공 (전송할 데이터 없음)"),
    NationwideCode.BAD_REQUEST: CodeInfo(400, "잘못된 요청"),
    NationwideCode.BAD_PARAMETER: CodeInfo(400, "요청 파라미터 오류"),
    NationwideCode.BAD_HEADER: CodeInfo(400, "헤더 값 미존재 또는 오류"),
    NationwideCode.INVALID_TOKEN: CodeInfo(401, "유효하지 않은 접근토큰"),
    NationwideCode.IP_NOT_ALLOWED: CodeInfo(401, "허용되지 않은 IP"),
    NationwideCode.FINGERPRINT_CHECK_FAILED: CodeInfo(401, "인증서 핑거프린트 검증 실패"),
    NationwideCode.SCOPE_NOT_GRANTED: CodeInfo(401, "API 권한 없음 (scope)"),
    NationwideCode.ASSET_NOT_CONSENTED: CodeInfo(401, "전송요구 대상이 아닌 정보"),
    NationwideCode.CONSENT_ENDED: CodeInfo(401, "전송요구 종료시점 경과"),
    NationwideCode.CONSENT_WITHDRAWN: CodeInfo(401, "전송요구 철회"),
    NationwideCode.TOKEN_REFRESH_REQUIRED: CodeInfo(401, "접근토큰 갱신 필요"),
    NationwideCode.INVALID_CALL: CodeInfo(403, "유효하지 않은 API 호출"),
    NationwideCode.THROTTLED: CodeInfo(403, "일시적으로 제한된 클라이언트"),
    NationwideCode.ORG_NOT_RECOGNISED: CodeInfo(403, "기관코드 확인 불가"),
    NationwideCode.PERIOD_ERROR: CodeInfo(403, "조회 기간 오류"),
    NationwideCode.IDENTIFIER_ERROR: CodeInfo(403, "조회 식별자 오류"),
    NationwideCode.SCHEDULED_NOT_ALLOWED: CodeInfo(403, "정기적 전송 불가"),
    NationwideCode.NOT_FOUND: CodeInfo(404, "존재하지 않는 API"),
    NationwideCode.ASSET_INVALID: CodeInfo(404, "유효하지 않은 정보 식별자"),
    NationwideCode.SUBJECT_NOT_FOUND: CodeInfo(404, "정보주체 확인 불가"),
    NationwideCode.METHOD_NOT_ALLOWED: CodeInfo(405, "허용되지 않는 HTTP 메소드"),
    NationwideCode.TIMEOUT: CodeInfo(408, "처리 시간 초과"),
    NationwideCode.LIMIT_EXCEEDED: CodeInfo(429, "전송 요청한도 초과"),
    NationwideCode.SYSTEM_FAILURE: CodeInfo(500, "시스템 장애"),
    NationwideCode.PROVIDER_UNAVAILABLE: CodeInfo(500, "정보전송자 서비스 불가"),
    NationwideCode.CONVERSION_ERROR: CodeInfo(500, "전문 변환 오류"),
    NationwideCode.MAINTENANCE: CodeInfo(500, "시스템 정기점검"),
    NationwideCode.TEMPORARILY_UNAVAILABLE: CodeInfo(503, "일시적 서비스 불가"),
}

# Every financial situation in the nationwide code set (the project's reading, docs/decisions.md). Where the
# tables number the same situation alike the code stays; the header/parameter codes moved down by one (40001 is a
# bad request in general, which is where an unserved API version lands); both period errors (range beyond the
# transmission standard, data older than five years) are 40304; an asset not in a normal state is a query-
# identifier error; a call outside the periodic-transmission window is "periodic transmission not allowed";
# the revoke endpoint's 99999 (token to revoke not valid) is a success, as RFC 7009 §2.2 has it.
NATIONWIDE_FOR: dict[RspCode, NationwideCode] = {
    RspCode.OK: NationwideCode.OK,
    RspCode.UP_TO_DATE: NationwideCode.UP_TO_DATE,
    RspCode.BAD_PARAMETER: NationwideCode.BAD_PARAMETER,
    RspCode.BAD_HEADER: NationwideCode.BAD_HEADER,
    RspCode.VERSION_NOT_ALLOWED: NationwideCode.BAD_REQUEST,
    RspCode.RANGE_EXCEEDED: NationwideCode.PERIOD_ERROR,
    RspCode.INVALID_TOKEN: NationwideCode.INVALID_TOKEN,
    RspCode.IP_NOT_ALLOWED: NationwideCode.IP_NOT_ALLOWED,
    RspCode.CERT_CHECK_FAILED: NationwideCode.FINGERPRINT_CHECK_FAILED,
    RspCode.SCOPE_NOT_GRANTED: NationwideCode.SCOPE_NOT_GRANTED,
    RspCode.ASSET_NOT_CONSENTED: NationwideCode.ASSET_NOT_CONSENTED,
    RspCode.CONSENT_ENDED: NationwideCode.CONSENT_ENDED,
    RspCode.INVALID_CALL: NationwideCode.INVALID_CALL,
    RspCode.THROTTLED: NationwideCode.THROTTLED,
    RspCode.ORG_NOT_RECOGNISED: NationwideCode.ORG_NOT_RECOGNISED,
    RspCode.TOO_OLD: NationwideCode.PERIOD_ERROR,
    RspCode.ASSET_NOT_NORMAL: NationwideCode.IDENTIFIER_ERROR,
    RspCode.NOT_FOUND: NationwideCode.NOT_FOUND,
    RspCode.ASSET_INVALID: NationwideCode.ASSET_INVALID,
    RspCode.SUBJECT_NOT_FOUND: NationwideCode.SUBJECT_NOT_FOUND,
    RspCode.METHOD_NOT_ALLOWED: NationwideCode.METHOD_NOT_ALLOWED,
    RspCode.LIMIT_EXCEEDED: NationwideCode.LIMIT_EXCEEDED,
    RspCode.SYSTEM_FAILURE: NationwideCode.SYSTEM_FAILURE,
    RspCode.PROCESSING_FAILED: NationwideCode.SYSTEM_FAILURE,
    RspCode.TIMEOUT: NationwideCode.TIMEOUT,
    RspCode.UNKNOWN: NationwideCode.SYSTEM_FAILURE,
    RspCode.PROVIDER_UNAVAILABLE: NationwideCode.PROVIDER_UNAVAILABLE,
    RspCode.CLIENT_ORG_UNAVAILABLE: NationwideCode.PROVIDER_UNAVAILABLE,
    RspCode.CONVERSION_ERROR: NationwideCode.CONVERSION_ERROR,
    RspCode.MAINTENANCE: NationwideCode.MAINTENANCE,
    RspCode.OUTSIDE_WINDOW: NationwideCode.SCHEDULED_NOT_ALLOWED,
    RspCode.MARKET_HOURS: NationwideCode.TEMPORARILY_UNAVAILABLE,
    RspCode.REVOKE_INVALID_TOKEN: NationwideCode.OK,
}

# Situations the nationwide table names on their own (the financial table answers 40101 for both).
NATIONWIDE_FOR_SITUATION: dict[Situation, NationwideCode] = {
    Situation.CONSENT_WITHDRAWN: NationwideCode.CONSENT_WITHDRAWN,
    Situation.TOKEN_EXPIRED: NationwideCode.TOKEN_REFRESH_REQUIRED,
}


@dataclass(frozen=True)
class ResponseCodes:
    """One standard's response-code set: what a situation is called on the wire, with its HTTP status."""

    profile: Profile
    table: Mapping[str, CodeInfo]
    for_code: Mapping[RspCode, str]
    for_situation: Mapping[Situation, str]

    def code(self, code: RspCode, situation: Situation | None = None) -> str:
        if situation is not None and situation in self.for_situation:
            return self.for_situation[situation]
        return self.for_code[code]

    @property
    def success(self) -> str:
        return self.for_code[RspCode.OK]

    @property
    def up_to_date(self) -> str:
        return self.for_code[RspCode.UP_TO_DATE]

    def error(self, exc: StandardError) -> ServiceError:
        """`exc` in this code set: code, HTTP status and message (the detail kept)."""
        if self.profile is Profile.FINANCIAL:
            return exc
        code = self.code(exc.code, exc.situation)
        info = self.table[code]
        message = f"{info.message}: {exc.detail}" if exc.detail else info.message
        return ServiceError(info.http_status, code, message, exc.headers)

    def answer(self, body: dict[str, Any]) -> dict[str, Any]:
        """A success body (`success_envelope` of the financial codes) with this set's rsp_code and rsp_msg."""
        if self.profile is Profile.FINANCIAL:
            return body
        try:
            situation = RspCode(str(body.get("rsp_code")))
        except ValueError:
            return body
        code = self.for_code.get(situation)
        if code is None:
            return body
        return {**body, "rsp_code": code, "rsp_msg": self.table[code].message}


FINANCIAL_RESPONSE_CODES = ResponseCodes(
    profile=Profile.FINANCIAL,
    table={code.value: info for code, info in CODES.items()},
    for_code={code: code.value for code in RspCode},
    for_situation={},
)
NATIONWIDE_RESPONSE_CODES = ResponseCodes(
    profile=Profile.NATIONWIDE,
    table={code.value: info for code, info in NATIONWIDE_CODES.items()},
    for_code={code: nationwide.value for code, nationwide in NATIONWIDE_FOR.items()},
    for_situation={situation: nationwide.value for situation, nationwide in NATIONWIDE_FOR_SITUATION.items()},
)
RESPONSE_CODES: dict[Profile, ResponseCodes] = {
    Profile.FINANCIAL: FINANCIAL_RESPONSE_CODES,
    Profile.NATIONWIDE: NATIONWIDE_RESPONSE_CODES,
}

# What a caller of any profile's provider takes for success (`standard.client`): data, and "nothing new".
SUCCESS_CODES = frozenset(codes.success for codes in RESPONSE_CODES.values())
UP_TO_DATE_CODES = frozenset(codes.up_to_date for codes in RESPONSE_CODES.values())


def response_codes(profile: Profile | str) -> ResponseCodes:
    return RESPONSE_CODES[Profile(profile)]
