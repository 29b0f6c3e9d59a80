"""Korean names of the standard's consent scopes (digest §3.2, §10.7), for the screens where a person reads
what they are consenting to (the CA's approval page, the operator's consent pages).

The scope codes are the standard's; the names of scopes outside bank, card and telecom are the project's
reading (docs/decisions.md). An unknown scope is shown as its code.
"""

from __future__ import annotations

SCOPE_NAMES: dict[str, str] = {
    "bank.list": "계좌 목록",
    "bank.deposit": "예금·적금",
    "bank.invest": "투자상품",
    "bank.loan": "대출",
    "bank.irp": "개인형IRP",
    "card.list": "카드 목록",
    "card.card": "카드 정보·승인내역",
    "card.point": "포인트",
    "card.bill": "청구·결제",
    "card.loan": "카드대출",
    "card.prepaid": "선불카드",
    "telecom.list": "통신 계약 목록",
    "telecom.mgmt": "청구·납부·소액결제",
    "invest.list": "계좌 목록",
    "invest.account": "증권 계좌",
    "invest.irp": "개인형IRP",
    "insu.list": "보험 목록",
    "insu.insurance": "보험 정보",
    "insu.loan": "보험계약대출",
    "insu.irp": "개인형IRP",
    "efin.list": "선불수단 목록",
    "efin.prepaid": "선불 잔액·거래내역",
    "efin.paid": "결제내역",
    "capital.list": "계약 목록",
    "capital.loan": "할부·대출",
    "ginsu.list": "보증보험 목록",
    "ginsu.insurance": "보증보험 정보",
    "p2p.list": "계약 목록",
    "p2p.lending": "대출 정보",
    "bond.list": "채권 목록",
    "bond.bond": "채권 정보",
    "usury.list": "계약 목록",
    "usury.bond": "대부 정보",
}


def scope_name(scope: str) -> str:
    return SCOPE_NAMES.get(scope, scope)
