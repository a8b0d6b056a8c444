"""WCAG 2.1 AA on every page type (QUALITY.md §6): axe-core (bundled with
axe-playwright-python, so it runs offline) reports no violations of any impact, as the role
that sees the page; every page says lang="zh-CN", labels every field and fits 360 px without
horizontal scrolling. And a resident logs in and co-signs with the keyboard alone."""
from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe

from civic.extensions import db
from tests.browser.conftest import shot
from tests.browser.sample import build_community, build_governance
from tests.browser.test_journeys import login
from tests.conftest import PASSWORD

NARROW = {"width": 360, "height": 740}
AXE = Axe()   # axe-core as bundled in the package: every rule, WCAG 2.x A/AA and best practice

#: fields whose accessible name is missing: input (not hidden/submit/button), select, textarea
UNLABELLED = """() => [...document.querySelectorAll(
    'input:not([type=hidden]):not([type=submit]):not([type=button]):not([type=reset]), select, textarea')]
  .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                && !(el.getAttribute('aria-labelledby') || '').split(' ').some(
                     id => id && document.getElementById(id)?.textContent.trim()))
  .map(el => el.outerHTML.slice(0, 120))"""


def check_page(page, name: str) -> list[str]:
    """axe, lang, labels and 360 px on the page as loaded; returns the problems found."""
    problems = []
    page.wait_for_load_state()
    # what a tap on <summary> reveals is checked too
    page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")
    results = AXE.run(page, options={"resultTypes": ["violations"]})
    for v in results.response["violations"]:
        nodes = "; ".join(" ".join(n["target"]) + " " + n["html"][:100] for n in v["nodes"][:4])
        problems.append(f"{name}: axe {v['id']} ({v['impact']}): {v['help']} — {nodes}")
    lang = page.evaluate("document.documentElement.lang")
    if lang != "zh-CN":
        problems.append(f"{name}: lang={lang!r}")
    for field in page.evaluate(UNLABELLED):
        problems.append(f"{name}: unlabelled field {field}")
    size = page.viewport_size
    page.set_viewport_size(NARROW)
    overflow = page.evaluate("document.documentElement.scrollWidth"
                             " - document.documentElement.clientWidth")
    if overflow > 0:
        problems.append(f"{name}: {overflow}px horizontal overflow at 360 px")
    shot(page, f"a11y-{name}")
    page.set_viewport_size(size)
    return problems


def submit_without_browser_checks(page, button: str = "main button.btn-block") -> None:
    """Submit the form empty, past the browser's own `required` checks, so the page comes
    back from the server with its error messages."""
    page.evaluate("document.querySelectorAll('form').forEach(f => { f.noValidate = true; })")
    page.click(button)
    page.wait_for_load_state()
    assert page.locator("main .error").count(), page.url


def test_every_page_type_has_no_axe_violations(live_app, make, make_issue, phone):
    base = live_app.config["LIVE_URL"]
    d = build_community(live_app, make, make_issue)
    slug, n = d["c"].slug, d["n"]
    c = f"{base}/c/{slug}"
    problems: list[str] = []

    def visit(page, path, name, status=200):
        response = page.goto(path if path.startswith("http") else base + path)
        assert response.status == status, (name, path, response.status)
        problems.extend(check_page(page, name))

    anon = phone(True)
    for path, name in [("/", "home-anon"), ("/?all=1", "public-home"), ("/register", "register"), ("/login", "login"),
                       (f"/c/{slug}/", "community-home-anon"),
                       (f"/c/{slug}/issues/", "issue-list-anon"),
                       (f"/c/{slug}/issues/{n['collecting']}/", "issue-collecting-anon"),
                       (f"/c/{slug}/issues/{n['accepted']}/", "issue-accepted-anon"),
                       (f"/c/{slug}/issues/{n['hidden']}/", "issue-hidden-anon"),
                       (f"/c/{slug}/precedents/", "precedents"), ("/api/", "api-docs")]:
        visit(anon, path, name)
    visit(anon, "/no-such-page", "error-404", status=404)
    for path, name in [("/login", "login-errors"), ("/register", "register-errors")]:
        anon.goto(base + path)
        submit_without_browser_checks(anon)
        problems.extend(check_page(anon, name))

    res = phone(True)
    login(res, base, d["resident"].phone)
    for path, name in [("/", "home-resident"),
                       (f"/c/{slug}/", "community-home-resident"),
                       (f"/c/{slug}/issues/", "issue-list"),
                       (f"/c/{slug}/issues/?state=closed&q=门禁", "issue-list-filtered"),
                       (f"/c/{slug}/issues/{n['collecting']}/", "issue-collecting"),
                       (f"/c/{slug}/issues/{n['accepted']}/", "issue-accepted-response"),
                       (f"/c/{slug}/issues/{n['declined']}/", "issue-declined"),
                       (f"/c/{slug}/issues/{n['merged']}/", "issue-merged"),
                       (f"/c/{slug}/issues/{n['waiting']}/", "issue-awaiting-triage"),
                       (f"/c/{slug}/issues/new", "issue-new"),
                       (f"/c/{slug}/issues/{n['draft']}/", "issue-draft"),
                       (f"/c/{slug}/issues/{n['draft']}/edit", "issue-edit"),
                       (f"/c/{slug}/report/comment/{d['reply_id']}", "report-form"),
                       ("/account", "account"), ("/account/password", "password"),
                       ("/notifications/", "notifications"),
                       ("/notifications/settings", "notification-settings")]:
        visit(res, path, name)
    visit(res, f"/c/{slug}/manage/", "error-403", status=403)
    res.goto(f"{c}/issues/new")
    submit_without_browser_checks(res, "button[value=publish]")
    problems.extend(check_page(res, "issue-new-errors"))

    new = phone(True)
    login(new, base, d["newcomer"].phone)
    visit(new, "/join", "join")
    visit(new, f"/c/{slug}/claim", "claim")

    mod = phone(True)
    login(mod, base, d["moderator"].phone)
    m = f"/c/{slug}/manage"
    for path, name in [(f"{m}/", "manage-dashboard"), (f"{m}/triage/", "triage-queue"),
                       (f"{m}/triage/{n['waiting']}", "triage-issue"),
                       (f"{m}/triage/{n['ruled']}", "triage-issue-ruled"),
                       (f"{m}/responsibility", "responsibility"), (f"{m}/rules", "rules"),
                       (f"{m}/staff", "staff"), (f"{m}/roster/", "roster-index"),
                       (f"{m}/roster/buildings/{d['b1'].id}", "roster-building"),
                       (f"{m}/roster/import", "roster-import"), (f"{m}/codes", "codes"),
                       (f"{m}/claims", "claims"), (f"{m}/members", "members"),
                       (f"{m}/reports", "reports-queue"),
                       (f"{m}/roster/buildings/new", "roster-building-form"),
                       (f"{m}/roster/buildings/{d['b1'].id}/units/new", "roster-unit-form"),
                       (f"{m}/roster/units/{d['unit_id']}/edit", "roster-unit-edit"),
                       (f"{m}/moderate/comment/{d['reply_id']}/", "moderation-item"),
                       (f"{m}/members/{d['membership_id']}/suspend", "member-suspend"),
                       (f"/c/{slug}/issues/{n['collecting']}/", "issue-as-moderator")]:
        visit(mod, path, name)
    mod.goto(f"{base}{m}/codes")
    mod.check("input[name=scope][value=all]")
    mod.click("main button.btn-block")
    problems.extend(check_page(mod, "code-slips"))

    prop = phone(True)
    login(prop, base, d["manager"].phone)
    visit(prop, f"/c/{slug}/issues/{n['accepted']}/", "issue-as-property")

    adm = phone(True)
    login(adm, base, d["admin"].phone)
    visit(adm, "/admin/communities", "admin-communities")

    assert not problems, "\n".join(problems)


def test_consultation_decision_and_ballot_pages_have_no_axe_violations(live_app, make,
                                                                       make_issue, phone):
    """The consultation, decision and owners' ballot pages in each state they show, as each
    role sees them: a round being prepared, open (with a seat's vote panel), closed with
    named votes; a decision in its publicity period with objections; a ballot open (vote
    form, receipt, the committee's paper and proxy entry) and counted (result, file,
    objections)."""
    base = live_app.config["LIVE_URL"]
    d = build_community(live_app, make, make_issue)
    build_governance(live_app, make, make_issue, d)
    slug, n = d["c"].slug, d["n"]
    problems: list[str] = []

    def visit(page, path, name, status=200):
        response = page.goto(base + path)
        assert response.status == status, (name, path, response.status)
        problems.extend(check_page(page, name))

    anon = phone(True)
    res, mod = phone(True), phone(True)
    login(res, base, d["resident"].phone)
    login(mod, base, d["moderator"].phone)
    issue = f"/c/{slug}/issues"
    cons, dec = f"{issue}/{n['consulting']}", f"{issue}/{n['decided']}/decisions/1"
    ballots, bo, bc = f"/c/{slug}/ballots", d["ballot_open"], d["ballot_counted"]
    for path, name in [(f"{cons}/consultation", "consultation-anon"),
                       (f"{cons}/rounds/1", "round-closed-anon"),
                       (f"{cons}/rounds/2", "round-open-anon"),
                       (dec, "decision-publicity-anon"),
                       (f"/c/{slug}/decisions/", "decisions-list"),
                       (f"{ballots}/", "ballots-list"), (f"{ballots}/{bo}", "ballot-open-anon"),
                       (f"{ballots}/{bc}", "ballot-provisional-anon")]:
        visit(anon, path, name)
    for path, name in [(dec, "decision-resident"), (f"{cons}/rounds/2", "round-open-resident")]:
        visit(res, path, name)
    for page, who, visits in [
            (phone(True), d["assoc"], [(f"{cons}/rounds/2", "round-open-seat-holder")]),
            (phone(True), d["owners"][0], [(f"{ballots}/{bo}", "ballot-open-receipt")]),
            (phone(True), d["owners"][1], [(f"{ballots}/{bo}", "ballot-open-owner"),
                                           (f"{ballots}/{bc}", "ballot-provisional-owner")])]:
        login(page, base, who.phone)
        for path, name in visits:
            visit(page, path, name)
    for path, name in [(f"{cons}/consultation", "consultation-moderator"),
                       (f"{issue}/{n['fresh']}/consultation", "consultation-schedule"),
                       (f"{issue}/{n['noticed']}/rounds/1", "round-noticed-moderator"),
                       (f"{issue}/{n['noticed']}/rounds/1/manage", "round-manage"),
                       (f"{cons}/rounds/2", "round-open-moderator"),
                       (f"{cons}/rounds/2/manage", "round-manage-frozen"),
                       (f"{issue}/{n['decided']}/", "issue-decided"),
                       (dec, "decision-moderator"), (f"{ballots}/new", "ballot-new"),
                       (f"{ballots}/{bo}/manage", "ballot-manage-open"),
                       (f"{ballots}/{bc}", "ballot-provisional-moderator"),
                       (f"{ballots}/{bc}/manage", "ballot-manage-counted")]:
        visit(mod, path, name)
    assert not problems, "\n".join(problems)


def _tab_to(page, selector: str, limit: int = 40) -> None:
    """Press Tab until the focused element matches `selector`; check focus is visible."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement.matches(s)", selector):
            outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
            assert outline != "none", f"no visible focus on {selector}"
            return
    raise AssertionError(f"Tab never reached {selector}")


@pytest.mark.parametrize("js", [True, False], ids=["js", "nojs"])
def test_log_in_and_cosign_with_the_keyboard_only(live_app, make, make_issue, phone, js):
    base = live_app.config["LIVE_URL"]
    c = make.community()
    _iid, number = make_issue(c, need=3)
    resident = make.resident(c)

    page = phone(js)
    page.goto(f"{base}/c/{c.slug}/issues/{number}/")
    _tab_to(page, "header nav a[href^='/login']")
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: urlsplit(url).path == "/login")
    _tab_to(page, "#phone")
    page.keyboard.type(resident.phone)
    _tab_to(page, "#password")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: urlsplit(url).path == f"/c/{c.slug}/issues/{number}/")

    _tab_to(page, "#cosign-comment")
    page.keyboard.type("支持，晚上太黑了")
    _tab_to(page, "#cosign-panel button")
    page.keyboard.press("Enter")
    if js:
        page.wait_for_selector("text=你家已联署")
    else:
        page.wait_for_load_state()
        assert "联署成功" in page.inner_text("main")
    with live_app.app_context():
        from civic.issues.models import Issue
        assert db.session.get(Issue, _iid).cosign_count == 1
