"""Translating enum labels from pure modules (rules, ballots, models) without importing Flask.

Pure modules write `translate(N_("居委会"))`; outside the app (pure tests, the recount
command) that is the Chinese text itself; inside the app `civic.i18n` installs Flask-Babel's
gettext, so the label follows the reader's language."""
from __future__ import annotations

from collections.abc import Callable

_translator: Callable[[str], str] | None = None


def N_(message: str) -> str:
    """Mark a label for extraction; translated when shown, by `translate`."""
    return message


def translate(text: str) -> str:
    return _translator(text) if _translator is not None else text


def install(translator: Callable[[str], str] | None) -> None:
    global _translator
    _translator = translator
