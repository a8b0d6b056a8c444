"""User-written rich text: Markdown rendered by markdown-it-py, then nh3's allow-list."""
from __future__ import annotations

import nh3
from markdown_it import MarkdownIt

_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).disable(
    "image")

ALLOWED_TAGS = {"p", "br", "strong", "em", "code", "pre", "blockquote", "ul", "ol", "li", "a",
                "h3", "h4", "hr"}
ALLOWED_ATTRIBUTES = {"a": {"href"}}
#: links only http(s) and mailto: no javascript:, data:, vbscript:
URL_SCHEMES = {"http", "https", "mailto"}


def render_markdown(source: str) -> str:
    """Sanitised HTML for `source`; headings are demoted so they sit under the page title."""
    html = _md.render(source or "")
    html = (html.replace("<h1>", "<h3>").replace("</h1>", "</h3>")
                .replace("<h2>", "<h4>").replace("</h2>", "</h4>"))
    return nh3.clean(html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES,
                     url_schemes=URL_SCHEMES, link_rel="nofollow noopener noreferrer ugc")


def plain_excerpt(source: str, length: int = 80) -> str:
    """A short plain-text excerpt (autoescaped where shown)."""
    text = " ".join((source or "").split())
    return text if len(text) <= length else text[: length - 1] + "…"
