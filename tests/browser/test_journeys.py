"""Journeys at phone size, each with JavaScript on and off:
1. a moderator prints invitation codes; a newcomer registers, enters a code, lands home;
2. a resident proposes an issue with a photo; neighbours co-sign it to the threshold."""
import re

import pytest
from PIL import Image

from civic.extensions import db
from civic.issues.models import Issue, IssueState
from tests.browser.actions import wait_true
from tests.browser.conftest import no_horizontal_scroll, shot
from tests.conftest import PASSWORD

CODE = re.compile(r"[2-9A-HJKMNP-Z]{5}-[2-9A-HJKMNP-Z]{5}")
#: the co-signers section's households by building add up to n (and it lists some)
COSIGNERS_ADD_UP_TO = (
    "n => { const badges = [...document.querySelectorAll('#cosigners .badge')];"
    " return badges.length > 0 && badges.reduce("
    "(s, b) => s + parseInt(b.textContent.match(/(\\d+) 户/)[1]), 0) === n; }")


def login(page, base, phone, password=PASSWORD):
    page.goto(base + "/login")
    page.fill("#phone", phone)
    page.fill("#password", password)
    page.click("main button.btn-block")
    page.wait_for_load_state()


@pytest.mark.parametrize("js", [True, False], ids=["js", "nojs"])
def test_codes_printed_registration_and_verification(live_app, make, phone, js):
    base = live_app.config["LIVE_URL"]
    c = make.community(name="花园小区")
    b = make.building(c, "1号楼")
    units = [make.unit(c, building=b, number=n) for n in ("101", "102", "201")]
    moderator = make.staff(c, "moderator", title="居委会主任")

    mod = phone(js)
    login(mod, base, moderator.phone)
    mod.goto(f"{base}/c/{c.slug}/manage/codes")
    mod.check("input[name=scope][value=all]")
    mod.click("main button.btn-block")
    mod.wait_for_load_state()
    codes = CODE.findall(mod.inner_text("main"))
    assert len(codes) == len(units)
    shot(mod, f"codes-slips-{'js' if js else 'nojs'}")

    newcomer = phone(js)
    newcomer.goto(f"{base}/register")
    newcomer.fill("#phone", "13911112222")
    newcomer.fill("#display_name", "小林")
    newcomer.fill("#password", PASSWORD)
    newcomer.fill("#confirm", PASSWORD)
    newcomer.click("main button.btn-block")
    newcomer.wait_for_load_state()
    assert "/login" in newcomer.url
    login(newcomer, base, "13911112222")
    newcomer.goto(f"{base}/join")
    newcomer.fill("#code", codes[1].lower().replace("-", " "))
    newcomer.click("main button.btn-block")
    newcomer.wait_for_load_state()
    assert newcomer.url.endswith(f"/c/{c.slug}/")
    body = newcomer.inner_text("main")
    assert "1号楼102" in body and "业主" in body
    assert no_horizontal_scroll(newcomer)
    shot(newcomer, f"community-home-verified-{'js' if js else 'nojs'}")


@pytest.mark.parametrize("js", [True, False], ids=["js", "nojs"])
def test_propose_with_photo_and_cosign_to_threshold(live_app, make, phone, tmp_path, js):
    base = live_app.config["LIVE_URL"]
    c = make.community()
    author = make.resident(c)
    neighbours = [make.resident(c) for _ in range(2)]
    with live_app.app_context():
        from civic.communities.models import Community
        db.session.get(Community, c.id).threshold_households = 2
        db.session.commit()
    photo = tmp_path / "lamp.jpg"
    Image.new("RGB", (1200, 900), (40, 60, 90)).save(photo)

    page = phone(js)
    login(page, base, author.phone)
    page.goto(f"{base}/c/{c.slug}/issues/new")
    page.fill("#title", "3号楼北侧路灯坏了")
    page.select_option("#category", "安全")
    page.fill("#body", "晚上很黑，老人出行**不安全**。")
    page.set_input_files("#photos", str(photo))
    page.click("button[value=publish]")
    page.wait_for_load_state()
    assert re.search(r"/issues/1/$", page.url)
    assert page.locator(".photos img").count() == 1
    shot(page, f"issue-new-published-{'js' if js else 'nojs'}")
    issue_url = page.url

    for i, neighbour in enumerate(neighbours):
        p = phone(js)
        login(p, base, neighbour.phone)
        p.goto(issue_url)
        p.fill("#cosign-comment", "支持")
        if js:
            p.click("#cosign-panel button")
            p.wait_for_selector("text=你家已联署")
            assert p.url == issue_url                     # swapped in place, no navigation
            assert p.inner_text("#cosign-count") == f"{i + 1} 户联署"   # out-of-band counter
            # the co-signers section reloads itself and agrees with the counter
            wait_true(p, COSIGNERS_ADD_UP_TO, i + 1)
            assert "支持" in p.inner_text("#cosigners")
        else:
            p.click("#cosign-panel button")
            p.wait_for_load_state()
            assert "联署成功" in p.inner_text("main")
        assert no_horizontal_scroll(p)
        shot(p, f"issue-cosigned-{i + 1}-{'js' if js else 'nojs'}")

    with live_app.app_context():
        issue = db.session.query(Issue).one()
        assert issue.state is IssueState.AWAITING_TRIAGE and issue.cosign_count == 2


@pytest.mark.parametrize("js", [True, False], ids=["js", "nojs"])
def test_a_refused_withdrawal_says_why_in_the_panel(live_app, make, make_issue, phone, js):
    """While a household looked at the page, a neighbour's co-sign reached the threshold: its
    withdrawal is refused, and the panel (htmx) or the page (plain form) says why."""
    base = live_app.config["LIVE_URL"]
    c = make.community()
    iid, n = make_issue(c, need=2)
    first, second = make.resident(c), make.resident(c)
    page = phone(js)
    login(page, base, first.phone)
    page.goto(f"{base}/c/{c.slug}/issues/{n}/")
    page.click("#cosign-panel button")
    page.wait_for_selector("#cosign-panel >> text=撤回联署")
    with live_app.app_context():
        from civic.accounts.models import User
        from civic.issues import operations as ops
        with live_app.test_request_context("/", method="POST"):
            ops.cosign(db.session.get(User, second.id), iid)
            db.session.commit()
    page.click("#cosign-panel >> text=撤回联署")
    where = "#cosign-panel" if js else "main"   # in the swapped panel, or the page's notice
    page.wait_for_selector(f"{where} >> text=联署不能再撤回")
    assert "你家已联署" in page.inner_text("#cosign-panel")
    if js:   # the co-signers section follows the panel's count, the neighbour included
        wait_true(page, COSIGNERS_ADD_UP_TO, 2)
    shot(page, f"issue-withdraw-refused-{'js' if js else 'nojs'}")
    with live_app.app_context():
        assert db.session.get(Issue, iid).cosign_count == 2
