"""The CA's API models (사설인증서 APIs, digest §3.3; their official IDs and some lengths are unconfirmed) and
its admin API. Values travel as JSON strings like the standard's (digest §10.3)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from openmydata.standard.models import Envelope
from openmydata.standard.types import DATE, N, StandardModel

SignStatus = Literal["01", "02", "03", "04"]


def _max_bytes(limit: int) -> AfterValidator:
    def check(value: str) -> str:
        if len(value.encode("utf-8")) > limit:
            raise ValueError(f"longer than {limit} bytes")
        return value

    return AfterValidator(check)


RealName = Annotated[str, StringConstraints(min_length=1), _max_bytes(90)]
Title = Annotated[str, StringConstraints(min_length=1), _max_bytes(300)]
Phone = Annotated[str, StringConstraints(pattern=r"^\+?[0-9][0-9\- ]{6,18}$")]
UserCi = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9+/_\-]{1,100}={0,2}$")]
ConsentText = Annotated[str, StringConstraints(min_length=1), _max_bytes(10000)]
CertTxId = Annotated[str, StringConstraints(pattern=r"^[\x21-\x7e]{1,40}$")]
TxId = Annotated[str, StringConstraints(pattern=r"^[\x21-\x7e]{1,74}$")]
SignTxId = Annotated[str, StringConstraints(pattern=r"^[\x21-\x7e]{1,49}$")]
ReturnUrl = Annotated[str, StringConstraints(pattern=r"^[\x21-\x7e]{1,100}$")]
SignedText = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9+/_\-]{1,10000}={0,2}$")]


# CA token
class CaTokenResponse(StandardModel):
    token_type: str = "Bearer"
    access_token: str
    expires_in: N(9)  # type: ignore[valid-type]
    scope: str


# identity
class IdentityRequest(StandardModel):
    real_name: RealName
    birth_date: DATE
    phone_num: Phone
    request_title: Title


class CertTxResponse(Envelope):
    cert_tx_id: str
    approval_url: str


class IdentityResultRequest(StandardModel):
    cert_tx_id: CertTxId


class IdentityResultResponse(Envelope):
    sign_status: SignStatus
    user_ci: str | None = None
    real_name: str | None = None
    birth_date: str | None = None
    phone_num: str | None = None


# signing
class ConsentItem(StandardModel):
    consent_len: N(5)  # type: ignore[valid-type]
    consent_title: Title
    consent: ConsentText
    tx_id: TxId

    @model_validator(mode="after")
    def _length(self) -> ConsentItem:
        if self.consent_len != len(self.consent.encode("utf-8")):
            raise ValueError("consent_len is not the UTF-8 byte length of consent")
        return self


class SignRequest(StandardModel):
    sign_tx_id: SignTxId
    user_ci: UserCi
    real_name: RealName
    phone_num: Phone
    request_title: Title
    device_code: Literal["PC", "TB", "MO"]
    device_browser: Literal["WB", "NA", "HY"]
    return_app_scheme_url: ReturnUrl | None = None
    consent_type: Literal["0", "1"] = "0"
    consent_cnt: N(3)  # type: ignore[valid-type]
    consent_list: list[ConsentItem] = Field(min_length=1)

    @model_validator(mode="after")
    def _consents(self) -> SignRequest:
        if self.consent_cnt != len(self.consent_list):
            raise ValueError("consent_cnt does not match consent_list")
        tx_ids = [item.tx_id for item in self.consent_list]
        if len(set(tx_ids)) != len(tx_ids):
            raise ValueError("tx_id values repeat")
        return self


class SignResultRequest(StandardModel):
    cert_tx_id: CertTxId
    sign_tx_id: SignTxId


class SignedConsentItem(StandardModel):
    tx_id: str
    signed_consent_len: N(5)  # type: ignore[valid-type]
    signed_consent: str


class SignResultResponse(Envelope):
    sign_status: SignStatus
    signed_consent_cnt: N(3) | None = None  # type: ignore[valid-type]
    signed_consent_list: list[SignedConsentItem] | None = None


class SignVerificationRequest(StandardModel):
    tx_id: TxId
    cert_tx_id: CertTxId
    signed_consent_len: N(5)  # type: ignore[valid-type]
    signed_consent: SignedText
    consent_type: Literal["0", "1"] = "0"
    consent_len: N(5) | None = None  # type: ignore[valid-type]
    consent: ConsentText | None = None

    @model_validator(mode="after")
    def _lengths(self) -> SignVerificationRequest:
        if self.signed_consent_len != len(self.signed_consent):
            raise ValueError("signed_consent_len is not the length of signed_consent")
        if (
            self.consent is not None
            and self.consent_len is not None
            and self.consent_len != len(self.consent.encode("utf-8"))
        ):
            raise ValueError("consent_len is not the UTF-8 byte length of consent")
        return self


class SignVerificationResponse(Envelope):
    tx_id: str
    result: Literal["true", "false"]
    user_ci: str | None = None


# approval (the person)
class ApprovalRequest(StandardModel):
    """The person's decision; the PIN is needed to approve, not to reject."""

    pin: Annotated[str, StringConstraints(max_length=64)] | None = None
    decision: Literal["approve", "reject"]


class ApprovalResponse(Envelope):
    sign_status: SignStatus


# admin
class PersonIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ci: UserCi
    name: RealName
    birth_date: DATE
    phone: Phone
    pin: Annotated[str, StringConstraints(pattern=r"^[0-9]{4,12}$")]


class PersonsEnrolment(BaseModel):
    model_config = ConfigDict(extra="forbid")

    persons: list[PersonIn] = Field(min_length=1, max_length=10_000)


class EnrolResult(BaseModel):
    enrolled: int


class PersonRevocation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ci: UserCi


class RevocationResult(BaseModel):
    revoked: bool
