"""The other archive lists as open data: issues, owners' ballots and statistics as CSV and
JSON, with the same filters as their pages, formulas neutralised, drafts and hidden issues
left out, and conditional requests answered with 304."""
from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest

from civic import clock
from civic.accounts.models import User
from civic.ballots import operations as ops
from civic.extensions import db
from civic.issues.models import Issue
from tests.ballots.conftest import estate, lift, open_now, run  # noqa: F401  (fixtures)


def rows_of(resp) -> list[list[str]]:
    text = resp.get_data(as_text=True)
    assert resp.status_code == 200 and text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


@pytest.fixture
def issues(app, make, make_issue):
    """Three public issues (one titled like a formula, one hidden), and a draft."""
    c = make.community()
    ids = {
        "formula": make_issue(c, title="=HYPERLINK(\"http://x\")电梯", category="加装电梯"),
        "plain": make_issue(c, title="南门路灯不亮"),
        "hidden": make_issue(c, title="被隐藏的议题"),
        "draft": make_issue(c, title="还没提交的草稿", state="draft"),
    }
    with app.test_request_context("/", method="POST"):
        db.session.get(Issue, ids["hidden"][0]).hidden_at = clock.now()
        db.session.commit()
    return c, {k: number for k, (_id, number) in ids.items()}


def test_issues_json_and_csv_leave_out_drafts_and_hidden_issues(client, issues):
    c, n = issues
    data = client.get(f"/c/{c.slug}/issues.json").get_json()
    assert [i["number"] for i in data["issues"]] == [n["plain"], n["formula"]]
    assert {i["state"] for i in data["issues"]} == {"collecting"}
    header, *rows = rows_of(client.get(f"/c/{c.slug}/issues.csv"))
    assert header[:3] == ["议题编号", "议题", "分类"]
    assert [r[0] for r in rows] == [str(n["plain"]), str(n["formula"])]
    assert rows[1][1] == "'=HYPERLINK(\"http://x\")电梯"  # a formula stays text
    body = client.get(f"/c/{c.slug}/issues.csv").get_data(as_text=True)
    assert "草稿" not in body and "被隐藏" not in body


def test_issues_export_takes_the_pages_filters(client, issues):
    c, n = issues
    found = client.get(f"/c/{c.slug}/issues.json?q=电梯").get_json()["issues"]
    assert [i["number"] for i in found] == [n["formula"]]
    by_category = client.get(f"/c/{c.slug}/issues.csv?category=加装电梯")
    assert [r[0] for r in rows_of(by_category)[1:]] == [str(n["formula"])]
    # the page's own garbage rule: an unknown state is ignored, not an error
    assert len(client.get(f"/c/{c.slug}/issues.json?state=nonsense").get_json()["issues"]) == 2


def _counted(app, h):
    """Owner A (3-101, 3-102: 150.50 m²) agrees, owner B (3-201: 89.37 m²) opposes; counted
    at the deadline. Building 3 has 490.00 m² and 4 owners (the developer counts once)."""
    open_now(app, h)

    def vote():
        from civic.ballots.models import Ballot
        b = db.session.get(Ballot, h.ballot_id)
        ops.vote_online(db.session.get(User, h.owner_a.id), b, "yes")
        ops.vote_online(db.session.get(User, h.owner_b.id), b, "no")
    run(app, vote)
    clock.freeze(h.closes_at)
    assert run(app, ops.run_due)["counted"] == 1


def test_ballots_json_has_the_counted_result_and_the_file(app, client, lift):  # noqa: F811
    h = lift
    noticed = client.get(f"/c/{h.community.slug}/ballots.json").get_json()["ballots"]
    assert [(b["number"], b["state"], b["result"]) for b in noticed] == [
        (h.number, "noticed", None)]
    _counted(app, h)
    (b,) = client.get(f"/c/{h.community.slug}/ballots.json").get_json()["ballots"]
    assert b["state"] == "provisional" and b["item"] == 5 and b["file_url"]
    r = b["result"]
    assert (r["total_area"], r["total_heads"]) == ("490.00", 4)
    assert (r["participating_area"], r["participating_heads"]) == ("239.87", 2)
    assert (r["agree_area"], r["agree_heads"], r["oppose_area"]) == ("150.50", 1, "89.37")
    # 150.50/239.87 of the area agreed: more than half of the participants, by area
    assert Decimal(r["agree_area_ratio"]) == round(Decimal("150.50") / Decimal("239.87"), 6)
    assert b["passed"] is False  # 1 of 2 heads is not more than half
    assert client.get(b["file_url"]).status_code == 200
    header, row = rows_of(client.get(f"/c/{h.community.slug}/ballots.csv"))
    assert row[header.index("参与表决面积")] == "239.87"
    assert row[header.index("是否通过")] == "未通过"
    body = client.get(f"/c/{h.community.slug}/ballots.json").get_data(as_text=True)
    for owner in ("甲", "乙", "丙", "丁"):  # roster names never appear, only pseudonyms
        assert owner not in body


def test_stats_json_and_csv_agree(app, client, issues):
    c, _n = issues
    data = client.get(f"/c/{c.slug}/stats.json").get_json()
    assert data["figures"]["issues"] == 2  # the draft and the hidden issue are not counted
    header, *rows = rows_of(client.get(f"/c/{c.slug}/stats.csv"))
    assert header == ["范围", "指标", "数值", "分子", "分母"]
    by_name = {r[1]: r for r in rows}
    assert by_name["议题数"][2] == "2" and by_name["议题数"][0] == "全部年份"
    rate = data["figures"]["response_rate"]
    assert by_name["响应率"][3:] == [str(rate["numerator"]), str(rate["denominator"])]
    year = client.get(f"/c/{c.slug}/stats.csv?year=2020")
    assert "attachment; filename=" in year.headers["Content-Disposition"]
    assert "-stats-2020.csv" in year.headers["Content-Disposition"]
    assert rows_of(year)[1][0] == "2020" and rows_of(year)[1][2] == "0"


@pytest.mark.parametrize("path", ["issues.json", "issues.csv", "ballots.json", "ballots.csv",
                                  "stats.json", "stats.csv"])
def test_conditional_requests_get_304(client, issues, path):
    c, _n = issues
    url = f"/c/{c.slug}/{path}"
    first = client.get(url)
    assert first.status_code == 200
    assert first.headers["Cache-Control"].startswith("public")
    assert "stale-while-revalidate" in first.headers["Cache-Control"]
    again = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.get_data() == b""


def test_a_new_issue_changes_the_export(client, issues, make_issue):
    c, _n = issues
    url = f"/c/{c.slug}/issues.json"
    etag = client.get(url).headers["ETag"]
    make_issue(c, title="新的议题")
    assert client.get(url, headers={"If-None-Match": etag}).status_code == 200
