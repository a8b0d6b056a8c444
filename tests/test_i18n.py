"""Every interface string has an English translation, and placeholders survive it."""
import re
from pathlib import Path

import jinja2
import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from flask import session
from flask_babel import force_locale, get_translations, refresh

ROOT = Path(__file__).resolve().parent.parent
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None,
            "N_": None}
METHODS = [("civic/**.py", "python"), ("templates/**.html", "jinja2")]


def _msgids() -> set[str]:
    return {msg if isinstance(msg, str) else msg[0]
            for _f, _l, msg, _c, _ctx in extract_from_dir(str(ROOT), METHODS, keywords=KEYWORDS)}


def _catalog():
    with open(ROOT / "civic/translations/en/LC_MESSAGES/messages.po", "rb") as f:
        return read_po(f, locale="en")


def test_english_catalog_is_complete():
    catalog = _catalog()
    missing = sorted(m for m in _msgids() if not (catalog.get(m) and catalog.get(m).string))
    assert missing == [], f"{len(missing)} strings lack English: {missing[:20]}"


def test_placeholders_match():
    for message in _catalog():
        if message.id and message.string:
            mid = message.id if isinstance(message.id, str) else message.id[0]
            mstr = message.string if isinstance(message.string, str) else message.string[0]
            assert sorted(re.findall(r"%\(\w+\)s", mid)) == sorted(re.findall(r"%\(\w+\)s", mstr)), mid


def test_english_has_no_chinese():
    for message in _catalog():
        s = message.string if isinstance(message.string, str) else "".join(message.string)
        assert not re.search(r"[\u4e00-\u9fff]", s or ""), (message.id, s)


# --- translated strings in templates (civic.i18n.template_gettext) ------------------------

#: msgids as templates use them: plain, with values (escaped where autoescaped), with "%%",
#: with markup; one of them has no translation
CASES = [("户已联署", {}), ("联署进度 %(p)s%%", {"p": 75}), ("还剩 %(d)s 天", {"d": "<b>3</b>"}),
         ("满 100%% 即算达标", {}), ("<em>未译</em>", {})]


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
@pytest.mark.parametrize("autoescape", [True, False])
def test_templates_translate_exactly_as_jinjas_own_gettext(app, lang, autoescape):
    """The app's `_` in templates takes fewer steps than Jinja's newstyle gettext; its
    results must be the same, character for character and in safeness."""
    stock = jinja2.Environment(extensions=["jinja2.ext.i18n"], autoescape=autoescape)
    ours = app.jinja_env.overlay(autoescape=autoescape)
    source = "{{ _(s, **v) }}|{{ gettext(s, **v) }}"
    with app.test_request_context("/"), force_locale(lang):
        t = get_translations()
        stock.install_gettext_callables(t.ugettext, t.ungettext, newstyle=True)
        seen = {}
        for s, v in CASES:
            seen[s] = stock.from_string(source).render(s=s, v=v)
            assert ours.from_string(source).render(s=s, v=v) == seen[s], s
    assert ("&lt;b&gt;3" if autoescape else "<b>3") in seen["还剩 %(d)s 天"]
    assert "100% " in seen["满 100%% 即算达标"]


def test_templates_follow_a_language_forced_or_changed_within_the_request(app):
    """The translations are looked up once per request, and again where Flask-Babel's
    force_locale (a message in its addressee's language) or refresh (a language just
    chosen) says the language has changed."""
    page = app.jinja_env.from_string('{{ _("户已联署") }}')
    with app.test_request_context("/"):
        assert page.render() == "户已联署"
        with force_locale("en"):
            assert page.render() == "households co-signed"
        assert page.render() == "户已联署"
        session["lang"] = "en"
        assert page.render() == "户已联署"   # looked up for this request already
        refresh()
        assert page.render() == "households co-signed"
        with force_locale("zh_CN"):
            assert page.render() == "户已联署"
        assert page.render() == "households co-signed"


def test_a_page_looks_its_translations_up_once(app, monkeypatch):
    """Flask-Babel's lookup costs a translated string most of its time; a page has hundreds."""
    from civic import i18n
    calls = []
    monkeypatch.setattr(i18n, "get_translations", lambda: calls.append(1) or get_translations())
    page = app.jinja_env.from_string('{{ _("户已联署") }}{{ _("还剩 %(d)s 天", d=3) }}' * 20)
    with app.test_request_context("/"):
        page.render()
        page.render()
    assert len(calls) == 1
