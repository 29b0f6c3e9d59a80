"""Spending categories of card approvals, from the merchant's name.

The standard carries no merchant category code (카드-008/009 give the merchant's name and business registration
number only), so the operator classifies by name, as aggregators do with their merchant tables: well-known brands
first, then words that name a kind of business. A name nothing matches is "기타" (other). The tables are the
operator's own knowledge, kept here as data.
"""

from __future__ import annotations

from functools import cache

from openmydata.operator.i18n import N_

OTHER = N_("기타")

# (category, brand or word); matched against the merchant name with spaces removed, longest entry first
_TABLE: dict[str, tuple[str, ...]] = {
    N_("편의점"): ("GS25", "CU", "세븐일레븐", "이마트24", "미니스톱", "편의점"),
    N_("카페"): ("스타벅스", "이디야", "투썸플레이스", "메가MGC", "빽다방", "폴바셋", "커피", "카페"),
    N_("음식점"): (
        "김밥",
        "맥도날드",
        "버거킹",
        "치킨",
        "본죽",
        "도시락",
        "부대찌개",
        "우동",
        "갈비",
        "떡볶이",
        "서브웨이",
        "식당",
        "분식",
        "피자",
    ),
    N_("배달"): ("배달의민족", "쿠팡이츠", "요기요"),
    N_("마트"): ("이마트", "홈플러스", "롯데마트", "코스트코", "하나로마트", "마트"),
    N_("온라인쇼핑"): ("쿠팡", "네이버페이", "11번가", "G마켓", "SSG.COM", "마켓컬리", "무신사", "오늘의집"),
    N_("교통"): ("카카오T", "티머니", "코레일", "SRT", "타다", "택시", "버스"),
    N_("주유"): ("SK에너지", "GS칼텍스", "S-OIL", "현대오일뱅크", "주유소"),
    N_("의료"): ("의원", "약국", "병원", "치과", "한의원"),
    N_("문화"): ("CGV", "메가박스", "롯데시네마", "교보문고", "YES24", "인터파크", "서점", "영화"),
    N_("구독"): ("넷플릭스", "유튜브프리미엄", "쿠팡와우", "멜론", "티빙", "웨이브"),
    N_("뷰티·잡화"): ("올리브영", "다이소", "유니클로", "ABC마트"),
    N_("백화점"): ("백화점", "아울렛"),
    N_("여행"): ("항공", "호텔", "AIRLINES", "HOTEL", "AGODA", "BOOKING", "EXPEDIA"),
}
# the display order of categories (most everyday first), OTHER last
ORDER: tuple[str, ...] = (*_TABLE, OTHER)


@cache
def _entries() -> tuple[tuple[str, str], ...]:
    pairs = [(word.replace(" ", "").upper(), category) for category, words in _TABLE.items() for word in words]
    return tuple(sorted(pairs, key=lambda pair: -len(pair[0])))


@cache
def category_of(merchant_name: str | None) -> str:
    name = (merchant_name or "").replace(" ", "").upper()
    if not name:
        return OTHER
    for word, category in _entries():
        if word in name:
            return category
    return OTHER


def merchant_label(merchant_name: str | None) -> str:
    """The merchant without its branch (`GS25 역삼점` → `GS25`): spending is summed per brand."""
    name = (merchant_name or "").strip()
    if not name:
        return N_("(가맹점명 없음)")
    head, _, tail = name.rpartition(" ")
    return head if head and tail.endswith("점") else name
