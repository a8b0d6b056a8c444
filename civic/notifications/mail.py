"""Rendering notification e-mails from templates/notifications/email/.

The HTML part comes from `.html` templates (autoescaped: titles and names written by users
arrive as plain text and are escaped there); the plain-text part from `.txt` templates,
which are never served as HTML. Mails carry the event sentence and links only — no phone
numbers, no names of other residents."""
from __future__ import annotations

from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _

from civic import clock
from civic.notifications.messages import sentence

SUBJECT_MAX = 200


def absolute(path: str) -> str:
    """PUBLIC_BASE_URL + a local path; '' for anything that is not a local path."""
    if not path.startswith("/") or path.startswith("//") or "\\" in path:
        return ""
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + path


def settings_url() -> str:
    """Where the reader changes or turns off e-mail (works outside a request, too)."""
    return absolute(current_app.url_map.bind("localhost").build("notifications.settings"))


def _lang(locale: str) -> str:
    return "en" if locale == "en" else "zh-CN"


def _subject(headline: str) -> str:
    text = render_template("notifications/email/subject.txt", headline=headline)
    return " ".join(text.split())[:SUBJECT_MAX]


def render_notification(kind: str, params: dict, link: str, locale: str) -> dict[str, str]:
    """subject, body_text and body_html of the mail for one notification."""
    with force_locale(locale):
        line = sentence(kind, params)
        context = {"sentence": line, "url": absolute(link), "settings_url": settings_url(),
                   "lang": _lang(locale)}
        return {"subject": _subject(line),
                "body_text": render_template("notifications/email/notification.txt", **context),
                "body_html": render_template("notifications/email/notification.html", **context)}


def render_digest(items: list[dict], total: int, locale: str) -> dict[str, str]:
    """The daily digest: `items` are dicts of kind, params, link, created_at (newest first);
    `total` counts every new notification, including those beyond the listed ones."""
    with force_locale(locale):
        rows = [{"sentence": sentence(i["kind"], i["params"]), "url": absolute(i["link"]),
                 "created_at": i["created_at"]} for i in items]
        headline = _("你有 %(count)s 条新通知", count=total)
        context = {"items": rows, "total": total, "more": total - len(rows),
                   "headline": headline, "inbox_url": absolute(
                       current_app.url_map.bind("localhost").build("notifications.index")),
                   "settings_url": settings_url(), "lang": _lang(locale)}
        return {"subject": _subject(headline),
                "body_text": render_template("notifications/email/digest.txt", **context),
                "body_html": render_template("notifications/email/digest.html", **context)}


def compose(*, to: str, subject: str, text: str, html: str, sender: str) -> EmailMessage:
    """A multipart/alternative message ready for smtplib. Raises ValueError on a bad address."""
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = Address(_("社区议事厅"), addr_spec=sender)
    msg["To"] = Address(addr_spec=to)
    msg["Date"] = format_datetime(clock.now())
    msg["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or "localhost")
    msg["Auto-Submitted"] = "auto-generated"
    link = settings_url()
    if link:
        msg["List-Unsubscribe"] = f"<{link}>"
    msg.set_content(text)
    msg.add_alternative(html, subtype="html")
    return msg
