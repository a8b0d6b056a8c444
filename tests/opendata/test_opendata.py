"""Open data without an account: decisions and expenses as CSV and JSON, an Atom feed; CSV
injection neutralised; cache headers and 304 on conditional requests; nothing hidden and no
personal data in any of it."""
from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET

import pytest
from sqlalchemy import select

from civic.extensions import db
from civic.implementation import operations as work
from civic.implementation.models import Expense
from civic.issues.models import Issue
from tests.conftest import jpeg_bytes
from tests.decisions.helpers import run
from tests.implementation.conftest import U, make_effective, the_issue, today

ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def ledger(app, hall):
    """An effective decision (public income) with a payee written as a spreadsheet formula,
    a reversal, and a second payment."""
    h = make_effective(app, hall, funding="public_income")

    def book(amount, payee, purpose):
        return work.add_expense(U(h.prop), the_issue(h), spent_on=today(), amount_fen=amount,
                                payee=payee, purpose=purpose, receipts=[jpeg_bytes()]).id

    first = run(app, lambda: book(1_000_000, '=HYPERLINK("http://evil.example","点我")',
                                  "+1 水泵采购"))
    run(app, lambda: work.reverse_expense(U(h.prop), db.session.get(Expense, first),
                                          "@收款方填错"))
    run(app, lambda: book(250_050, "某某水泵公司", "-安装调试"))
    return h


def rows_of(resp) -> list[list[str]]:
    text = resp.get_data(as_text=True)
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def test_expenses_csv_neutralises_formulas_and_keeps_numbers(client, ledger):
    h = ledger
    resp = client.get(f"/c/{h.community.slug}/expenses.csv")
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in resp.headers["Content-Disposition"]
    header, *rows = rows_of(resp)
    assert header[:5] == ["议题编号", "议题", "支出编号", "支付日期", "金额（元）"]
    assert [r[4] for r in rows] == ["10000.00", "-10000.00", "2500.50"]
    cells = [cell for r in rows for cell in r]
    assert '\'=HYPERLINK("http://evil.example","点我")' in cells
    assert "'+1 水泵采购" in cells and "'-安装调试" in cells and "'@收款方填错" in cells
    assert not any(c.startswith(("=", "+", "@")) for c in cells)
    assert not any(c.startswith("-") and not c[1:2].isdigit() for c in cells)


def test_expenses_json_has_the_ledger_with_status_and_links(client, ledger):
    h = ledger
    data = client.get(f"/c/{h.community.slug}/expenses.json").get_json()
    entries = data["expenses"]
    assert [(e["number"], e["amount_fen"], e["reverses"]) for e in entries] == [
        (1, 1_000_000, None), (2, -1_000_000, 1), (3, 250_050, None)]
    assert {e["status"] for e in entries} == {"counted"}
    assert entries[2]["url"].endswith(f"/c/{h.community.slug}/issues/{h.number}/implementation#expense-3")
    # the raw text is kept in JSON: only CSV needs neutralising
    assert entries[0]["payee"].startswith("=HYPERLINK")


def test_decisions_csv_json_and_atom(client, ledger):
    h = ledger
    slug = h.community.slug
    data = client.get(f"/c/{slug}/decisions.json").get_json()
    (d,) = data["decisions"]
    assert (d["issue"], d["version"], d["state"], d["budget_fen"]) == (h.number, 1, "effective",
                                                                        1_800_000)
    assert len(d["content_hash"]) == 64
    header, *rows = rows_of(client.get(f"/c/{slug}/decisions.csv"))
    assert rows[0][0] == str(h.number) and rows[0][9] == "18000.00" and rows[0][5] == "已生效"
    resp = client.get(f"/c/{slug}/decisions.atom")
    assert resp.headers["Content-Type"] == "application/atom+xml; charset=utf-8"
    feed = ET.fromstring(resp.get_data())
    entries = feed.findall(f"{ATOM}entry")
    assert len(entries) == 1
    assert entries[0].find(f"{ATOM}link").get("href") == d["url"]
    assert entries[0].find(f"{ATOM}title").text == f"议题 #{h.number}：{d['title']}"
    assert feed.find(f"{ATOM}updated").text


@pytest.mark.parametrize("path", ["decisions.json", "decisions.csv", "decisions.atom",
                                  "expenses.json", "expenses.csv"])
def test_conditional_requests_get_304(client, ledger, path):
    url = f"/c/{ledger.community.slug}/{path}"
    first = client.get(url)
    assert first.status_code == 200
    assert "stale-while-revalidate" in first.headers["Cache-Control"]
    assert first.headers["Cache-Control"].startswith("public")
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b""
    since = client.get(url, headers={"If-Modified-Since": modified})
    assert since.status_code == 304
    changed = client.get(url, headers={"If-None-Match": '"something-else"'})
    assert changed.status_code == 200


def test_a_new_entry_changes_the_etag(app, client, ledger):
    h = ledger
    url = f"/c/{h.community.slug}/expenses.csv"
    etag = client.get(url).headers["ETag"]
    run(app, lambda: work.add_expense(U(h.prop), the_issue(h), spent_on=today(), amount_fen=100,
                                      payee="五金店", purpose="螺丝", receipts=[jpeg_bytes()]))
    assert client.get(url, headers={"If-None-Match": etag}).status_code == 200


def test_hidden_issues_and_personal_data_stay_out(app, client, make, ledger):
    h = ledger
    slug = h.community.slug
    with app.test_request_context("/", method="POST"):
        from civic import clock
        issue = db.session.scalar(select(Issue).where(Issue.id == h.issue_id))
        issue.hidden_at = clock.now()
        db.session.commit()
    for path in ("decisions.json", "expenses.json"):
        data = client.get(f"/c/{slug}/{path}").get_json()
        assert data[path.split(".")[0]] == []
    with app.test_request_context("/", method="POST"):
        db.session.get(Issue, h.issue_id).hidden_at = None
        db.session.commit()
    with app.app_context():
        from civic.accounts.models import User
        people = [db.session.get(User, p.id) for p in (h.mod, h.assoc, h.prop, h.rep)]
        secrets = [p.phone for p in people] + [p.display_name for p in people if p.display_name]
    for path in ("decisions.json", "decisions.csv", "decisions.atom", "expenses.json",
                 "expenses.csv"):
        body = client.get(f"/c/{slug}/{path}").get_data(as_text=True)
        assert not any(s in body for s in secrets), path


def test_unknown_community_is_404(client):
    for path in ("decisions.json", "expenses.csv", "decisions.atom"):
        assert client.get(f"/c/nowhere/{path}").status_code == 404


def test_json_is_parseable_and_utf8(client, ledger):
    resp = client.get(f"/c/{ledger.community.slug}/decisions.json")
    assert resp.mimetype == "application/json"
    assert json.loads(resp.get_data().decode("utf-8"))["community"] == ledger.community.slug
