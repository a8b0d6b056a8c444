"""In Chromium at phone size, with JavaScript on (htmx) and off (plain forms): the moderator
publishes (after a typo in the budget), a resident objects, the answer is published, the
decision takes effect. Every decision page type scrolls no sideways at phone width, and
(with JavaScript on, which axe needs) has no axe violations. CSRF is on, as in production."""
from __future__ import annotations

import pytest

from civic import clock
from tests.browser.conftest import browser, live_app, phone  # noqa: F401  (fixtures)
from tests.browser.conftest import no_horizontal_scroll, shot
from tests.browser.test_accessibility import check_page
from tests.browser.test_journeys import login
from tests.decisions.helpers import close_round, decision, due_text

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("js", [True, False], ids=["js", "nojs"])
def test_publish_object_answer_take_effect_on_a_phone(live_app, hall, phone, js):  # noqa: F811
    h = hall
    base = live_app.config["LIVE_URL"]
    issue = f"{base}/c/{h.community.slug}/issues/{h.number}"
    tag = "js" if js else "nojs"
    close_round(live_app, h)
    problems: list[str] = []

    def audit(page, name: str) -> list[str]:
        """axe needs scripting: with JavaScript off, the layout check only."""
        if js:
            return check_page(page, name)
        shot(page, name)
        return [] if no_horizontal_scroll(page) else [f"{name}: horizontal overflow"]

    mod = phone(js)
    login(mod, base, h.mod.phone)
    mod.goto(f"{issue}/decisions/new")
    problems += audit(mod, f"decision-new-{tag}")
    mod.fill("#summary", "采纳更换排水泵方案，雨季前完工。")
    mod.fill("#due_on", due_text())
    mod.fill("#budget", "一万八")
    mod.click("#publish-form button")
    mod.wait_for_selector("#budget-err")
    assert "请按元填写金额" in mod.inner_text("#budget-err")
    assert mod.input_value("#budget") == "一万八"
    assert mod.input_value("#summary") == "采纳更换排水泵方案，雨季前完工。"
    mod.fill("#budget", "18000")
    mod.click("#publish-form button")
    mod.wait_for_selector("h1:has-text('更换排水泵并加装挡水板')")
    assert "决议已发布" in mod.inner_text("main") and "公示中" in mod.inner_text("main")
    assert no_horizontal_scroll(mod)

    resident = phone(js)
    login(resident, base, h.rep.phone)
    resident.goto(f"{issue}/decisions/1")
    resident.fill("#objection-text", "施工期间车位怎么安排？")
    resident.click("#objection-form button")
    resident.wait_for_selector("text=异议已提交并公开")
    assert "施工期间车位怎么安排？" in resident.inner_text("#objections")
    problems += audit(resident, f"decision-resident-{tag}")

    mod.goto(f"{issue}/decisions/1")
    problems += audit(mod, f"decision-moderator-{tag}")
    mod.reload()
    mod.fill("#objections textarea[name=answer]", "施工期间可临时停放在地面 C 区。")
    mod.click("#objections form button")
    mod.wait_for_selector("text=答复已公开")
    assert "施工期间可临时停放在地面 C 区。" in mod.inner_text("#objections")

    clock.freeze(decision(live_app, h).publicity_ends_at)
    mod.goto(f"{issue}/decisions/1")
    mod.click("#manage button:has-text('确认生效')")
    mod.wait_for_selector("text=决议已生效")
    assert "已生效" in mod.inner_text("article .meta")
    shot(mod, f"decision-effective-{tag}")

    mod.goto(f"{issue}/decisions/1/correct")
    problems += audit(mod, f"decision-correct-{tag}")
    anonymous = phone(js)
    anonymous.goto(f"{base}/c/{h.community.slug}/decisions/")
    problems += audit(anonymous, f"decisions-list-{tag}")
    anonymous.goto(f"{issue}/decisions/1")
    problems += audit(anonymous, f"decision-public-{tag}")
    assert problems == []
