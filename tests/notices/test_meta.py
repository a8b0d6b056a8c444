"""Link previews on public pages only, with no personal data; the web app manifest, its
icons, the service worker script and the offline page."""
from __future__ import annotations

import json
import re
from io import BytesIO

import pytest
from PIL import Image
from sqlalchemy import select

from civic.accounts.models import User
from civic.ballots.models import Ballot
from civic.consultation.models import Consultation, Round, RoundState
from civic.decisions.models import Decision, DecisionState
from civic.demo import DEMO_USERS
from civic.extensions import db
from civic.issues.models import Issue, IssueState
from tests.notices.conftest import BASE, MODERATOR, RESIDENT

_META = re.compile(r'<meta (?:property|name)="(og:[a-z_]+|description)" content="([^"]*)">')
REQUIRED = {"og:title", "og:description", "og:site_name", "og:type", "og:url", "description"}


def _meta(html: str) -> dict[str, str]:
    return dict(_META.findall(html))


def _public_pages() -> list[str]:
    issue = db.session.scalar(select(Issue).where(Issue.state == IssueState.COLLECTING))
    d = db.session.scalar(select(Decision).where(Decision.state == DecisionState.PUBLICITY))
    rnd = db.session.scalar(select(Round).where(Round.state == RoundState.CLOSED))
    b = db.session.scalar(select(Ballot))
    met = db.session.get(Issue, db.session.get(Consultation, rnd.consultation_id).issue_id)
    return [
        "/c/huayuan/", "/c/huayuan/issues/", f"/c/huayuan/issues/{issue.number}/",
        "/c/huayuan/decisions/",
        f"/c/huayuan/issues/{db.session.get(Issue, d.issue_id).number}/decisions/{d.version}",
        "/c/huayuan/ballots/", f"/c/huayuan/ballots/{b.number}", "/c/huayuan/stats",
        f"/c/huayuan/issues/{met.number}/rounds/{rnd.number}",
        "/streets/浦东新区花木街道/stats",
    ]


def _personal_data() -> list[str]:
    """Everything a preview must never carry: names, phone numbers, unit labels."""
    users = db.session.scalars(select(User)).all()
    out = [phone for phone, *_ in DEMO_USERS] + [name for _, name, *_ in DEMO_USERS]
    out += [u.display_name for u in users if u.display_name]
    return [x for x in out if x]


@pytest.mark.parametrize("who", [None, RESIDENT], ids=["anonymous", "resident"])
def test_public_pages_carry_a_link_preview_without_personal_data(demo, login, client, ctx, who):
    c = login(who) if who else client
    personal = _personal_data()
    for path in _public_pages():
        resp = c.get(path)
        assert resp.status_code == 200, path
        meta = _meta(resp.get_data(as_text=True))
        assert REQUIRED <= set(meta), (path, meta)
        assert all(meta[k].strip() for k in REQUIRED), (path, meta)
        assert meta["og:site_name"] == "社区议事厅"
        assert meta["og:url"].startswith(BASE + "/"), meta["og:url"]
        assert "花园小区" in meta["og:title"] + meta["og:description"] or "街道" in meta["og:title"]
        assert len(meta["description"]) <= 150
        for value in meta.values():
            for secret in personal:
                assert secret not in value, (path, secret, value)
            assert not re.search(r"1[3-9]\d{9}", value), (path, value)


def test_the_home_page_describes_the_site(demo, client):
    meta = _meta(client.get("/").get_data(as_text=True))
    assert REQUIRED <= set(meta), meta
    assert meta["og:title"] == "社区议事厅"
    assert meta["og:url"] == f"{BASE}/"
    assert meta["description"] and len(meta["description"]) <= 150


def test_the_issue_preview_says_what_and_how_far(demo, client, ctx):
    issue = db.session.scalar(select(Issue).where(Issue.state == IssueState.COLLECTING))
    meta = _meta(client.get(f"/c/huayuan/issues/{issue.number}/").get_data(as_text=True))
    assert meta["og:title"] == f"#{issue.number} {issue.title}"
    assert f"已有 {issue.cosign_count} 户联署" in meta["og:description"]
    assert meta["og:url"] == f"{BASE}/c/huayuan/issues/{issue.number}/"


def test_private_pages_have_no_link_preview(demo, login, ctx):
    draft = db.session.scalar(select(Issue).where(Issue.state == IssueState.DRAFT))
    resident = login(RESIDENT)
    for path in ("/account", "/notifications/", f"/c/huayuan/issues/{draft.number}/",
                 "/c/huayuan/issues/new", "/join", "/notifications/settings"):
        resp = resident.get(path)
        assert resp.status_code == 200, path
        assert _meta(resp.get_data(as_text=True)) == {}, path
    resident.post("/logout")
    for path in ("/login", "/register"):
        assert _meta(resident.get(path).get_data(as_text=True)) == {}, path
    moderator = login(MODERATOR)
    for path in ("/c/huayuan/manage/", "/c/huayuan/manage/members", "/c/huayuan/manage/codes",
                 "/c/huayuan/manage/reports"):
        resp = moderator.get(path)
        assert resp.status_code == 200, path
        assert _meta(resp.get_data(as_text=True)) == {}, path


def test_a_hidden_issue_has_no_preview(demo, client, ctx):
    from civic import clock
    issue = db.session.scalar(select(Issue).where(Issue.state == IssueState.COLLECTING))
    issue.hidden_at = clock.now()
    db.session.commit()
    assert _meta(client.get(f"/c/huayuan/issues/{issue.number}/").get_data(as_text=True)) == {}


# --- the installable web app ---------------------------------------------------------------

def test_manifest_is_valid_json_with_the_required_members(demo, client):
    resp = client.get("/manifest.webmanifest")
    assert resp.status_code == 200
    assert resp.mimetype == "application/manifest+json"
    m = json.loads(resp.get_data(as_text=True))
    assert m["name"] == "社区议事厅" and m["short_name"] == "议事厅"
    assert m["lang"] == "zh-CN" and m["display"] == "standalone"
    assert m["start_url"] == "/" and m["scope"] == "/"
    assert re.fullmatch(r"#[0-9a-f]{6}", m["theme_color"])
    assert re.fullmatch(r"#[0-9a-f]{6}", m["background_color"])
    sizes = set()
    for icon in m["icons"]:
        png = client.get(icon["src"])
        assert png.status_code == 200 and icon["type"] == "image/png"
        img = Image.open(BytesIO(png.data))
        assert img.format == "PNG"
        assert f"{img.width}x{img.height}" == icon["sizes"]
        sizes.add((icon["sizes"], icon.get("purpose", "any")))
    assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= sizes


def test_every_page_links_the_manifest_and_sets_the_theme_colour(demo, client):
    html = client.get("/c/huayuan/").get_data(as_text=True)
    theme = json.loads(client.get("/manifest.webmanifest").data)["theme_color"]
    assert '<link rel="manifest" href="/manifest.webmanifest">' in html
    assert f'<meta name="theme-color" content="{theme}">' in html
    assert '<script src="/static/js/app.js" defer></script>' in html


def test_service_worker_is_served_from_the_root_and_always_revalidated(demo, client):
    resp = client.get("/sw.js")
    assert resp.status_code == 200
    assert resp.mimetype in ("text/javascript", "application/javascript")
    assert resp.headers["Cache-Control"] == "no-cache"
    assert "function cacheable(" in resp.get_data(as_text=True)


def test_offline_page_is_the_same_for_everyone(demo, login):
    resident = login(RESIDENT)
    html = resident.get("/offline").get_data(as_text=True)
    assert "当前网络不可用" in html
    for private in ("csrf", "<form", "刘阿姨", "通知", "我的", RESIDENT):
        assert private not in html, private
    assert html == demo.test_client().get("/offline").get_data(as_text=True)
