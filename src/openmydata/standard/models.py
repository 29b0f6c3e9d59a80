"""Request and response building blocks shared by every sector's models (digest §2.4–§2.6, §6)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from pydantic import Field, field_validator

from openmydata.standard.types import DATE, DTIME, MONTH, StandardModel

# Named field types: mypy sees the plain Python type, pydantic the standard's constrained type (a call such as
# `aN(10)` is not a valid annotation for a type checker).
if TYPE_CHECKING:
    OrgCode = str
    RspCodeText = str
    RspMsg = str
    Stamp = str
    Cursor = str
    PageLimit = int
else:
    from openmydata.standard.types import AH, N, aN, aNS

    OrgCode = aN(10)
    RspCodeText = aN(5)
    RspMsg = AH(450)
    Stamp = aNS(14)
    Cursor = aNS(1000)
    PageLimit = N(3)

Limit = Annotated[int, Field(ge=1, le=500)]


class Envelope(StandardModel):
    """Every non-OAuth response: rsp_code aN(5), rsp_msg AH(450)."""

    rsp_code: RspCodeText
    rsp_msg: RspMsg


class InfoRequest(StandardModel):
    """Every information API request carries the provider's org_code."""

    org_code: OrgCode


class StampedRequest(InfoRequest):
    search_timestamp: Stamp | None = None


class PagedRequest(InfoRequest):
    next_page: Cursor | None = None
    limit: PageLimit = 500

    @field_validator("limit")
    @classmethod
    def _limit_range(cls, value: int) -> int:
        if not 1 <= value <= 500:
            raise ValueError("limit is 1 to 500")
        return value


class ListRequest(PagedRequest):
    """An asset list: search_timestamp on the first page, then next_page only (§2.4)."""

    search_timestamp: Stamp | None = None


class DateRange(StandardModel):
    from_date: DATE
    to_date: DATE


class MonthRange(StandardModel):
    from_month: MONTH
    to_month: MONTH


class StampedResponse(Envelope):
    search_timestamp: Stamp | None = None


class PagedResponse(Envelope):
    next_page: Cursor | None = None


class ListResponse(PagedResponse):
    search_timestamp: Stamp | None = None
    reg_date: DATE | None = None


__all__ = [
    "DATE",
    "DTIME",
    "MONTH",
    "DateRange",
    "Envelope",
    "InfoRequest",
    "Limit",
    "ListRequest",
    "ListResponse",
    "MonthRange",
    "OrgCode",
    "PagedRequest",
    "PagedResponse",
    "StampedRequest",
    "StampedResponse",
]
