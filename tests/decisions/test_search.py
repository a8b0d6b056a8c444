"""Finding a decision in the public archive: typing 电梯 finds last year's lift decision;
filters by state, category, year (Shanghai time), funding source and building; the CSV and
JSON downloads of a filtered list hold the same decisions; hidden issues' text is never
searched."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import update

from civic.decisions.models import Decision
from civic.extensions import db
from civic.issues.models import Issue
from tests.archive.test_stats import Book, at


@pytest.fixture
def archive(app, make):
    c = make.community()
    b1, b2 = make.building(c, "1号楼"), make.building(c, "2号楼")
    book = Book(app, make, c)
    made = {}
    for key, category, building, published, funding, title, body in [
        ("lift", "加装电梯", b1, at(2025, 8, 1), "maintenance_fund", "1号楼加装电梯方案",
         "老人上下楼困难"),
        ("wall", "设施维修", b2, at(2026, 3, 1), "public_income", "2号楼外墙渗水维修",
         "西墙渗水"),
        ("lamp", "安全", None, at(2026, 1, 1, 0, 30), "public_income", "北侧路灯更换",
         "晚上很黑，电梯厅也暗"),
        ("secret", "设施维修", b1, at(2026, 4, 1), "public_income", "屋顶维修",
         "电梯机房漏水（已隐藏的议题）"),
    ]:
        iid = book.issue("decided", category=category, threshold=published)
        with app.app_context():
            db.session.execute(update(Issue).where(Issue.id == iid).values(
                title=title, body=body, building_id=building.id if building else None))
            db.session.commit()
        did = book.decision(iid, published, funding=funding)
        with app.app_context():
            db.session.execute(update(Decision).where(Decision.id == did).values(
                state=Decision.state))  # lifecycle columns only; content is fixed
            db.session.commit()
        made[key] = (iid, did)
    with app.app_context():
        db.session.execute(update(Issue).where(Issue.id == made["secret"][0])
                           .values(hidden_at=at(2026, 5, 1)))
        db.session.commit()
    return c, made, (b1, b2)


def listed(client, c, **args) -> list[str]:
    """The issue titles the decisions page lists for these query arguments."""
    html = client.get(f"/c/{c.slug}/decisions/", query_string=args).get_data(as_text=True)
    return re.findall(r'<span hx-disable>([^<]+)</span>', html)


def test_typing_lift_finds_last_years_lift_decision(client, archive):
    c, made, _ = archive
    assert listed(client, c, q="电梯") == ["北侧路灯更换", "1号楼加装电梯方案"]
    assert listed(client, c, q="电梯 老人") == ["1号楼加装电梯方案"]
    assert listed(client, c, q="电梯", year="2025") == ["1号楼加装电梯方案"]
    assert listed(client, c, q="没有这个词") == []


def test_search_does_not_read_hidden_issues(client, archive):
    c, made, _ = archive
    assert "屋顶维修" not in listed(client, c, q="机房")


def test_search_text_is_literal(client, archive):
    c, *_ = archive
    assert listed(client, c, q="%") == [] and listed(client, c, q="_") == []


def test_filters(client, archive):
    c, made, (b1, b2) = archive
    assert listed(client, c, category="安全") == ["北侧路灯更换"]
    assert listed(client, c, funding="maintenance_fund") == ["1号楼加装电梯方案"]
    assert listed(client, c, building=str(b2.id)) == ["2号楼外墙渗水维修"]
    # 00:30 on 1 January in Shanghai is still the old year in UTC: it belongs to 2026
    assert sorted(listed(client, c, year="2026")) == ["2号楼外墙渗水维修", "北侧路灯更换"]
    assert listed(client, c, state="withdrawn") == []


def test_unknown_filter_values_are_ignored(client, archive):
    c, *_ = archive
    everything = listed(client, c)
    assert listed(client, c, category="不存在") == []
    for args in ({"year": "abc"}, {"funding": "x"},
                 {"building": "999999"}, {"state": "nope"}, {"page": "-1"}):
        assert listed(client, c, **args) == everything


def test_the_form_keeps_what_was_asked(client, archive):
    c, made, (b1, b2) = archive
    html = client.get(f"/c/{c.slug}/decisions/",
                      query_string={"q": "电梯", "year": "2025"}).get_data(as_text=True)
    assert 'value="电梯"' in html and '<option value="2025" selected' in html
    assert f"/c/{c.slug}/decisions.csv?q=" in html  # downloads keep the filter


def test_downloads_hold_the_filtered_list(client, archive):
    c, *_ = archive
    data = client.get(f"/c/{c.slug}/decisions.json", query_string={"q": "电梯"}).get_json()
    assert [d["issue_title"] for d in data["decisions"]] == ["北侧路灯更换", "1号楼加装电梯方案"]
    csv_text = client.get(f"/c/{c.slug}/decisions.csv",
                          query_string={"funding": "maintenance_fund"}).get_data(as_text=True)
    assert "1号楼加装电梯方案" in csv_text and "2号楼外墙渗水维修" not in csv_text
