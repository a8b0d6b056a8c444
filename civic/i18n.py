"""Interface language (Simplified Chinese by default, English available) and local time."""
from __future__ import annotations

from flask import Flask, session
from flask_login import current_user

from civic.extensions import babel

LOCALES = {"zh_CN": "简体中文", "en": "English"}


def select_locale() -> str:
    if current_user and current_user.is_authenticated and current_user.locale in LOCALES:
        return current_user.locale
    lang = session.get("lang")
    return lang if lang in LOCALES else "zh_CN"


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale,
                   default_translation_directories="translations",
                   default_domain="messages")
