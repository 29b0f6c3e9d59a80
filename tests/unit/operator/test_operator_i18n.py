"""The operator's pages in Korean (the default) and English: every string the pages can show has its English, the
catalogues are current, the language switch remembers the choice in a cookie and never leads off the site, and the
JSON API answers the same in either language.

The rendering tests run on SQLite and PostgreSQL (the `db_url` fixture).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from operator_fakes import BANK, FakeEcosystem, settings_for

from openmydata.operator import i18n
from openmydata.operator.app import create_app
from openmydata.operator.labels import cycle_label, scope_labels
from openmydata.standard.scopes import SCOPE_NAMES

ROOT = Path(__file__).resolve().parents[3]
LOCALES = ROOT / "src" / "openmydata" / "operator" / "locales"
ENGLISH_PO = LOCALES / "en" / "LC_MESSAGES" / "messages.po"
API_PATHS = ("/api/me/consents", "/api/me/collection", "/api/me/summary", "/api/providers")
HANGUL = re.compile("[\uac00-\ud7a3]")
PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sd]")
TAG = re.compile(r"</?[a-z]+")

MsgId = str | tuple[str, ...]


def _key(message_id: MsgId) -> str:
    """A message's key: its msgid (the singular one of a plural message)."""
    return message_id if isinstance(message_id, str) else message_id[0]


def _extracted() -> dict[str, MsgId]:
    """Every string `make i18n` extracts (babel.cfg): Python's N_/gettext/ngettext and the templates' _()."""
    with (ROOT / "babel.cfg").open(encoding="utf-8") as config:
        method_map, options_map = parse_mapping_cfg(config)
    found: dict[str, MsgId] = {}
    for _file, _line, message, _comments, _context in extract_from_dir(str(ROOT), method_map, options_map):
        found[_key(message)] = message
    return found


def _catalogue(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as source:
        return read_po(source, locale=locale)


def _entries(catalog: Catalog) -> dict[str, Message]:
    return {_key(message.id): message for message in catalog if message.id}


def _strings(message: Message) -> list[str]:
    return list(message.string) if isinstance(message.string, tuple | list) else [message.string]


class TestCatalogue:
    def test_the_extraction_finds_the_pages_strings(self) -> None:
        extracted = _extracted()
        assert "시작하기" in extracted  # home.html
        assert "인증서 앱에서 본인확인을 승인해 주세요" in extracted  # endpoints.py
        assert "은행" in extracted  # views.py (N_)
        assert "기관 서버에 연결할 수 없습니다" in extracted  # labels.py (N_)
        assert "<span data-finished>%(finished)s</span> / %(total)s개 기관" in extracted  # {% trans %}
        assert isinstance(extracted["주 %(count)d회"], tuple)  # ngettext: singular and plural

    def test_every_string_has_an_english_translation(self) -> None:
        """A string added to a page or a label without its English in messages.po fails here."""
        english = _entries(_catalogue(ENGLISH_PO, "en"))
        missing = sorted(msgid for msgid in _extracted() if msgid not in english)
        assert missing == [], "not in messages.po (run `make i18n` and translate): " + ", ".join(missing)
        untranslated = sorted(
            msgid
            for msgid in _extracted()
            if english[msgid].fuzzy or not all(text.strip() for text in _strings(english[msgid]))
        )
        assert untranslated == [], "empty or fuzzy in messages.po: " + ", ".join(untranslated)

    def test_the_template_is_current(self) -> None:
        """messages.pot holds exactly what the sources hold (`make i18n` brings it up to date)."""
        template = set(_entries(_catalogue(LOCALES / "messages.pot")))
        assert template == set(_extracted())

    def test_translations_keep_the_placeholders_and_the_markup(self) -> None:
        for msgid, message in _entries(_catalogue(ENGLISH_PO, "en")).items():
            wanted = set(PLACEHOLDER.findall(msgid))
            tags = sorted(TAG.findall(msgid))
            for text in _strings(message):
                # a plural's singular may leave the count out ("once a week"), nothing may add one
                assert set(PLACEHOLDER.findall(text)) <= wanted, (msgid, text)
                if not message.pluralizable:
                    assert set(PLACEHOLDER.findall(text)) == wanted, (msgid, text)
                assert sorted(TAG.findall(text)) == tags, (msgid, text)
                assert not HANGUL.search(text), (msgid, text)

    def test_the_standards_scope_names_are_marked_for_extraction(self) -> None:
        assert set(SCOPE_NAMES.values()) <= set(_extracted())


class TestTranslations:
    def test_korean_is_the_identity(self) -> None:
        korean = i18n.translations("ko")
        assert korean.gettext("시작하기") == "시작하기"
        assert cycle_label("1/w", korean) == "주 1회"
        assert scope_labels("bank.list", korean) == "계좌 목록"

    def test_english_labels_and_plurals(self) -> None:
        english = i18n.translations("en")
        assert english.gettext("시작하기") == "Get started"
        assert cycle_label("1/w", english) == "once a week"
        assert cycle_label("3/m", english) == "3 times a month"
        assert cycle_label("1/x", english) == "1/x"
        assert scope_labels("bank.list new.scope", english) == "Account list, new.scope"
        assert english.gettext("카탈로그에 없는 문장") == "카탈로그에 없는 문장"

    def test_an_unknown_language_is_korean(self) -> None:
        assert i18n.translations("fr").gettext("시작하기") == "시작하기"

    def test_fuzzy_and_empty_entries_fall_back_to_korean(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        po = tmp_path / "en" / "LC_MESSAGES" / "messages.po"
        po.parent.mkdir(parents=True)
        po.write_text(
            'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=utf-8\\n"\n\n'
            'msgid "시작하기"\nmsgstr "Get started"\n\n'
            '#, fuzzy\nmsgid "이름"\nmsgstr "Nmae"\n\n'
            'msgid "휴대폰 번호"\nmsgstr ""\n',
            encoding="utf-8",
        )
        monkeypatch.setattr(i18n, "LOCALES", tmp_path)
        i18n.translations.cache_clear()
        try:
            english = i18n.translations("en")
            assert english.gettext("시작하기") == "Get started"
            assert english.gettext("이름") == "이름"
            assert english.gettext("휴대폰 번호") == "휴대폰 번호"
        finally:
            i18n.translations.cache_clear()

    @pytest.mark.parametrize(
        ("given", "expected"),
        [
            ("/consents", "/consents"),
            ("/connect/individual/BANK000001?x=1", "/connect/individual/BANK000001?x=1"),
            ("//evil.example", "/"),
            ("//evil.example/path", "/"),
            ("/\\evil.example", "/"),
            ("https://evil.example", "/"),
            ("javascript:alert(1)", "/"),
            ("evil.example", "/"),
            ("/ok\r\nSet-Cookie: x=1", "/"),
            ("", "/"),
            (None, "/"),
        ],
    )
    def test_only_paths_on_this_site_are_followed(self, given: str | None, expected: str) -> None:
        assert i18n.safe_next(given) == expected


# the pages, in process


@dataclass
class Site:
    client: httpx.AsyncClient
    fake: FakeEcosystem


@pytest.fixture
async def site(db_url: str, tmp_path: Path) -> AsyncIterator[Site]:
    fake = FakeEcosystem()
    async with httpx.AsyncClient(transport=httpx.MockTransport(fake.handle)) as peers:
        app = create_app(settings_for(db_url, tmp_path / "operator-keys.json"), http_client=peers)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client,
        ):
            yield Site(client, fake)


@pytest.fixture
def client(site: Site) -> httpx.AsyncClient:
    return site.client


async def _signed_in(site: Site) -> dict[str, str]:
    """A person who connected the bank; the Bearer header the pages accept as the web session does."""
    client, fake = site.client, site.fake
    response = await client.post(
        "/api/signup", json={"name": "김철수", "birth_date": "19900101", "phone": "010-1234-5678"}
    )
    fake.identity_status = "02"
    response = await client.post("/api/signup/complete", json={"cert_tx_id": response.json()["cert_tx_id"]})
    auth = {"Authorization": f"Bearer {response.json()['session_token']}"}
    response = await client.post("/api/consents", json={"org_codes": [BANK]}, headers=auth)
    fake.sign_status = "02"
    response = await client.post(
        "/api/consents/complete", json={"cert_tx_id": response.json()["cert_tx_id"]}, headers=auth
    )
    assert response.status_code == 200, response.text
    return auth


async def _choose(client: httpx.AsyncClient, lang: str) -> httpx.Response:
    response = await client.get("/lang", params={"to": lang, "next": "/"})
    assert response.status_code == 303
    return response


def _untranslated(html: str) -> list[str]:
    """Korean msgids that appear as a whole text or attribute on an English page (left untranslated)."""
    msgids = {msgid for msgid in _entries(_catalogue(ENGLISH_PO, "en")) if "%(" not in msgid}
    texts = {text.strip() for text in re.findall(r">([^<>]+)<", html)}
    texts |= set(re.findall(r'aria-label="([^"]+)"', html))
    return sorted(texts & msgids)


class TestPages:
    async def test_the_home_page_is_korean_by_default(self, client: httpx.AsyncClient) -> None:
        page = await client.get("/")
        assert page.status_code == 200
        assert '<html lang="ko">' in page.text
        assert "<h2>시작하기</h2>" in page.text
        assert "<title>시작하기 · 테스트마이데이터</title>" in page.text
        assert '<a href="/lang?to=ko&amp;next=%2F" lang="ko" hreflang="ko" aria-current="true">한국어</a>' in page.text
        assert '<a href="/lang?to=en&amp;next=%2F" lang="en" hreflang="en">English</a>' in page.text

    async def test_choosing_english_sets_the_cookie_and_the_pages_follow_it(self, client: httpx.AsyncClient) -> None:
        response = await _choose(client, "en")
        assert response.headers["location"] == "/"
        cookie = response.headers["set-cookie"]
        assert cookie.startswith("omd_lang=en;")
        assert "Max-Age=31536000" in cookie
        assert "SameSite=lax" in cookie
        assert "Path=/" in cookie
        page = await client.get("/")
        assert '<html lang="en">' in page.text
        assert "<h2>Get started</h2>" in page.text
        assert "<title>Get started · 테스트마이데이터</title>" in page.text
        assert '<label for="birth_date">Date of birth <span class="hint">(8 digits, e.g. 19900101)</span>' in page.text
        assert 'aria-current="true">English</a>' in page.text
        # nothing Korean is left but the names: the language's own and the service's
        assert not HANGUL.search(page.text.replace("한국어", "").replace("테스트마이데이터", ""))
        await _choose(client, "ko")
        assert '<html lang="ko">' in (await client.get("/")).text

    async def test_the_signed_in_pages_in_english(self, site: Site, client: httpx.AsyncClient) -> None:
        auth = await _signed_in(site)
        await _choose(client, "en")
        dashboard = await client.get("/dashboard", headers=auth)
        assert dashboard.status_code == 200
        assert "김철수's assets" in dashboard.text
        assert ">Accounts</h2>" in dashboard.text
        assert 'aria-current="true">English</a>' in dashboard.text
        connect = await client.get("/connect", headers=auth)
        assert "basic information once a week, additional information once a week" in connect.text
        assert ">Connected</span>" in connect.text
        consents = await client.get("/consents", headers=auth)
        assert ">Active</span>" in consents.text
        collection = await client.get("/collection", headers=auth)
        assert "Collection status" in collection.text
        assert '"fresh": "Up to date"' in collection.text  # the progress script's labels
        for page in (dashboard, connect, consents, collection):
            assert _untranslated(page.text) == [], page.url

    async def test_the_json_api_answers_the_same_in_either_language(
        self, site: Site, client: httpx.AsyncClient
    ) -> None:
        auth = await _signed_in(site)
        korean = [(await client.get(path, headers=auth)).json() for path in API_PATHS]
        await _choose(client, "en")
        english = [(await client.get(path, headers=auth)).json() for path in API_PATHS]
        assert english == korean

    async def test_error_pages_follow_the_language(self, client: httpx.AsyncClient) -> None:
        missing = await client.get("/no-such-page")
        assert missing.status_code == 404
        assert "페이지를 찾을 수 없습니다." in missing.text
        await _choose(client, "en")
        missing = await client.get("/no-such-page")
        assert '<html lang="en">' in missing.text
        assert "Page not found." in missing.text
        assert "The request could not be processed" in missing.text

    @pytest.mark.parametrize("target", ["//evil.example", "https://evil.example", "/\\evil.example"])
    async def test_the_switch_never_leads_off_the_site(self, client: httpx.AsyncClient, target: str) -> None:
        response = await client.get("/lang", params={"to": "en", "next": target})
        assert response.status_code == 303
        assert response.headers["location"] == "/"

    async def test_the_switch_goes_back_to_the_page(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/lang", params={"to": "en", "next": "/consents"})
        assert response.headers["location"] == "/consents"

    async def test_an_unknown_language_changes_nothing(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/lang", params={"to": "fr", "next": "/consents"})
        assert response.status_code == 303
        assert response.headers["location"] == "/consents"
        assert "set-cookie" not in response.headers
        assert client.cookies.get(i18n.COOKIE) is None
        assert '<html lang="ko">' in (await client.get("/")).text

    async def test_a_cookie_naming_no_supported_language_is_korean(self, client: httpx.AsyncClient) -> None:
        client.cookies.set(i18n.COOKIE, "fr")
        assert '<html lang="ko">' in (await client.get("/")).text


@pytest.fixture(autouse=True)
def _korean_after_each_test() -> Iterator[None]:
    """The rendering language is per request; none may leak into the next test."""
    yield
    assert i18n.current_language() == i18n.DEFAULT_LANGUAGE
