"""The response-code table (digest §2.7) and the standard's error class."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from openmydata.kit.errors import ServiceError


@dataclass(frozen=True)
class CodeInfo:
    http_status: int
    message: str


class RspCode(StrEnum):
    OK = "00000"
    UP_TO_DATE = "00001"
    BAD_PARAMETER = "40001"
    BAD_HEADER = "40002"
    VERSION_NOT_ALLOWED = "40003"
    RANGE_EXCEEDED = "40004"
    INVALID_TOKEN = "40101"
    IP_NOT_ALLOWED = "40102"
    CERT_CHECK_FAILED = "40103"
    SCOPE_NOT_GRANTED = "40104"
    ASSET_NOT_CONSENTED = "40105"
    CONSENT_ENDED = "40106"
    INVALID_CALL = "40301"
    THROTTLED = "40302"
    ORG_NOT_RECOGNISED = "40303"
    TOO_OLD = "40304"
    ASSET_NOT_NORMAL = "40305"
    NOT_FOUND = "40401"
    ASSET_INVALID = "40402"
    SUBJECT_NOT_FOUND = "40403"
    METHOD_NOT_ALLOWED = "40501"
    LIMIT_EXCEEDED = "42901"
    SYSTEM_FAILURE = "50001"
    PROCESSING_FAILED = "50002"
    TIMEOUT = "50003"
    UNKNOWN = "50004"
    PROVIDER_UNAVAILABLE = "50005"
    CLIENT_ORG_UNAVAILABLE = "50006"
    CONVERSION_ERROR = "50007"
    MAINTENANCE = "50008"
    OUTSIDE_WINDOW = "50009"
    MARKET_HOURS = "50010"
    REVOKE_INVALID_TOKEN = "99999"


CODES: dict[RspCode, CodeInfo] = {
    RspCode.OK: CodeInfo(200, "성공"),
    RspCode.UP_TO_DATE: CodeInfo(200, "성공 (전송할 데이터 없음, UP_TO_DATE)"),
    RspCode.BAD_PARAMETER: CodeInfo(400, "요청 파라미터 오류"),
    RspCode.BAD_HEADER: CodeInfo(400, "헤더 값 미존재 또는 오류"),
    RspCode.VERSION_NOT_ALLOWED: CodeInfo(400, "허용되지 않는 API 버전"),
    RspCode.RANGE_EXCEEDED: CodeInfo(400, "조회 기간이 전송 기준을 초과"),
    RspCode.INVALID_TOKEN: CodeInfo(401, "유효하지 않은 접근토큰"),
    RspCode.IP_NOT_ALLOWED: CodeInfo(401, "허용되지 않은 IP"),
    RspCode.CERT_CHECK_FAILED: CodeInfo(401, "인증서 검증 실패"),
    RspCode.SCOPE_NOT_GRANTED: CodeInfo(401, "API 권한 없음 (scope)"),
    RspCode.ASSET_NOT_CONSENTED: CodeInfo(401, "자산에 대한 권한 없음 (전송요구 대상 아님)"),
    RspCode.CONSENT_ENDED: CodeInfo(401, "전송요구 종료시점 경과"),
    RspCode.INVALID_CALL: CodeInfo(403, "유효하지 않은 API 호출"),
    RspCode.THROTTLED: CodeInfo(403, "일시적으로 제한된 클라이언트"),
    RspCode.ORG_NOT_RECOGNISED: CodeInfo(403, "기관코드 확인 불가"),
    RspCode.TOO_OLD: CodeInfo(403, "최근 5년 이전 정보 요청"),
    RspCode.ASSET_NOT_NORMAL: CodeInfo(403, "정상 상태가 아닌 자산"),
    RspCode.NOT_FOUND: CodeInfo(404, "존재하지 않는 API"),
    RspCode.ASSET_INVALID: CodeInfo(404, "유효하지 않은 자산"),
    RspCode.SUBJECT_NOT_FOUND: CodeInfo(404, "정보주체 확인 불가"),
    RspCode.METHOD_NOT_ALLOWED: CodeInfo(405, "허용되지 않는 HTTP 메소드"),
    RspCode.LIMIT_EXCEEDED: CodeInfo(429, "정보제공 요청한도 초과"),
    RspCode.SYSTEM_FAILURE: CodeInfo(500, "시스템 장애"),
    RspCode.PROCESSING_FAILED: CodeInfo(500, "요청 처리 실패"),
    RspCode.TIMEOUT: CodeInfo(500, "처리 시간 초과"),
    RspCode.UNKNOWN: CodeInfo(500, "알 수 없는 오류"),
    RspCode.PROVIDER_UNAVAILABLE: CodeInfo(500, "정보제공자 서비스 불가"),
    RspCode.CLIENT_ORG_UNAVAILABLE: CodeInfo(500, "정보수신자 서비스 불가"),
    RspCode.CONVERSION_ERROR: CodeInfo(500, "전문 변환 오류"),
    RspCode.MAINTENANCE: CodeInfo(500, "시스템 정기점검"),
    RspCode.OUTSIDE_WINDOW: CodeInfo(500, "정기적 전송 허용 시간 외 요청"),
    RspCode.MARKET_HOURS: CodeInfo(500, "장 개시/마감 시간 요청 거부"),
    RspCode.REVOKE_INVALID_TOKEN: CodeInfo(200, "폐기 대상 토큰이 유효하지 않음"),
}


class Situation(StrEnum):
    """A finer situation than the financial table names: the nationwide standard has codes of its own for these
    (`standard.profiles`), the financial one answers the broader `RspCode` (40101 for both)."""

    CONSENT_WITHDRAWN = "consent_withdrawn"  # the person withdrew the consent (the token died with it)
    TOKEN_EXPIRED = "token_expired"  # the access token expired: refresh it (개별인증-003)


class StandardError(ServiceError):
    """An error with one of the standard's response codes; its HTTP status comes from the table. `situation`
    refines `code` for standards that tell the two apart (`standard.profiles.ResponseCodes`)."""

    def __init__(
        self,
        code: RspCode,
        detail: str | None = None,
        headers: dict[str, str] | None = None,
        *,
        situation: Situation | None = None,
    ):
        info = CODES[code]
        message = f"{info.message}: {detail}" if detail else info.message
        super().__init__(info.http_status, code.value, message, headers)
        self.code = code
        self.detail = detail
        self.situation = situation


def success_envelope(code: RspCode = RspCode.OK) -> dict[str, str]:
    return {"rsp_code": code.value, "rsp_msg": CODES[code].message}
