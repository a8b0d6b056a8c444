"""The statistics pages in a real browser at phone size: no axe violations, and at 360 px
the charts scale down and nothing scrolls sideways (also with a long category name)."""
from __future__ import annotations

from datetime import date
from urllib.parse import quote

import pytest

from tests.archive.test_stats import DISTRICT, Book, at, build_garden
from tests.browser.conftest import browser, phone  # noqa: F401  (fixtures)
from tests.browser.conftest import live_app  # noqa: F401
from tests.browser.test_accessibility import check_page

pytestmark = pytest.mark.browser


def test_the_statistics_pages_fit_a_phone(live_app, make, phone):  # noqa: F811
    build_garden(live_app, make)
    k = Book(live_app, make, make.community(slug="long", name="一个名字很长很长的小区",
                                            district=DISTRICT))
    iid = k.issue("in_progress", category="地下车库排水泵与挡水板更换", threshold=at(2026, 3, 1),
                  triage="accepted", decided=1)
    k.expense(iid, k.decision(iid, at(2026, 3, 10)), date(2026, 4, 1), 123_456_789,
              "public_income")
    base = live_app.config["LIVE_URL"]
    page = phone(True)
    problems: list[str] = []
    for path, name in [("/c/garden/stats", "stats-community"),
                       ("/c/garden/stats?year=2025", "stats-community-2025"),
                       ("/c/long/stats", "stats-long-category"),
                       (f"/streets/{quote(DISTRICT)}/stats", "stats-street")]:
        assert page.goto(base + path).status == 200, path
        problems.extend(check_page(page, name))
        width = page.evaluate("Math.max(...[...document.querySelectorAll('svg.chart')]"
                              ".map(s => s.getBoundingClientRect().width))")
        assert 0 < width <= page.viewport_size["width"], (path, width)
    assert not problems, "\n".join(problems)
    # the year filter works without JavaScript
    plain = phone(False)
    plain.goto(base + "/c/garden/stats")
    plain.select_option("#year", "2025")
    plain.click("form.year-filter button")
    plain.wait_for_load_state()
    assert plain.url.endswith("/c/garden/stats?year=2025")
    assert "2025 年达到联署门槛的议题 1 个" in plain.inner_text("main")
