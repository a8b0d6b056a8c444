"""Anyone, without an account, on a phone: finds last year's lift decision in a community's
archive by typing 电梯, sees who voted how, the minutes and the budget, each payment with its
receipt, the progress and the residents' ratings, downloads the list as CSV and checks the
decision's record in the audit chain. JavaScript on (htmx) and off (plain forms)."""
from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest

from civic import clock
from civic.decisions import operations as dops
from civic.extensions import db
from civic.implementation import operations as work
from civic.implementation import ratings
from tests.browser.actions import ops
from tests.browser.conftest import no_horizontal_scroll, shot
from tests.conftest import jpeg_bytes
from tests.consultation.conftest import hall  # noqa: F401  (fixture)
from tests.decisions.helpers import published, run
from tests.implementation.conftest import U, the_issue, today

#: browsing happens in the next year: the decision is "last year's"
NEXT_YEAR = datetime(2027, 2, 1, 2, 0, tzinfo=UTC)
PAYEES = ("上海某电梯工程有限公司", "某某检测站")


def _lift_history(app, h):
    """The hall's issue, renamed a lift issue; a round adopting the plan with named votes and
    confirmed minutes; a decision (public income, 18,000 yuan) in effect; two payments with
    receipts; progress to completion; two households' ratings — all in 2026."""
    with ops(app):
        issue = the_issue(h)
        issue.title, issue.category = "3号楼加装电梯", "加装电梯"
        db.session.commit()
    d = published(app, h, budget="18,000.00", funding_source="public_income",
                  summary="采纳3号楼加装电梯方案，由物业组织施工。")
    clock.freeze(d.publicity_ends_at + timedelta(minutes=1))
    assert run(app, dops.take_effect_due) == 1
    for amount, payee in zip((1_200_000, 300_000), PAYEES):
        run(app, lambda a=amount, p=payee: work.add_expense(
            U(h.prop), the_issue(h), spent_on=today(), amount_fen=a, payee=p,
            purpose="电梯采购与安装" if a > 500_000 else "验收检测", receipts=[jpeg_bytes()]))
    run(app, lambda: work.post_update(U(h.prop), the_issue(h), status="in_progress",
                                      text="井道施工中，预计一个月完工。", photos=[jpeg_bytes()]))
    clock.freeze(clock.now() + timedelta(days=30))
    run(app, lambda: work.post_update(U(h.prop), the_issue(h), status="completed",
                                      text="电梯已通过验收，投入使用。", photos=[]))
    run(app, lambda: ratings.rate(U(h.rep), the_issue(h), resolved=True, score="satisfied"))
    run(app, lambda: ratings.rate(U(h.outsider), the_issue(h), resolved=True, score="basic"))
    return d


@pytest.mark.parametrize("js", [True, False], ids=["js", "nojs"])
def test_anyone_finds_last_years_lift_decision_and_checks_it(app, live_app, hall,  # noqa: F811
                                                             phone, js, tmp_path):
    """Built through the test app (CSRF off for the builders' HTTP steps), browsed on the live
    one (CSRF on); both on the same database."""
    h = hall
    d = _lift_history(app, h)
    clock.freeze(NEXT_YEAR)
    base = live_app.config["LIVE_URL"]
    slug = h.community.slug
    page = phone(js)

    page.goto(f"{base}/c/{slug}/")
    page.click("text=决议与表决结果")
    page.wait_for_url(f"**/c/{slug}/decisions/**")
    page.fill("#q", "电梯")
    page.press("#q", "Enter")
    page.wait_for_url("**q=*")
    page.wait_for_selector("main a:has-text('加装电梯')")
    assert "2026" in page.inner_text("main")
    shot(page, f"archive-search-{'js' if js else 'nojs'}")
    page.click("main a:has-text('加装电梯')")
    page.wait_for_selector("#minutes")
    main = page.inner_text("main")
    # who voted how: each seat by its body and title, with the vote and reason
    for seat in ("居委会主任", "业委会主任", "项目经理"):
        assert seat in main
    assert "同意" in main and "雨季前必须解决" in main
    assert "一致同意" in page.inner_text("#minutes")
    assert "¥18,000.00" in page.inner_text("#terms")
    record = page.get_attribute("#hash a[href*='hash=']", "href")
    assert record and no_horizontal_scroll(page)
    shot(page, f"archive-decision-{'js' if js else 'nojs'}")

    page.click("text=实施进展、每笔支出和居民评价")
    page.wait_for_selector("#ledger")
    ledger = page.inner_text("#ledger")
    for payee in PAYEES:
        assert payee in ledger
    receipts = page.locator("#ledger img")
    assert receipts.count() == 2
    for i in range(2):
        receipts.nth(i).scroll_into_view_if_needed()
        assert page.evaluate("img => img.complete && img.naturalWidth > 0",
                             receipts.nth(i).element_handle())
    assert "电梯已通过验收" in page.inner_text("main")
    rated = page.inner_text("#ratings")
    assert "满意" in rated and "基本满意" in rated
    assert "¥15,000.00" in page.inner_text("#budget")  # counted: 12,000 + 3,000
    assert no_horizontal_scroll(page)
    shot(page, f"archive-implementation-{'js' if js else 'nojs'}")

    page.goto(f"{base}/c/{slug}/decisions/?q=电梯")
    with page.expect_download() as download:
        page.click("text=决议 CSV")
    path = tmp_path / "decisions.csv"
    download.value.save_as(path)
    header, *rows = list(csv.reader(io.StringIO(path.read_text("utf-8-sig"))))
    assert [r[header.index("议题")] for r in rows] == ["3号楼加装电梯"]
    assert rows[0][header.index("批准预算（元）")] == "18000.00"
    assert rows[0][header.index("内容哈希")] == d.content_hash

    page.goto(base + record)
    assert "在链中" in page.inner_text("main")
    assert no_horizontal_scroll(page)
    shot(page, f"archive-audit-{'js' if js else 'nojs'}")
