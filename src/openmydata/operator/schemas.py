"""Bodies of the operator's own JSON API (`/api/...`)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SignupRequest(_Body):
    name: str = Field(min_length=1, max_length=60)
    birth_date: str = Field(min_length=8, max_length=10)
    phone: str = Field(min_length=9, max_length=20)


class ApprovalResponse(BaseModel):
    cert_tx_id: str
    approval_url: str


class CompleteRequest(_Body):
    cert_tx_id: str = Field(min_length=1, max_length=64)


class SessionResponse(BaseModel):
    session_token: str
    person_id: int


class ProviderItem(BaseModel):
    org_code: str
    org_name: str
    industry: str
    industries: list[str]


class ProvidersResponse(BaseModel):
    providers: list[ProviderItem]


class ConsentRequest(_Body):
    org_codes: list[str] = Field(min_length=1, max_length=50)
    is_consent_trans_memo: bool = False
    is_consent_merchant_name_regno: bool = False
    is_consent_trans_category: bool = False

    def flags(self) -> dict[str, bool]:
        return {
            "is_consent_trans_memo": self.is_consent_trans_memo,
            "is_consent_merchant_name_regno": self.is_consent_merchant_name_regno,
            "is_consent_trans_category": self.is_consent_trans_category,
        }


class ProviderResult(BaseModel):
    org_code: str
    ok: bool
    scope: str | None = None
    error: str | None = None


class ConsentCompleteResponse(BaseModel):
    providers: list[ProviderResult]
    # Records held per institution once the first collection finished (with ?wait=true, the default).
    collected: dict[str, int]
    # How long the first collection took, from its jobs' creation to the last one's end (every institution fetched
    # concurrently and stored): what the person waited. None when it had not finished within the wait.
    collection_ms: float | None = None
    # Where the collection's progress is (each institution: queued, running, retrying, done; fresh or stale, why).
    progress_url: str = "/api/me/collection"


class CollectedResponse(BaseModel):
    collected: dict[str, int]
    collection_ms: float | None = None
    progress_url: str = "/api/me/collection"


class InstitutionProgressItem(BaseModel):
    org_code: str
    org_name: str
    phase: str  # idle | queued | running | retrying | done | failed
    fresh: bool
    reason: str | None = None
    last_success: str | None = None  # DTIME (Asia/Seoul)
    last_attempt: str | None = None  # DTIME; none before the first collection attempt ended
    next_attempt: str | None = None  # DTIME, when a failed collection is retried
    records: int
    error_code: str | None = None


class CollectionResponse(BaseModel):
    institutions: list[InstitutionProgressItem]
    finished: int  # institutions whose collection is not queued, running or waiting to retry
    total: int


class RecordItem(BaseModel):
    org_code: str
    api_id: str
    key: str
    record_key: str
    payload: dict[str, Any]


class RecordsResponse(BaseModel):
    records: list[RecordItem]


class ConsentItem(BaseModel):
    org_code: str
    tx_id: str
    status: str
    scope: str | None = None
    end_date: str
    signed_at: str
    error: str | None = None


class ConsentsResponse(BaseModel):
    consents: list[ConsentItem]


class RevokedItem(BaseModel):
    org_code: str
    rsp_code: str


class WithdrawInstitutionRequest(_Body):
    org_code: str = Field(min_length=1, max_length=10)


class WithdrawInstitutionResponse(BaseModel):
    """The consent at one provider withdrawn: the provider's answer to 개별인증-004 and what was deleted here."""

    org_code: str
    rsp_code: str
    records_deleted: int


class WithdrawResponse(BaseModel):
    revoked: list[RevokedItem]
    records_remaining: int


class HistoryItem(BaseModel):
    """One API's records one institution sent, from the operator's audit chain."""

    at: str  # DTIME (Asia/Seoul)
    org_code: str
    org_name: str
    api_id: str
    title: str
    records: int


class HistoryResponse(BaseModel):
    history: list[HistoryItem]
