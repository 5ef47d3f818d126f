"""Interface strings in zh-CN and en (``web/data/messages.csv``; a missing key shows itself)."""

from __future__ import annotations

import csv
import io
from functools import lru_cache
from importlib import resources

from fastapi import Request

LANGS = ("zh", "en")
LANG_COOKIE = "esgl_lang"


@lru_cache(maxsize=1)
def messages() -> dict[str, dict[str, str]]:
    text = (resources.files("esgledger.web") / "data" / "messages.csv").read_text("utf-8")
    table: dict[str, dict[str, str]] = {lang: {} for lang in LANGS}
    for row in csv.DictReader(io.StringIO(text)):
        for lang in LANGS:
            table[lang][row["key"]] = row[lang]
    return table


def translate(lang: str, key: str) -> str:
    return messages().get(lang, messages()["en"]).get(key, key)


def language(request: Request, preferred: str | None = None) -> str:
    """``?lang=``, then the language cookie, then the user's locale, then the browser's."""
    asked = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE)
    if asked in LANGS:
        return str(asked)
    if preferred in LANGS:
        return str(preferred)
    accept = request.headers.get("accept-language", "")
    return "zh" if accept.lower().startswith("zh") else "en"
