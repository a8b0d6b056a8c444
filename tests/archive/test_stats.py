"""The statistics pages (统计), proved on a hand-built data set with known answers.

The rows are written straight into the tables (inserting is all the append-only decision
and ledger tables allow, and all a statistic needs); the dates need not tell a plausible
story, only the arithmetic one.
"""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from fractions import Fraction
from types import SimpleNamespace
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest

from civic import clock
from civic.archive import charts, stats
from civic.consultation.models import Consultation, FundingSource, Round
from civic.consultation.rules import Body, Rule
from civic.decisions.models import Decision, DecisionState, Outcome as DecisionOutcome
from civic.extensions import db
from civic.implementation.models import Expense, ExpenseReview, Rating, Score
from civic.issues.models import Issue, IssueState
from civic.triage.models import Outcome, Triage

LOCAL = ZoneInfo("Asia/Shanghai")
DISTRICT = "浦东新区花木街道"


def at(y, m, d, h=10, minute=0) -> datetime:
    """A local (Beijing) time."""
    return datetime(y, m, d, h, minute, tzinfo=LOCAL)


NOW = at(2026, 6, 30, 12)
S, B, U = Score.SATISFIED, Score.BASIC, Score.UNSATISFIED


class Book:
    """Writes issues, triage, decisions, ledger entries and ratings of one community."""

    def __init__(self, app, make, community):
        self.app, self.make, self.c = app, make, community
        self.user = make.user()
        self.units = []
        self.number = 0
        self.expense_numbers: dict[int, int] = {}

    def _add(self, *rows):
        with self.app.app_context():
            for row in rows:
                db.session.add(row)
                db.session.flush()
            ids = [row.id if hasattr(row, "id") else None for row in rows]
            db.session.commit()
        return ids[-1]

    def issue(self, state: str, *, category="设施维修", threshold=None, triage=None,
              decided=None, completed=None, hidden=False, window=0) -> int:
        """An issue; `triage` an Outcome value, decided after `decided` days (or None)."""
        self.number += 1
        iid = self._add(Issue(
            community_id=self.c.id, number=self.number, title=f"议题{self.number}",
            category=category, author_id=self.user.id, state=IssueState(state),
            threshold_at=threshold, rating_window=window,
            completed_at=threshold + timedelta(days=completed) if completed else None,
            hidden_at=NOW - timedelta(days=1) if hidden else None))
        if triage is not None:
            with self.app.app_context():
                db.session.add(Triage(
                    issue_id=iid, community_id=self.c.id, outcome=Outcome(triage),
                    decided_at=threshold + timedelta(days=decided) if decided is not None
                    else None))
                db.session.commit()
        return iid

    def decision(self, iid: int, published_at: datetime, version: int = 1,
                 funding: str = "public_income") -> int:
        with self.app.app_context():
            cons = db.session.query(Consultation).filter_by(issue_id=iid).one_or_none()
            if cons is None:
                cons = Consultation(issue_id=iid, community_id=self.c.id)
                db.session.add(cons)
                db.session.flush()
                rnd = Round(consultation_id=cons.id, community_id=self.c.id, number=1,
                            agenda="如何处理", starts_at=published_at - timedelta(days=2),
                            closes_at=published_at - timedelta(days=1))
                db.session.add(rnd)
                db.session.flush()
            rnd = db.session.query(Round).filter_by(consultation_id=cons.id).one()
            d = Decision(community_id=self.c.id, issue_id=iid, consultation_id=cons.id,
                         round_id=rnd.id, version=version, outcome=DecisionOutcome.ADOPTED,
                         title="决议", rule=Rule.CONSENSUS, tally="{}", budget_fen=10**7,
                         funding_source=FundingSource(funding), content_hash="0" * 64,
                         published_by_id=self.user.id, state=DecisionState.EFFECTIVE,
                         published_at=published_at)
            db.session.add(d)
            db.session.commit()
            return d.id

    def expense(self, iid: int, did: int, spent_on: date, fen: int, funding: str, *,
                reverses: int | None = None, approved: bool | None = None) -> int:
        n = self.expense_numbers[iid] = self.expense_numbers.get(iid, 0) + 1
        eid = self._add(Expense(
            community_id=self.c.id, issue_id=iid, decision_id=did, number=n,
            spent_on=spent_on, amount_fen=fen, payee="某某公司", purpose="施工",
            funding_source=FundingSource(funding), reverses_id=reverses,
            reason="录错了" if reverses else "", body=Body.PROPERTY, created_by_id=self.user.id))
        if approved is not None:
            self._add(ExpenseReview(expense_id=eid, approved=approved, reviewer_id=self.user.id))
        return eid

    def ratings(self, iid: int, window: int, scores: list[Score]) -> None:
        while len(self.units) < len(scores):
            self.units.append(self.make.unit(self.c))
        with self.app.app_context():
            for unit, score in zip(self.units, scores):
                db.session.add(Rating(community_id=self.c.id, issue_id=iid, window_no=window,
                                      unit_id=unit.id, user_id=self.user.id,
                                      resolved=score is not U, score=score))
            db.session.commit()


def build_garden(app, make, slug="garden", name="花园小区", district=DISTRICT):
    """The main data set. All years: 8 public issues, 7 reached; 响应率 5/6 (I7 not due
    yet, I6 late), 解决率 1/4, 满意率 4/6; medians 1.25 / 15 / 40 days."""
    c = make.community(slug=slug, name=name, district=district)
    k = Book(app, make, c)
    # I1 (2025): accepted after 1 day, decided after 10, completed after 40; rated twice
    i1 = k.issue("completed", threshold=at(2025, 11, 1), triage="accepted", decided=1,
                 completed=40, window=2)
    d1 = k.decision(i1, at(2025, 11, 11), funding="maintenance_fund")
    k.ratings(i1, 1, [U, U, S])
    k.ratings(i1, 2, [S, S, B])
    k.expense(i1, d1, date(2025, 11, 20), 100_000, "maintenance_fund", approved=True)
    pending = k.expense(i1, d1, date(2025, 11, 25), 50_000, "maintenance_fund")
    k.expense(i1, d1, date(2025, 11, 27), -50_000, "maintenance_fund", reverses=pending)
    k.expense(i1, d1, date(2025, 11, 26), 30_000, "maintenance_fund", approved=False)
    # I2–I7 (2026)
    i2 = k.issue("in_progress", category="绿化", threshold=at(2026, 3, 5), triage="accepted",
                 decided=0.5)
    d2 = k.decision(i2, at(2026, 3, 25))
    k.decision(i2, at(2026, 4, 4), version=2)
    k.expense(i2, d2, date(2026, 4, 1), 20_000, "public_income")
    wrong = k.expense(i2, d2, date(2026, 4, 2), 7_000, "public_income")
    k.expense(i2, d2, date(2026, 4, 3), -7_000, "public_income", reverses=wrong)
    i3 = k.issue("decided", category="停车", threshold=at(2026, 4, 1), triage="accepted",
                 decided=1.5)
    d3 = k.decision(i3, at(2026, 4, 16), funding="autonomy_fund")
    k.expense(i3, d3, date(2026, 5, 20), 12_345, "autonomy_fund")
    k.issue("accepted", threshold=at(2026, 4, 10), triage="accepted", decided=2)
    k.issue("declined", category="噪音", threshold=at(2026, 5, 1), triage="declined", decided=1)
    k.issue("referred", category="安全", threshold=at(2026, 5, 10), triage="referred",
            decided=5)                                        # late: due after 3 local days
    k.issue("awaiting_triage", threshold=at(2026, 6, 29, 12), triage="pending")  # not yet due
    k.issue("collecting")                                     # never reached
    # excluded: a hidden issue (late, completed, unsatisfied, money) and a draft
    h = k.issue("completed", threshold=at(2026, 3, 1), triage="accepted", decided=10,
                completed=20, hidden=True, window=1)
    dh = k.decision(h, at(2026, 3, 13))
    k.ratings(h, 1, [U, U])
    k.expense(h, dh, date(2026, 3, 25), 99_900, "public_income")
    k.issue("draft", threshold=at(2026, 2, 1), triage="declined", decided=9)
    return SimpleNamespace(community=c, book=k)


def report(app, communities, year=None):
    with app.test_request_context("/"):
        return stats.report(communities, year, now=NOW)


# --- the arithmetic -------------------------------------------------------------------------

def test_rates_and_medians_over_all_years(app, make):
    g = build_garden(app, make)
    f = report(app, [g.community]).total
    assert (f.issues, f.reached) == (8, 7)
    assert f.response == stats.Rate(5, 6) and f.response.value == Fraction(5, 6)
    assert str(f.response) == "83.3%（5/6）"
    assert f.resolution == stats.Rate(1, 4) and str(f.resolution) == "25.0%（1/4）"
    assert f.satisfaction == stats.Rate(4, 6) and str(f.satisfaction) == "66.7%（4/6）"
    assert f.scores == {S: 3, B: 1, U: 2}
    # triage: 1, .5, 1.5, 2, 1, 5 days (even count): (1 + 1.5) / 2, rounded half up
    assert f.to_triage == stats.Median(Fraction(5, 4), 6) and f.to_triage.days == "1.3"
    # first decisions: 10, 20 (v1; v2 came at 30), 15 days (odd count)
    assert f.to_decision == stats.Median(Fraction(15), 3) and f.to_decision.days == "15.0"
    assert f.to_completion == stats.Median(Fraction(40), 1) and str(f.to_completion) == "40.0"


def test_a_year_counts_the_issues_that_reached_their_threshold_in_it(app, make):
    g = build_garden(app, make)
    r = report(app, [g.community], 2025)
    assert r.years == [2026, 2025]
    f = r.total
    assert (f.issues, f.reached) == (1, 1)
    assert (f.response, f.resolution, f.satisfaction) == (
        stats.Rate(1, 1), stats.Rate(1, 1), stats.Rate(4, 6))
    assert (f.to_triage.days, f.to_decision.days, f.to_completion.days) == ("1.0", "10.0", "40.0")
    assert r.spending.by_source == {2025: {FundingSource.MAINTENANCE_FUND: 100_000}}
    f = report(app, [g.community], 2026).total
    assert (f.issues, f.reached) == (6, 6)
    assert (f.response, f.resolution, f.satisfaction) == (
        stats.Rate(4, 5), stats.Rate(0, 3), stats.Rate(0, 0))
    assert str(f.satisfaction) == "—" and str(f.resolution) == "0.0%（0/3）"
    assert f.to_triage.days == "1.5"             # .5, 1.5, 2, 1, 5: odd count
    assert f.to_decision.days == "17.5" and f.to_completion.days == "—"
    empty = report(app, [g.community], 2019).total
    assert (empty.issues, str(empty.response), empty.to_triage.days) == (0, "—", "—")


def test_the_year_is_the_local_year_and_an_overdue_undecided_issue_counts_as_late(app, make):
    c = make.community()
    k = Book(app, make, c)
    # 2026-01-01 00:30 in Beijing is still 2025 in UTC
    k.issue("accepted", threshold=at(2026, 1, 1, 0, 30), triage="accepted", decided=1)
    k.issue("awaiting_triage", threshold=at(2025, 12, 31, 23, 30))   # long overdue, undecided
    r = report(app, [c])
    assert r.years == [2026, 2025]
    assert report(app, [c], 2026).total.response == stats.Rate(1, 1)
    assert report(app, [c], 2025).total.response == stats.Rate(0, 1)
    assert r.total.response == stats.Rate(1, 2)


def test_spending_counts_only_standing_entries_by_source_and_category(app, make):
    g = build_garden(app, make)
    s = report(app, [g.community]).spending
    # the unapproved and the refused maintenance-fund entries are out (and so is the
    # reversal of the unapproved one); 7,000 and its reversal net out; the hidden issue's
    # money is out
    assert s.by_source == {2025: {FundingSource.MAINTENANCE_FUND: 100_000},
                           2026: {FundingSource.PUBLIC_INCOME: 20_000,
                                  FundingSource.AUTONOMY_FUND: 12_345}}
    assert s.by_category == {2025: {"设施维修": 100_000}, 2026: {"绿化": 20_000, "停车": 12_345}}
    assert s.total == 132_345 and s.years == [2026, 2025]
    assert s.categories == ["设施维修", "绿化", "停车"]
    assert s.sources == [FundingSource.MAINTENANCE_FUND, FundingSource.PUBLIC_INCOME,
                         FundingSource.AUTONOMY_FUND]
    assert report(app, [g.community], 2026).spending.total == 32_345


def test_exact_rounding_and_parsing():
    assert str(stats.Rate(1, 8)) == "12.5%（1/8）" and str(stats.Rate(2, 3)) == "66.7%（2/3）"
    assert str(stats.Rate(1, 3)) == "33.3%（1/3）" and str(stats.Rate(0, 0)) == "—"
    assert stats.Median.of([Fraction(1, 20), Fraction(3, 20)]).days == "0.1"   # .1 exactly
    assert stats.Median.of([Fraction(1, 4)]).days == "0.3"
    assert stats.days_between(at(2026, 1, 1), at(2026, 1, 2, 22)) == Fraction(3, 2)
    assert [stats.parse_year(v) for v in ("2026", " 2025 ", "", None, "26", "２０２６",
                                          "1999", "2026; --", "99999")] == [
        2026, 2025, None, None, None, None, None, None, None]


def test_the_query_count_does_not_grow_with_the_issues(app, client, make, count_queries):
    def community_with(n: int):
        c = make.community()
        k = Book(app, make, c)
        for i in range(n):
            iid = k.issue("completed", category=f"分类{i % 4}", threshold=at(2026, 3, 1 + i),
                          triage="accepted", decided=1, completed=30, window=1)
            did = k.decision(iid, at(2026, 3, 10 + i), funding="maintenance_fund")
            k.expense(iid, did, date(2026, 4, 1), 1_000 + i, "maintenance_fund", approved=True)
            k.ratings(iid, 1, [S, U])
        return c
    few, many = community_with(3), community_with(12)
    clock.freeze(NOW)
    with count_queries() as q3:
        assert client.get(f"/c/{few.slug}/stats").status_code == 200
    with count_queries() as q12:
        html = client.get(f"/c/{many.slug}/stats").get_data(as_text=True)
    assert "50.0%（12/24）" in html
    assert q3.count == q12.count, q12.statements
    assert q3.count <= 6, q3.statements


# --- the pages -------------------------------------------------------------------------------

def _text(html: str) -> str:
    return re.sub(r"<[^>]+>", "", html)


def test_the_community_page_is_public_and_shows_the_numbers(app, client, make):
    g = build_garden(app, make)
    clock.freeze(NOW)
    resp = client.get("/c/garden/stats")
    assert resp.status_code == 200
    assert resp.headers["Cache-Control"] == "public, max-age=30, stale-while-revalidate=300"
    assert "Cookie" in resp.headers["Vary"]
    again = client.get("/c/garden/stats", headers={"If-None-Match": resp.headers["ETag"]})
    assert again.status_code == 304        # civic.caching answers a revalidation with 304
    html = resp.get_data(as_text=True)
    text = _text(html)
    for shown in ("83.3%（5/6）", "25.0%（1/4）", "66.7%（4/6）", "1.3 天", "15.0 天",
                  "40.0 天", "¥1,323.45", "¥1,000.00", "¥200.00", "¥123.45", "口径说明",
                  "公开议题 8 个，其中 7 个达到联署门槛", "专项维修资金", "自治金", "绿化"):
        assert shown in text, shown
    assert "¥999.00" not in text and "¥300.00" not in text and "¥500.00" not in text
    assert html.count('role="img"') == 3 and 'viewBox="0 0 320' in html
    assert "style=" not in html and "<script>" not in html
    assert '<option value="2026">2026 年</option>' in html
    assert f'href="/streets/{quote(DISTRICT)}/stats"' in html
    year = _text(client.get("/c/garden/stats?year=2025").get_data(as_text=True))
    assert "100.0%（1/1）" in year and "2025 年达到联署门槛的议题 1 个" in year
    assert "¥200.00" not in year and "¥1,000.00" in year
    junk = client.get("/c/garden/stats?year=%27%3B--").get_data(as_text=True)
    assert "83.3%（5/6）" in _text(junk)
    assert client.get("/c/nowhere/stats").status_code == 404


def test_a_signed_in_visitor_gets_a_private_response(app, client, make, auth):
    g = build_garden(app, make)
    hx = client.get("/c/garden/stats", headers={"HX-Request": "true"})
    assert hx.status_code == 200 and "public" not in hx.headers["Cache-Control"]
    auth.login(make.resident(g.community))
    resp = client.get("/c/garden/stats")
    assert resp.status_code == 200 and resp.headers["Cache-Control"].startswith("private")
    assert "public" not in resp.headers["Cache-Control"]


def test_category_names_are_escaped_in_the_charts(app, client, make):
    c = make.community(slug="esc")
    k = Book(app, make, c)
    iid = k.issue("in_progress", category="<script>x</script>", threshold=at(2026, 3, 1),
                  triage="accepted", decided=1)
    did = k.decision(iid, at(2026, 3, 10))
    k.expense(iid, did, date(2026, 4, 1), 5_000, "public_income")
    html = client.get("/c/esc/stats").get_data(as_text=True)
    assert "<script>x" not in html
    assert html.count("&lt;script&gt;x&lt;/script&gt;") >= 3   # chart label, tooltip, table


def test_the_bar_chart_escapes_scales_and_shortens():
    svg = charts.bar_chart('A "quoted" <title>', [
        charts.Bar("<script>alert(1)</script>", 3, "¥3.00"),
        charts.Bar("很长的分类名称" * 4, 6, "¥6.00"),
        charts.Bar("负数", -2, "-¥2.00")])
    assert "<script>" not in svg and "&lt;script&gt;alert(1)&lt;/script&gt;" in svg
    assert 'aria-label="A &#34;quoted&#34; &lt;title&gt;"' in svg
    assert svg.startswith("<svg") and 'role="img"' in svg and 'width="100%"' in svg
    assert 'viewBox="0 0 320 130"' in svg and "style=" not in svg
    bars = re.findall(r'class="chart-bar" x="0" y="\d+" width="([\d.]+)"', svg)
    assert bars == ["160", "320"]                      # the negative value draws no bar
    assert "…</text>" in svg and f"<title>{'很长的分类名称' * 4}：¥6.00</title>" in svg


def test_the_street_page_adds_up_its_communities(app, client, make):
    build_garden(app, make)
    other = make.community(slug="pine", name="松林苑", district=DISTRICT)
    k = Book(app, make, other)
    iid = k.issue("completed", threshold=at(2026, 2, 1), triage="accepted", decided=2,
                  completed=10, window=1)
    did = k.decision(iid, at(2026, 2, 5))
    k.ratings(iid, 1, [S])
    k.expense(iid, did, date(2026, 2, 8), 5_000, "public_income")
    elsewhere = make.community(slug="far", name="远方小区", district="浦东新区塘桥街道")
    Book(app, make, elsewhere).issue("declined", threshold=at(2026, 2, 1), triage="declined",
                                     decided=9)
    r = report(app, [g for g in _district(app)])
    assert (r.total.response, r.total.resolution, r.total.satisfaction) == (
        stats.Rate(6, 7), stats.Rate(2, 5), stats.Rate(5, 7))
    assert r.total.issues == 9 and r.spending.total == 137_345
    clock.freeze(NOW)
    resp = client.get(f"/streets/{quote(DISTRICT)}/stats")
    assert resp.status_code == 200
    assert resp.headers["Cache-Control"] == "public, max-age=30, stale-while-revalidate=300"
    html = resp.get_data(as_text=True)
    text = _text(html)
    for shown in ("85.7%（6/7）", "40.0%（2/5）", "71.4%（5/7）", "¥1,373.45", "花园小区",
                  "松林苑", DISTRICT):
        assert shown in text, shown
    assert "远方小区" not in text
    assert 'href="/c/garden/stats"' in html and 'href="/c/pine/stats"' in html
    row = re.search(r'<tr id="community-pine">.*?</tr>', html).group(0)
    assert "100.0%（1/1）" in _text(row) and _text(row).endswith("1")
    assert html.count('role="img"') == 6            # rates, 2 spending, 3 comparisons
    assert "2026 年" in client.get(f"/streets/{quote(DISTRICT)}/stats?year=2026").get_data(
        as_text=True)
    assert client.get(f"/streets/{quote('不存在街道')}/stats").status_code == 404
    assert client.get("/streets/%E6%B5%A6/stats").status_code == 404


def _district(app):
    from civic.communities.models import Community
    with app.app_context():
        rows = db.session.query(Community).filter_by(district=DISTRICT).all()
        for row in rows:
            db.session.expunge(row)
        return rows


@pytest.mark.parametrize("path", ["/c/garden/stats", f"/streets/{quote(DISTRICT)}/stats"])
def test_pages_fit_a_narrow_screen(app, client, make, path):
    """No fixed widths: charts scale (viewBox, width 100%); tables sit in scroll regions."""
    build_garden(app, make)
    html = client.get(path).get_data(as_text=True)
    for svg in re.findall(r"<svg[^>]*>", html):
        assert 'width="100%"' in svg and "viewBox" in svg and "height=" not in svg
    assert all("table-wrap" in before[-200:] for before in html.split("<table")[:-1])
