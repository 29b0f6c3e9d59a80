"""The seed, date and institutions every sandbox test uses."""

from __future__ import annotations

from datetime import date

from openmydata.sandbox.institutions import SectorName

SEED = 20240917
AS_OF = date(2025, 6, 30)
ORG_CODES: dict[SectorName, str] = {"bank": "BANKSBX001", "card": "CARDSBX001", "telecom": "TELCOSBX01"}
