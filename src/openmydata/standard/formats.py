"""Identifiers the standard defines: x-api-tran-id (digest §2.3, §10.5) and tx_id (§3.3).

Decisions on unconfirmed points (docs/decisions.md):
- party letters other than `M` (operator): S provider, R relay, C certification authority, P portal;
- the 14-character serial is upper-case alphanumeric random (36^14 values), unique far beyond one day;
- tx_id with no relay carries the provider's own org_code in the relay position.
"""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum

from openmydata.kit import ids
from openmydata.kit.clock import now_kst

ORG_CODE_RE = re.compile(r"^[0-9A-Za-z]{10}$")
TRAN_ID_RE = re.compile(r"^[0-9A-Z]{10}[MSRCPA][0-9A-Z]{14}$")
TX_ID_RE = re.compile(
    r"^MD_([0-9A-Za-z]{10})_([0-9A-Za-z]{10})_([0-9A-Za-z]{10})_([0-9A-Za-z]{10})_([0-9]{14})_([0-9A-Za-z]{12})$"
)


class Party(StrEnum):
    OPERATOR = "M"
    PROVIDER = "S"
    RELAY = "R"
    CERT_AUTHORITY = "C"
    PORTAL = "P"


def new_tran_id(org_code: str, party: Party) -> str:
    """x-api-tran-id: org_code (10) + party (1) + serial (14); AN(25), so upper case only."""
    prefix = org_code.upper()
    if not re.fullmatch(r"[0-9A-Z]{10}", prefix):
        raise ValueError("org_code must be 10 alphanumeric characters")
    return f"{prefix}{party.value}{ids.upper_alnum(14)}"


def is_valid_tran_id(value: str | None) -> bool:
    return bool(value) and TRAN_ID_RE.fullmatch(value or "") is not None


def new_tx_id(
    operator_org: str, provider_org: str, ca_org: str, relay_org: str | None = None, at: datetime | None = None
) -> str:
    """tx_id for 통합인증-002: MD_{operator}_{provider}_{relay}_{CA}_{YYYYMMDDHHMMSS}_{serial(12)} — aNS(74)."""
    moment = (at or now_kst()).strftime("%Y%m%d%H%M%S")
    relay = relay_org or provider_org
    for code in (operator_org, provider_org, relay, ca_org):
        if not ORG_CODE_RE.fullmatch(code):
            raise ValueError("org codes are 10 alphanumeric characters")
    return f"MD_{operator_org}_{provider_org}_{relay}_{ca_org}_{moment}_{ids.upper_alnum(12)}"


def parse_tx_id(value: str) -> tuple[str, str, str, str, str, str] | None:
    match = TX_ID_RE.fullmatch(value)
    if match is None:
        return None
    operator, provider, relay, ca, moment, serial = match.groups()
    return operator, provider, relay, ca, moment, serial
