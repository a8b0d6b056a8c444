"""Interface language (Simplified Chinese by default, English available) and local time."""
from __future__ import annotations

from pathlib import Path

from babel import Locale
from babel.support import NullTranslations
from flask import Flask, g, has_request_context, session
from flask_babel import get_translations
from flask_login import current_user
from jinja2 import pass_eval_context
from markupsafe import Markup

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
    app.jinja_env.install_gettext_callables(   # its gettext is replaced just below
        gettext=lambda s: translations().ugettext(s),
        ngettext=lambda s, p, n: translations().ungettext(s, p, n),
        pgettext=lambda c, s: translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: translations().unpgettext(c, s, p, n),
        newstyle=True)
    app.jinja_env.globals["_"] = app.jinja_env.globals["gettext"] = template_gettext
    from civic import labels
    from civic.ballots import art278
    from civic.consultation import rules
    labels.install(_label_in_locale)
    rules.translate = art278.translate = _label_in_locale


def translations() -> NullTranslations:
    """The translations of the current language, for templates: looked up once per request
    and kept where Flask-Babel keeps its per-request state, which its refresh() and
    force_locale() clear. (Flask-Babel's own template functions look them up again for every
    string, which cost a page about 45 µs per translated string, most of its time.)"""
    try:
        cached = g._flask_babel.babel_translations
    except (AttributeError, RuntimeError):   # not looked up yet; no application context
        cached = None
    if cached is None:
        cached = get_translations()
        if g:   # get_translations made the request's state
            g._flask_babel.babel_translations = cached
    return cached


@pass_eval_context
def template_gettext(eval_ctx, string: str, /, **variables) -> str:
    """`_("…", name=value)` in templates: what Jinja's newstyle gettext gives — the
    translation, marked safe where the template autoescapes, then always formatted with
    `%` (so "%%" is a percent sign and values are escaped) — in fewer steps: Jinja's calls
    it through the template context three times over, and a string that holds no "%" needs
    no formatting."""
    rv = translations().ugettext(string)
    if eval_ctx.autoescape:
        rv = Markup(rv)
    if not variables and "%" not in rv:
        return rv
    return rv % variables


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
