"""The public archive, crawled: every page and download an anonymous visitor can reach from
the home page of the demo community (issues in every state, rounds, decisions, ballots,
the ledger, statistics, open data, the API) is scanned for phone numbers, roster names,
the names of people who did not choose to show them, drafts and hidden content."""
from __future__ import annotations

import re
from collections import deque
from html.parser import HTMLParser
from urllib.parse import urldefrag, urljoin, urlsplit

import pytest
from sqlalchemy import select

from civic import clock
from civic.accounts.models import User
from civic.communities.models import Owner
from civic.extensions import db
from civic.issues.models import Issue, IssueState

PHONE = re.compile(r"(?<![0-9A-Za-z])1[3-9][0-9]{9}(?![0-9A-Za-z])")
#: pages an anonymous visitor is sent away from, or that change state
SKIP = ("/login", "/logout", "/register", "/password", "/locale", "/static/")
MAX_PAGES = 700
JSON_URL = re.compile(r'"(http://localhost/[^"]*)"')
HIDDEN_BODY = "这一段只有版主能看到的文字"


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in ("a", "link"):
            href = dict(attrs).get("href")
            if href:
                self.hrefs.append(href)


def _links(base: str, text: str) -> list[str]:
    parser = Links()
    parser.feed(text)
    out = []
    for href in parser.hrefs:
        url = urldefrag(urljoin(base, href))[0]
        parts = urlsplit(url)
        if parts.netloc not in ("", "localhost") or parts.scheme not in ("", "http"):
            continue
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        if not path.startswith(SKIP):
            out.append(path)
    return out


def crawl(client, starts: list[str]) -> dict[str, str]:
    """Breadth first from `starts`, pages without a query string before those with one;
    returns {path: text} of every text answer (HTML, CSV, JSON, Atom)."""
    seen, found = set(starts), {}
    plain, queried = deque(starts), deque()
    while (plain or queried) and len(found) < MAX_PAGES:
        path = plain.popleft() if plain else queried.popleft()
        resp = client.get(path)
        assert resp.status_code in (200, 302, 303, 304, 403, 404), (path, resp.status_code)
        if resp.status_code != 200 or not (resp.mimetype.startswith("text/")
                                           or resp.mimetype.endswith(("json", "xml"))):
            continue
        text = resp.get_data(as_text=True)
        found[path] = text
        if resp.mimetype == "text/html":
            links = _links("http://localhost" + path, text)
        elif resp.mimetype == "application/json":  # the API's links, and the records' urls
            links = [u[len("http://localhost"):] for u in JSON_URL.findall(text)]
        else:
            links = []
        for link in links:
            if link not in seen and not link.startswith(SKIP):
                seen.add(link)
                (queried if "?" in link else plain).append(link)
    return found


@pytest.fixture
def archive(app, runner, client):
    """The demo, with one issue hidden by a moderator; crawled anonymously."""
    assert runner.invoke(args=["demo", "load"]).exit_code == 0
    with app.test_request_context("/", method="POST"):
        issue = db.session.scalar(select(Issue).where(Issue.state == IssueState.COLLECTING)
                                  .order_by(Issue.number))
        issue.body = HIDDEN_BODY
        issue.hidden_at = clock.now()
        hidden_title = issue.title
        db.session.commit()
        users = list(db.session.scalars(select(User)))
        secrets = {
            "phone": {u.phone for u in users if u.phone},
            "unshown name": {u.display_name for u in users if u.display_name and not u.show_name},
            "roster name": {o.name for o in db.session.scalars(select(Owner))
                            if not o.is_developer},
            "draft": {i.title for i in db.session.scalars(
                select(Issue).where(Issue.state == IssueState.DRAFT))},
            "hidden": {HIDDEN_BODY},
        }
    pages = crawl(client, ["/", "/c/huayuan/", "/api/", "/api/v1/communities",
                           "/c/huayuan/issues.json", "/c/huayuan/ballots.json",
                           "/c/huayuan/stats.json", "/audit/"])
    return pages, secrets, hidden_title


def test_the_crawl_reaches_the_whole_archive(archive):
    pages, _secrets, _title = archive
    kinds = ["/c/huayuan/issues/", "/c/huayuan/decisions/", "/c/huayuan/ballots/",
             "/implementation", "/consultation", "/c/huayuan/stats", "/streets/",
             "/c/huayuan/spending", "decisions.csv", "expenses.csv", "issues.csv",
             "decisions.atom", "ballots.csv", "stats.csv", "/api/v1/communities/huayuan/decisions",
             "/audit/"]
    for kind in kinds:
        assert any(kind in path for path in pages), kind
    assert len(pages) > 80


def test_no_personal_data_drafts_or_hidden_content_in_any_public_page(archive):
    pages, secrets, _title = archive
    assert all(secrets.values())  # each kind of secret exists, so the scan can fail
    for path, text in pages.items():
        phones = PHONE.findall(text)
        assert not phones, (path, phones)
        for kind, values in secrets.items():
            leaked = sorted(v for v in values if v in text)
            assert not leaked, (path, kind, leaked)


def test_a_hidden_issue_is_in_no_list(archive):
    pages, _secrets, title = archive
    lists = {p: t for p, t in pages.items()
             if p.split("?")[0].endswith(("/issues/", ".csv", ".json", ".atom"))
             or p.startswith("/api/v1/")}
    assert lists
    for path, text in lists.items():
        assert title not in text, path


def test_the_scan_would_see_a_leak(app, client, archive):
    """Opting in to one's name puts it on pages: the same scan then finds it."""
    _pages, secrets, _title = archive
    with app.test_request_context("/", method="POST"):
        u = db.session.scalar(select(User).where(User.phone == "13800000005"))
        u.show_name = True
        name = u.display_name
        db.session.commit()
    pages = crawl(client, ["/c/huayuan/"])
    assert any(name in text for text in pages.values())
