"""Interface language (Simplified Chinese by default, English available) and local time."""
from __future__ import annotations

from pathlib import Path

from babel import Locale
from flask import Flask, has_request_context, session
from flask_login import current_user

from civic.extensions import babel

LOCALES = {"zh_CN": "简体中文", "en": "English"}


def N_(message: str) -> str:
    """Mark a string for extraction; it is translated later, where it is shown."""
    return message


#: parsed once: Flask-Babel parses a locale name on every request, and Babel's parsing
#: lists its locale data directory each time (about a millisecond of CPU per request)
_PARSED = {code: Locale.parse(code) for code in LOCALES}


def select_locale() -> Locale:
    if not has_request_context():
        return _PARSED["zh_CN"]
    if current_user and current_user.is_authenticated and current_user.locale in LOCALES:
        return _PARSED[current_user.locale]
    lang = session.get("lang")
    return _PARSED[lang if lang in LOCALES else "zh_CN"]


def init_app(app: Flask) -> None:
    compile_catalogs(Path(__file__).parent / "translations")
    babel.init_app(app, locale_selector=select_locale,
                   default_translation_directories="translations",
                   default_domain="messages")
    from civic import labels
    from civic.ballots import art278
    from civic.consultation import rules
    labels.install(_label_in_locale)
    rules.translate = art278.translate = _label_in_locale


def _label_in_locale(text: str) -> str:
    """gettext inside a request (the reader's language); the text itself elsewhere."""
    from flask import has_request_context
    from flask_babel import gettext
    return gettext(text) if has_request_context() else text


def compile_catalogs(directory: Path) -> None:
    """Compile each messages.po whose .mo is missing or older, so a fresh clone has English.

    A read-only install (where the .mo files were compiled at build time) is left as is.
    """
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po
    for po in directory.glob("*/LC_MESSAGES/messages.po"):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        try:
            with po.open("rb") as f:
                catalog = read_po(f, locale=po.parent.parent.name)
            with mo.open("wb") as f:
                write_mo(f, catalog)
        except OSError:
            pass
