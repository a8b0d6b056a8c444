"""The archive's and the implementation's page types under axe, lang, labels and 360 px (as
in test_accessibility): the ledger, progress and ratings as each role sees them (with their
forms), the spending page, the statistics of a community and of its street, the audit
page, the data API's documentation and a filtered decisions list; and the correction and
publishing forms of decisions and the account deletion page."""
from __future__ import annotations

from urllib.parse import quote

from civic import clock
from tests.browser.test_accessibility import check_page
from tests.browser.test_archive_journey import NEXT_YEAR, _lift_history
from tests.browser.test_journeys import login
from tests.consultation.conftest import hall  # noqa: F401  (fixture)


def test_archive_and_implementation_pages_have_no_axe_violations(app, live_app, hall,  # noqa: F811
                                                                 make, phone):
    h = hall
    d = _lift_history(app, h)
    newcomer = make.resident(h.community)   # may still rate: the window is open
    base = live_app.config["LIVE_URL"]
    c = f"/c/{h.community.slug}"
    work = f"{c}/issues/{h.number}/implementation"
    problems: list[str] = []

    def visit(page, path, name):
        response = page.goto(base + path)
        assert response.status == 200, (name, path, response.status)
        problems.extend(check_page(page, name))

    decisions = f"{c}/issues/{h.number}/decisions"
    for who, pages in [
            (h.prop, [(work, "implementation-property")]),
            (h.mod, [(work, "implementation-moderator"),
                     (f"{decisions}/{d.version}/correct", "decision-correct"),
                     (f"{decisions}/new", "decision-publish-refused")]),
            (newcomer, [(work, "implementation-rating-form"),
                        ("/account/delete", "account-delete")])]:
        page = phone(True)
        login(page, base, who.phone)
        for path, name in pages:
            visit(page, path, name)

    clock.freeze(NEXT_YEAR)
    anon = phone(True)
    district = quote(h.community.district)
    for path, name in [(work, "implementation-anon"), (f"{c}/spending", "spending"),
                       (f"{c}/stats", "stats-community"), (f"{c}/stats?year=2026", "stats-year"),
                       (f"/streets/{district}/stats", "stats-street"),
                       (f"{c}/decisions/?q=电梯", "decisions-search"),
                       (f"/audit/?hash={d.content_hash}", "audit-lookup"),
                       ("/audit/", "audit"), ("/api/", "api-docs")]:
        visit(anon, path, name)
    assert not problems, "\n".join(problems)
