"""Every interface string has an English translation, and placeholders survive it."""
import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

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
