"""A moderator on a phone clears the queue — accepts one issue with the suggested lead
body, declines one with a published reason, merges a duplicate — and the property manager
answers officially; residents see it all on the issue pages. JavaScript on and off."""
import pytest

from civic.extensions import db
from civic.issues.models import Issue, IssueState
from tests.browser.conftest import no_horizontal_scroll, shot
from tests.browser.test_journeys import login


def _reach_threshold(app, make, make_issue, c, title, category="设施维修"):
    iid, n = make_issue(c, need=1, title=title, category=category)
    resident = make.resident(c)
    with app.test_request_context("/", method="POST"):   # the live app checks CSRF
        from civic.accounts.models import User
        from civic.issues.operations import cosign
        cosign(db.session.get(User, resident.id), iid)
        db.session.commit()
    return iid, n


@pytest.mark.parametrize("js", [True, False], ids=["js", "nojs"])
def test_moderator_clears_the_queue_and_property_answers(live_app, make, make_issue, phone, js):
    base = live_app.config["LIVE_URL"]
    c = make.community()
    moderator = make.staff(c, "moderator", title="主任")
    manager = make.staff(c, "property", title="项目经理")
    a, na = _reach_threshold(live_app, make, make_issue, c, "地下车库B区积水")
    b, nb = _reach_threshold(live_app, make, make_issue, c, "请求在我家门口装摄像头", "安全")
    d, nd = _reach_threshold(live_app, make, make_issue, c, "车库B区又积水了")

    page = phone(js)
    login(page, base, moderator.phone)
    page.goto(f"{base}/c/{c.slug}/manage/responsibility")
    page.select_option("#lead-4", "property")            # 设施维修 → 物业
    page.click("main button.btn")
    page.goto(f"{base}/c/{c.slug}/manage/")
    shot(page, f"dashboard-{'js' if js else 'nojs'}")
    page.click("text=地下车库B区积水")
    assert page.is_checked("input[name=lead][value=property]")   # suggested lead body
    shot(page, f"triage-issue-{'js' if js else 'nojs'}")
    page.click("form[action$='/accept'] button")
    page.wait_for_load_state()

    page.goto(f"{base}/c/{c.slug}/manage/triage/{nb}")
    page.click("text=不予受理")
    page.fill("#reason", "属于个人安防需求，不使用公共资金；可由住户自行安装并告知物业。")
    page.click("form[action$='/decline'] button")
    page.wait_for_load_state()

    page.goto(f"{base}/c/{c.slug}/manage/triage/{nd}")
    page.click("text=并入其他议题")
    page.fill("#target", str(na))
    page.click("form[action$='/merge'] button")
    page.wait_for_load_state()
    assert "没有待受理的议题" in page.inner_text("main")
    assert no_horizontal_scroll(page)

    prop = phone(js)
    login(prop, base, manager.phone)
    prop.goto(f"{base}/c/{c.slug}/issues/{na}/")
    prop.fill("#response-text", "已安排疏通排水管，周五前完成。")
    prop.click("#responses button")
    prop.wait_for_load_state()
    assert "已安排疏通排水管" in prop.inner_text("#responses")
    shot(prop, f"issue-official-response-{'js' if js else 'nojs'}")

    visitor = phone(js)
    visitor.goto(f"{base}/c/{c.slug}/issues/{nb}/")
    assert "属于个人安防需求" in visitor.inner_text("main")
    visitor.goto(f"{base}/c/{c.slug}/issues/{nd}/")
    assert "已并入" in visitor.inner_text("main")

    with live_app.app_context():
        states = {i.number: i.state for i in db.session.query(Issue)}
        assert states == {na: IssueState.ACCEPTED, nb: IssueState.DECLINED, nd: IssueState.MERGED}
