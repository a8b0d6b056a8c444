"""Carrying out an effective decision on phones, through the forms: the property manager
books a maintenance-fund payment with its receipt photo, an owners' committee member
approves it, the property manager posts progress with a photo and marks the work done, and
a resident says it is resolved and rates it. JavaScript on (htmx) and off (plain forms);
CSRF on, as in production."""
from __future__ import annotations

import pytest

from civic import clock
from tests.browser.actions import submit
from tests.browser.conftest import no_horizontal_scroll, shot
from tests.browser.test_journeys import login
from tests.conftest import jpeg_bytes
from tests.consultation.conftest import hall  # noqa: F401  (fixture)
from tests.implementation.conftest import make_effective


@pytest.mark.parametrize("js", [True, False], ids=["js", "nojs"])
def test_pay_approve_progress_complete_and_rate_on_phones(app, live_app, hall,  # noqa: F811
                                                          phone, js, tmp_path):
    h = make_effective(app, hall)   # 18,000 yuan from the maintenance fund, the property leads
    base = live_app.config["LIVE_URL"]
    work = f"{base}/c/{h.community.slug}/issues/{h.number}/implementation"
    photo = tmp_path / "receipt.jpg"
    photo.write_bytes(jpeg_bytes())
    tag = "js" if js else "nojs"

    prop = phone(js)
    login(prop, base, h.prop.phone)
    prop.goto(work)
    prop.click("#book summary")
    prop.fill("#expense-spent_on", clock.local(clock.now()).date().isoformat())
    prop.fill("#expense-amount", "12,500.00")
    prop.fill("#expense-payee", "上海某水泵设备有限公司")
    prop.fill("#expense-purpose", "排水泵两台及安装")
    prop.set_input_files("#expense-receipts", str(photo))
    main = submit(prop, "#book form button")
    assert "上海某水泵设备有限公司" in main and "待业委会审核" in main
    assert prop.locator("#ledger img").count() == 1
    shot(prop, f"work-booked-{tag}")

    assoc = phone(js)
    login(assoc, base, h.assoc.phone)
    assoc.goto(work)
    assoc.click("#review-1 summary")
    main = submit(assoc, "#review-1 button[value=approve]")
    assert "已计入" in main
    assert "¥12,500.00" in assoc.inner_text("#budget")

    prop.goto(work)
    prop.click("#post-progress summary")
    prop.select_option("#progress-status", "in_progress")
    prop.fill("#progress-text", "旧泵已拆除，新泵安装中。")
    prop.set_input_files("#progress-photos", str(photo))
    main = submit(prop, "#post-progress form button")
    assert "新泵安装中" in main and "实施中" in main
    prop.click("#post-progress summary")
    prop.select_option("#progress-status", "completed")
    prop.fill("#progress-text", "排水泵已调试，雨天车库不再积水。")
    main = submit(prop, "#post-progress form button")
    assert "已确认办结" in main and "已完成" in main
    shot(prop, f"work-completed-{tag}")

    resident = phone(js)
    login(resident, base, h.rep.phone)
    resident.goto(work)
    resident.check("#rating-resolved-yes")
    resident.check("#rating-score-basic")
    resident.fill("#rating-comment", "基本解决，希望入口再加挡水板。")
    main = submit(resident, "#rate button")
    assert "你家已评价：基本满意" in main
    assert no_horizontal_scroll(resident)
    shot(resident, f"work-rated-{tag}")
