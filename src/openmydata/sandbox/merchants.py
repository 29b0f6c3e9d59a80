"""Korean merchants, spending categories and transfer descriptions the generators draw from.

Amounts are log-normal around a category median; a category's weight is its share of approvals (not of money).
Chain stores get a branch suffix (`GS25 역삼점`). Business registration numbers (사업자등록번호, `NNN-NN-NNNNN`) are
derived from the merchant name, so one merchant always has the same number.
"""

from __future__ import annotations

import hashlib
import math
import random
from bisect import bisect
from dataclasses import dataclass
from functools import cache
from itertools import accumulate


@dataclass(frozen=True)
class Category:
    name: str
    weight: float  # share of approvals
    median: int  # KRW per approval
    sigma: float  # log-normal spread
    merchants: tuple[str, ...]
    branches: bool = False  # chain stores: add a branch name
    installable: bool = False  # big-ticket purchases that may be paid in instalments


CATEGORIES: tuple[Category, ...] = (
    Category("편의점", 0.16, 6_500, 0.6, ("GS25", "CU", "세븐일레븐", "이마트24"), branches=True),
    Category(
        "카페",
        0.13,
        6_800,
        0.4,
        ("스타벅스", "이디야커피", "투썸플레이스", "메가MGC커피", "빽다방", "폴바셋"),
        branches=True,
    ),
    Category(
        "음식점",
        0.17,
        14_000,
        0.55,
        (
            "김밥천국",
            "맥도날드",
            "버거킹",
            "BBQ치킨",
            "교촌치킨",
            "본죽",
            "한솥도시락",
            "놀부부대찌개",
            "역전우동",
            "명륜진사갈비",
            "신전떡볶이",
            "서브웨이",
        ),
        branches=True,
    ),
    Category("배달", 0.08, 24_000, 0.35, ("배달의민족", "쿠팡이츠", "요기요")),
    Category("마트", 0.07, 52_000, 0.6, ("이마트", "홈플러스", "롯데마트", "코스트코", "하나로마트"), branches=True),
    Category(
        "온라인쇼핑",
        0.11,
        33_000,
        0.8,
        ("쿠팡", "네이버페이", "11번가", "G마켓", "SSG.COM", "마켓컬리", "무신사", "오늘의집"),
        installable=True,
    ),
    Category("교통", 0.10, 9_000, 0.7, ("카카오T", "티머니", "코레일", "SRT", "타다")),
    Category("주유", 0.04, 62_000, 0.3, ("SK에너지", "GS칼텍스", "S-OIL", "현대오일뱅크"), branches=True),
    Category("의료", 0.03, 18_000, 0.8, ("연세내과의원", "밝은안과의원", "튼튼정형외과", "온누리약국", "미소치과의원")),
    Category("문화", 0.04, 17_000, 0.5, ("CGV", "메가박스", "롯데시네마", "교보문고", "YES24", "인터파크티켓")),
    Category("구독", 0.02, 13_500, 0.25, ("넷플릭스", "유튜브프리미엄", "쿠팡와우", "멜론", "티빙")),
    Category("뷰티·잡화", 0.03, 21_000, 0.6, ("올리브영", "다이소", "유니클로", "ABC마트"), branches=True),
    Category(
        "백화점·가전",
        0.02,
        160_000,
        0.8,
        ("롯데백화점", "신세계백화점", "현대백화점", "하이마트", "삼성디지털프라자"),
        branches=True,
        installable=True,
    ),
)

BRANCHES: tuple[str, ...] = (
    "역삼점",
    "강남역점",
    "신촌점",
    "홍대입구점",
    "잠실점",
    "여의도점",
    "종로점",
    "판교점",
    "분당서현점",
    "수원역점",
    "인천구월점",
    "일산점",
    "부산서면점",
    "해운대점",
    "대구동성로점",
    "대전둔산점",
    "광주상무점",
    "울산삼산점",
    "청주성안길점",
    "전주효자점",
    "제주노형점",
    "천안신부점",
    "창원상남점",
    "목동점",
    "노원점",
)


@dataclass(frozen=True)
class Overseas:
    country_code: str
    currency_code: str
    krw_per_unit: float
    decimals: int
    median: float  # in the local currency
    merchants: tuple[str, ...]


OVERSEAS: tuple[Overseas, ...] = (
    Overseas("JP", "JPY", 9.1, 0, 3_200, ("FAMILYMART", "LAWSON", "DON QUIJOTE", "UNIQLO GINZA", "ICHIRAN")),
    Overseas("US", "USD", 1_370.0, 2, 24.0, ("AMAZON.COM", "APPLE.COM/BILL", "STEAM PURCHASE", "AIRBNB", "UBER")),
    Overseas("VN", "VND", 0.054, 0, 420_000, ("HIGHLANDS COFFEE", "VINMART", "GRAB VIETNAM")),
    Overseas("TH", "THB", 38.5, 2, 650.0, ("7-ELEVEN BANGKOK", "CENTRAL WORLD", "GRAB THAILAND")),
    Overseas("FR", "EUR", 1_480.0, 2, 45.0, ("GALERIES LAFAYETTE", "CARREFOUR", "SNCF")),
)

# Phone-bill micro-payments (통신-004): (merchant, item titles, median KRW)
MICRO_MERCHANTS: tuple[tuple[str, tuple[str, ...], int], ...] = (
    ("구글플레이", ("게임 아이템", "앱 구매", "유료 스티커"), 5_500),
    ("넥슨코리아", ("캐시 충전", "게임 아이템"), 11_000),
    ("넷마블", ("다이아 충전", "패키지 상품"), 9_900),
    ("엔씨소프트", ("엔코인 충전", "월정액 이용권"), 22_000),
    ("카카오페이지", ("캐시 충전", "웹소설 이용권"), 4_900),
    ("네이버웹툰", ("쿠키 충전",), 3_000),
    ("멜론", ("스트리밍 이용권",), 10_900),
    ("원스토어", ("게임 아이템", "앱 구매"), 6_600),
    ("아프리카TV", ("별풍선 충전",), 11_000),
)

CARD_COMPANIES: tuple[str, ...] = (
    "신한카드",
    "KB국민카드",
    "삼성카드",
    "현대카드",
    "롯데카드",
    "우리카드",
    "하나카드",
    "BC카드",
    "NH농협카드",
)
INSURERS: tuple[str, ...] = ("삼성생명", "한화생명", "교보생명", "DB손해보험", "현대해상", "KB손해보험", "메리츠화재")
TELCOS: tuple[str, ...] = ("SKT", "KT", "LGU+")
PAY_APPS: tuple[str, ...] = ("카카오페이", "토스", "네이버페이")


@cache
def business_regno(name: str) -> str:
    """A stable synthetic 사업자등록번호 (NNN-NN-NNNNN, 12 characters) for a merchant name."""
    digits = int.from_bytes(hashlib.sha256(name.encode("utf-8")).digest()[:8], "big") % 10**10
    text = f"{digits:010d}"
    return f"{text[:3]}-{text[3:5]}-{text[5:]}"


def lognormal_amount(rng: random.Random, median: float, sigma: float, unit: int = 100) -> int:
    """A positive amount around `median`, rounded to `unit` (at least one unit)."""
    value = median * math.exp(sigma * rng.gauss(0.0, 1.0))
    return max(unit, round(value / unit) * unit)


# `rng.choices(CATEGORIES, weights=...)` precomputed: the same cumulative weights and the same single draw
_CUMULATIVE_WEIGHTS = list(accumulate(category.weight for category in CATEGORIES))
_TOTAL_WEIGHT = _CUMULATIVE_WEIGHTS[-1] + 0.0


def pick_category(rng: random.Random) -> Category:
    """A category by weight (what `rng.choices(CATEGORIES, weights=...)[0]` draws, without rebuilding the
    cumulative weights on every call)."""
    return CATEGORIES[bisect(_CUMULATIVE_WEIGHTS, rng.random() * _TOTAL_WEIGHT, 0, len(CATEGORIES) - 1)]


def merchant_name(rng: random.Random, category: Category) -> str:
    name = rng.choice(category.merchants)
    return f"{name} {rng.choice(BRANCHES)}" if category.branches else name
