"""The consent (전송요구) model and what the person signs (digest §3.3, §4).

What is signed is `{"consent": <consent JSON>, "consentNonce": <nonce>}` (UTF-8, compact JSON), carried in a
CMS SignedData by the certification authority.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import AfterValidator, Field, field_validator

from openmydata.kit.clock import parse_dtime
from openmydata.standard.types import DTIME, Bool, StandardModel

# Named field types: mypy sees the plain Python type, pydantic the standard's constrained type.
if TYPE_CHECKING:
    OrgCode = str
    Asset = str
    Scope = str
    Purpose = str
    Nonce = str
else:
    from openmydata.standard.types import AH, aN, aNS

    OrgCode = aN(10)
    Asset = aNS(100)
    Scope = aNS(64)
    Purpose = AH(300)
    Nonce = aNS(64)

ALL_ASSETS = "all_asset"
MAX_CONSENT_DURATION = timedelta(days=366)
CYCLE_RE = re.compile(r"^[1-9][0-9]{0,2}/[dwm]$")


def _cycle(value: str) -> str:
    if not CYCLE_RE.fullmatch(value):
        raise ValueError("cycle is <count>/<d|w|m>, e.g. 1/w")
    return value


Cycle = Annotated[str, AfterValidator(_cycle)]


class TransmissionCycle(StandardModel):
    fnd_cycle: Cycle = "1/w"
    add_cycle: Cycle = "1/w"


class ConsentAsset(StandardModel):
    asset: Asset


class TargetInfo(StandardModel):
    scope: Scope
    asset_list: list[ConsentAsset] = Field(default_factory=lambda: [ConsentAsset(asset=ALL_ASSETS)])

    def covers(self, asset: str) -> bool:
        return any(item.asset in (ALL_ASSETS, asset) for item in self.asset_list)


class TransmissionRequest(StandardModel):
    """전송요구 — a person's signed request that one provider send data to one operator.

    One per (person, provider); the operator composes it, the person signs it at the certification authority,
    the provider records it at 통합인증-002 and enforces it on every information API call.
    """

    snd_org_code: OrgCode
    rcv_org_code: OrgCode
    is_scheduled: Bool = True
    cycle: TransmissionCycle = Field(default_factory=TransmissionCycle)
    end_date: DTIME
    purpose: Purpose
    holding_period: DTIME
    target_info: list[TargetInfo]
    is_consent_trans_memo: Bool = False
    is_consent_merchant_name_regno: Bool = False
    is_consent_trans_category: Bool = False

    @field_validator("target_info")
    @classmethod
    def _non_empty(cls, value: list[TargetInfo]) -> list[TargetInfo]:
        if not value:
            raise ValueError("a consent names at least one scope")
        return value

    @property
    def scopes(self) -> list[str]:
        return [target.scope for target in self.target_info]

    @property
    def end(self) -> datetime:
        return parse_dtime(self.end_date)

    def validate_duration(self, signed_at: datetime) -> None:
        """A consent lasts at most one year (guideline §2) and must end in the future."""
        if self.end <= signed_at:
            raise ValueError("consent end_date is in the past")
        if self.end - signed_at > MAX_CONSENT_DURATION:
            raise ValueError("consent lasts longer than one year")

    def covers(self, scope: str, asset: str | None) -> bool:
        return any(target.scope == scope and (asset is None or target.covers(asset)) for target in self.target_info)

    def sensitive_flags(self) -> dict[str, bool]:
        return {
            "is_consent_trans_memo": self.is_consent_trans_memo,
            "is_consent_merchant_name_regno": self.is_consent_merchant_name_regno,
            "is_consent_trans_category": self.is_consent_trans_category,
        }


class SignedConsentContent(StandardModel):
    """The signed content: the consent together with the operator's anti-replay nonce."""

    consent: TransmissionRequest
    consentNonce: Nonce  # noqa: N815 - the standard's name

    def to_bytes(self) -> bytes:
        return encode_signed_content(self.consent, self.consentNonce)


def encode_signed_content(consent: TransmissionRequest, nonce: str) -> bytes:
    payload: dict[str, Any] = {"consent": consent.to_wire(), "consentNonce": nonce}
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode("utf-8")


def decode_signed_content(data: bytes) -> SignedConsentContent:
    return SignedConsentContent.model_validate_json(data)
