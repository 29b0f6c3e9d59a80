"""The operator's pages in Korean (the default) or English: the chosen language and its gettext catalogue.

The source strings are the Korean text itself (in the templates and marked in Python with `N_`/`gettext`), so
Korean needs no catalogue. Other languages are PO files committed under `locales/<lang>/LC_MESSAGES/messages.po`,
compiled in memory on first use (no .mo file is committed or built). A fuzzy or empty entry is left out of the
compiled catalogue, so the page shows the Korean source instead.

The person picks the language with the header's switch (`GET /lang`), which sets the `omd_lang` cookie; without
the cookie the pages are Korean. Only the pages are translated: the JSON API answers the same in every language.
"""

from __future__ import annotations

import ast
import functools
import io
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from gettext import NullTranslations
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from jinja2 import Environment
from starlette.requests import Request

DEFAULT_LANGUAGE = "ko"
LANGUAGES = ("ko", "en")
# each language's name in that language (the switch shows them so)
LANGUAGE_NAMES = {"ko": "한국어", "en": "English"}
COOKIE = "omd_lang"
COOKIE_MAX_AGE = 365 * 86400
LOCALES = Path(__file__).parent / "locales"
DOMAIN = "messages"

KOREAN: NullTranslations = NullTranslations()  # the identity: the source strings are Korean

_CURRENT: ContextVar[str] = ContextVar("omd_language", default=DEFAULT_LANGUAGE)


def N_(message: str) -> str:
    """Marks a string for extraction (`make i18n`) where it is defined; it is translated where it is shown."""
    return message


def supported(lang: str | None) -> bool:
    return lang in LANGUAGES


def request_language(request: Request) -> str:
    """The language of the person's pages: the `omd_lang` cookie when it names a supported language, else Korean.

    The browser's Accept-Language is deliberately not consulted: the service is Korean first, and English is
    a choice the person makes."""
    chosen = request.cookies.get(COOKIE)
    return chosen if chosen is not None and supported(chosen) else DEFAULT_LANGUAGE


@functools.cache
def translations(lang: str) -> NullTranslations:
    """The gettext catalogue of `lang`, compiled from its PO file once per process; Korean (and anything
    unsupported) is the identity."""
    if lang == DEFAULT_LANGUAGE or not supported(lang):
        return KOREAN
    path = LOCALES / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
    with path.open("rb") as source:
        catalog = read_po(source, locale=lang, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)  # fuzzy and empty entries are left out: Korean shows instead
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


def current_language() -> str:
    return _CURRENT.get()


@contextmanager
def rendering_in(lang: str) -> Iterator[None]:
    """Templates rendered inside translate `_()`, `gettext`, `ngettext` and `{% trans %}` into `lang`."""
    token = _CURRENT.set(lang if supported(lang) else DEFAULT_LANGUAGE)
    try:
        yield
    finally:
        _CURRENT.reset(token)


def _gettext(message: str) -> str:
    return translations(_CURRENT.get()).gettext(message)


def _ngettext(singular: str, plural: str, n: int) -> str:
    return translations(_CURRENT.get()).ngettext(singular, plural, n)


def install(env: Environment) -> None:
    """Enables `jinja2.ext.i18n` on `env` with callables that follow the language of the page being rendered."""
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(_gettext, _ngettext, newstyle=True)  # type: ignore[attr-defined]


def extract_scope_names(
    fileobj: IO[bytes], keywords: object, comment_tags: object, options: object
) -> Iterator[tuple[int, None, str, list[str]]]:
    """Babel extractor (babel.cfg, `make i18n`): the values of the `SCOPE_NAMES` dict literal in the standard's
    scopes module, read from its source (nothing is imported), so the standard's scope names are translated without
    a copy of them here."""
    tree = ast.parse(fileobj.read())
    for node in ast.walk(tree):
        target: ast.expr | None = node.target if isinstance(node, ast.AnnAssign) else None
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
        value = getattr(node, "value", None)
        if isinstance(target, ast.Name) and target.id == "SCOPE_NAMES" and isinstance(value, ast.Dict):
            for item in value.values:
                if isinstance(item, ast.Constant) and isinstance(item.value, str):
                    yield item.lineno, None, item.value, []


def safe_next(path: str | None) -> str:
    """`path` when it is a path on this site (`/...`), else `/`: never another host (`//host`, `/\\host`, a URL)."""
    if not path or not path.startswith("/") or path.startswith("//"):
        return "/"
    # browsers read a backslash as a slash (`/\host`), and control characters have no place in a Location
    if "\\" in path or any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in path):
        return "/"
    parts = urlsplit(path)
    return "/" if parts.scheme or parts.netloc else path
