"""The implementation pages over HTTP: the public ledger and its receipts, booking,
reversing and reviewing expenses, progress updates, the issue panel, the community's
spending totals, privacy and the query budget."""
from __future__ import annotations

import io
import re
import uuid
from datetime import date

import pytest
from sqlalchemy import select

from civic.accounts.models import User
from civic.consultation.models import FundingSource
from civic.consultation.rules import Body
from civic.extensions import db
from civic.implementation import operations as ops
from civic.implementation.models import (Expense, ExpenseReceipt, ExpenseReview, ProgressPhoto,
                                         ProgressUpdate)
from civic.issues.models import IssueState
from tests.conftest import jpeg_bytes
from tests.decisions.helpers import (HX, base, client_for, count, flashes, issue, published,
                                     read, run, text_of)
from tests.implementation.conftest import U, the_issue, today


def _page(h) -> str:
    return f"{base(h)}/implementation"


def _files(n: int = 1) -> list:
    return [(io.BytesIO(jpeg_bytes()), f"receipt-{i}.jpg") for i in range(n)]


def _expense(**over) -> dict:
    data = {"spent_on": today().isoformat(), "amount": "3,200.50", "payee": "某某水泵有限公司",
            "purpose": "采购排水泵两台", "idempotency_key": uuid.uuid4().hex}
    data.update(over)
    if "receipts" not in data:
        data["receipts"] = _files()
    return data


def _book(client, h, headers=None, **over):
    return client.post(f"{base(h)}/expenses", data=_expense(**over),
                       content_type="multipart/form-data", headers=headers or {})


def _booked(app, h, who=None, amount=100_000, **kw) -> int:
    """An entry booked through the operation (faster than HTTP), as in test_ledger."""
    return run(app, lambda: ops.add_expense(
        U(who or h.prop), the_issue(h), spent_on=today(), amount_fen=amount,
        payee=kw.get("payee", "某某建材店"), purpose=kw.get("purpose", "挡水板材料"),
        receipts=[jpeg_bytes()]).id)


def _stems(app, model) -> list[str]:
    return read(app, lambda: list(db.session.scalars(select(model.stem).order_by(model.id))))


def _entries(app) -> list[tuple[int, int]]:
    return read(app, lambda: [(e.number, e.amount_fen) for e in db.session.scalars(
        select(Expense).order_by(Expense.number))])


# --- the public page -------------------------------------------------------------------

def test_anyone_reads_the_ledger_and_its_receipts(app, effective_public):
    h = effective_public
    prop = client_for(app, h.prop)
    resp = _book(prop, h)
    assert resp.status_code == 303 and resp.headers["Location"] == _page(h) + "#expense-1"
    anonymous = app.test_client()
    resp = anonymous.get(_page(h))
    html = text_of(resp)
    assert resp.status_code == 200 and "<h1>实施与支出</h1>" in html
    assert f'href="{base(h)}/decisions/1"' in html and "更换排水泵并加装挡水板" in html
    assert "负责实施：<strong>物业</strong>" in html and "公共收益" in html
    assert "批准预算" in html and "¥18,000.00" in html and '<progress class="meter"' in html
    assert 'id="expense-1"' in html and "支出 #1" in html and "¥3,200.50" in html
    assert "某某水泵有限公司" in html and "采购排水泵两台" in html and "已计入" in html
    assert "尚余" in html and "¥14,799.50" in html
    [stem] = _stems(app, ExpenseReceipt)
    full, thumb = f"/c/{h.community.slug}/receipts/{stem}.jpg", \
        f"/c/{h.community.slug}/receipts/{stem}_t.jpg"
    assert f'href="{full}"' in html and f'src="{thumb}"' in html
    # no form of any kind for the public
    for marker in ('id="book"', 'name="reason"', 'name="verdict"', 'id="post-progress"'):
        assert marker not in html
    for url in (full, thumb):
        img = anonymous.get(url)
        assert img.status_code == 200 and img.mimetype == "image/jpeg"
        assert img.headers["Cache-Control"] == "public, max-age=300"
        assert img.headers["X-Content-Type-Options"] == "nosniff"
        assert img.data[:2] == b"\xff\xd8"
    slug = h.community.slug
    for bad in (f"/c/{slug}/receipts/{stem[:-1]}.jpg", f"/c/{slug}/receipts/{'z' * 32}.jpg",
                f"/c/{slug}/receipts/{stem[:-1]}-.jpg", f"/c/{slug}/receipts/..%2f{stem}.jpg",
                f"/c/{slug}/progress-photos/{stem}.jpg", f"/c/nowhere/receipts/{stem}.jpg"):
        assert anonymous.get(bad).status_code == 404, bad


def test_receipts_belong_to_their_community(app, effective_public, make):
    h = effective_public
    _booked(app, h)
    [stem] = _stems(app, ExpenseReceipt)
    other = make.community()
    assert app.test_client().get(f"/c/{other.slug}/receipts/{stem}.jpg").status_code == 404


def test_no_page_before_a_decision_takes_effect(app, hall):
    h = hall
    anonymous = app.test_client()
    assert anonymous.get(_page(h)).status_code == 404
    assert "查看实施与支出" not in text_of(anonymous.get(f"{base(h)}/"))
    published(app, h)  # in its publicity period: nothing to carry out yet
    assert anonymous.get(_page(h)).status_code == 404
    assert 'id="implementation"' not in text_of(anonymous.get(f"{base(h)}/"))
    assert anonymous.get("/c/nowhere/issues/1/implementation").status_code == 404
    assert anonymous.get(f"/c/{h.community.slug}/issues/999/implementation").status_code == 404


def test_staff_posting_before_a_decision_takes_effect_are_told_why(app, hall):
    h = hall
    published(app, h)
    prop = client_for(app, h.prop)
    resp = _book(prop, h)
    assert resp.status_code == 303 and resp.headers["Location"] == f"{base(h)}/"
    assert any("决议生效并通过实施方案后，才能登记支出" in m for m in flashes(prop))
    resp = prop.post(f"{base(h)}/progress", data={"status": "in_progress", "text": "开工"})
    assert resp.status_code == 303
    assert any("才能发布实施进展" in m for m in flashes(prop))
    assert client_for(app, h.rep).post(f"{base(h)}/progress", data={
        "status": "in_progress", "text": "开工"}).status_code == 403
    assert _entries(app) == [] and count(app, ProgressUpdate) == 0


def test_the_ledger_stays_public_while_its_decision_is_being_corrected(app, effective_public):
    from tests.decisions.helpers import due_text
    h = effective_public
    _booked(app, h, amount=250_000)
    resp = client_for(app, h.mod).post(f"{base(h)}/decisions/1/correct", data={
        "note": "期限笔误", "summary": "采纳更换排水泵方案。", "lead": "property",
        "due_on": due_text(50), "budget": "18000", "funding_source": "public_income"})
    assert resp.status_code == 303
    prop = client_for(app, h.prop)
    resp = prop.get(_page(h))
    html = text_of(resp)
    assert resp.status_code == 200 and "支出 #1" in html and "¥2,500.00" in html
    assert "不再生效" in html and f'href="{base(h)}/decisions/1"' in html
    for marker in ('id="book"', 'id="reverse-1"', 'id="post-progress"'):
        assert marker not in html
    panel = text_of(app.test_client().get(f"{base(h)}/"))
    assert "已计入 ¥2,500.00" in panel and "查看实施与支出" in panel
    resp = prop.post(f"{base(h)}/expenses/1/reverse", data={"reason": "退款"})
    assert resp.status_code == 303 and any("决议生效" in m for m in flashes(prop))
    assert _entries(app) == [(1, 250_000)]


def test_a_hidden_issue_is_404_but_to_moderators(app, effective_public):
    from civic.communities.models import Community
    from civic.moderation import operations as mod_ops
    h = effective_public
    _booked(app, h)
    [stem] = _stems(app, ExpenseReceipt)
    receipt = f"/c/{h.community.slug}/receipts/{stem}.jpg"
    run(app, lambda: mod_ops.hide(U(h.mod), db.session.get(Community, h.community.id),
                                  mod_ops.target_of(h.community.id, "issue", h.issue_id),
                                  "重复发布"))
    for client in (app.test_client(), client_for(app, h.rep), client_for(app, h.prop)):
        assert client.get(_page(h)).status_code == 404
        assert client.get(receipt).status_code == 404
        assert client.get(f"/c/{h.community.slug}/receipts/{stem}_t.jpg").status_code == 404
    prop = client_for(app, h.prop)
    assert _book(prop, h).status_code == 404
    mod = client_for(app, h.mod)
    html = text_of(mod.get(_page(h)))
    assert "此议题已隐藏" in html and "支出 #1" in html
    img = mod.get(receipt)
    assert img.status_code == 200 and img.headers["Cache-Control"] == "private, no-store"
    spending = text_of(app.test_client().get(f"/c/{h.community.slug}/spending"))
    assert f"#{h.number}" in spending and "地下车库雨天积水" not in spending
    assert f'href="{_page(h)}"' not in spending


# --- who sees which form ---------------------------------------------------------------

def test_forms_are_shown_only_to_those_allowed(app, effective):
    h = effective   # maintenance fund, led by the property company
    _booked(app, h)
    pages = {name: text_of(client_for(app, getattr(h, name)).get(_page(h)))
             for name in ("prop", "mod", "assoc", "assoc2", "rep", "outsider")}
    pages["anonymous"] = text_of(app.test_client().get(_page(h)))
    for name in ("prop", "mod"):      # the lead body, and the committee keeping the books
        html = pages[name]
        assert 'id="book"' in html and 'enctype="multipart/form-data"' in html
        assert 'type="file"' in html and 'multiple' in html and 'accept="image/*"' in html
        assert f'value="{today().isoformat()}"' in html and 'name="idempotency_key"' in html
        assert 'id="reverse-1"' in html and 'id="post-progress"' in html
        assert 'name="verdict"' not in html
    assert '<option value="completed">已完成</option>' in pages["prop"]
    assert 'value="completed"' not in pages["mod"]       # only the lead body completes
    assert '<option value="not_started">未开始</option>' in pages["mod"]
    for name in ("assoc", "assoc2"):
        html = pages[name]
        assert 'id="review-1"' in html and 'name="verdict" value="approve"' in html
        assert 'id="book"' not in html and 'id="reverse-1"' not in html
        assert 'id="post-progress"' not in html
    for name in ("rep", "outsider", "anonymous"):
        html = pages[name]
        assert "支出 #1" in html and "待业委会审核" in html
        for marker in ('id="book"', 'id="reverse-1"', 'id="review-1"', 'id="post-progress"'):
            assert marker not in html, (name, marker)


def test_an_owners_committee_member_is_not_offered_their_own_entry(app, effective, make):
    h = effective
    both = make.staff(h.community, "association", user=h.mod)
    _booked(app, h, who=both)
    html = text_of(client_for(app, both).get(_page(h)))
    assert 'id="review-1"' not in html and "须由业委会另一位成员审核" in html
    assert 'id="review-1"' in text_of(client_for(app, h.assoc).get(_page(h)))


# --- booking ---------------------------------------------------------------------------

@pytest.mark.parametrize("hx", [False, True], ids=["plain", "htmx"])
def test_booking_through_http(app, effective, hx):
    h = effective
    prop = client_for(app, h.prop)
    key = uuid.uuid4().hex
    for _ in range(2):   # a double tap books once
        resp = _book(prop, h, headers=HX if hx else None, idempotency_key=key,
                     receipts=_files(2))
        if hx:
            assert resp.status_code == 204
            assert resp.headers["HX-Location"] == _page(h) + "#expense-1"
        else:
            assert resp.status_code == 303 and resp.headers["Location"] == _page(h) + "#expense-1"
    assert _entries(app) == [(1, 320_050)]
    assert len(_stems(app, ExpenseReceipt)) == 2
    assert any("已登记支出 #1" in m and "业委会审核" in m for m in flashes(prop))
    html = text_of(app.test_client().get(_page(h)))
    assert "待业委会审核" in html and "¥3,200.50" in html and "¥14,799.50" in html


@pytest.mark.parametrize("amount, message", [
    ("12.345", "请按元填写金额"),
    ("abc", "请按元填写金额"),
    ("", "请填写金额。"),
    ("-5", "请按元填写金额"),
    ("0", "请填写大于 0 的金额。"),
    ("18,000.01", "补充决议"),
])
def test_a_bad_amount_comes_back_with_the_values_kept(app, effective_public, amount, message):
    h = effective_public
    prop = client_for(app, h.prop)
    resp = _book(prop, h, amount=amount, payee="<b>某某</b>水泵公司")
    html = text_of(resp)
    assert resp.status_code == 400 and message in html
    assert 'id="ledger"' in html and '<details id="book" open>' in html   # the whole page
    assert f'value="{amount}"' in html and 'value="&lt;b&gt;某某&lt;/b&gt;水泵公司"' in html
    assert "采购排水泵两台</textarea>" in html
    assert 'aria-invalid="true"' in html and "请重新选择照片" in html
    hx = _book(prop, h, headers=HX, amount=amount)
    assert hx.status_code == 200 and text_of(hx).lstrip().startswith('<details id="book" open>')
    assert message in text_of(hx) and "<html" not in text_of(hx)
    assert _entries(app) == [] and _stems(app, ExpenseReceipt) == []


def test_the_over_budget_message_names_a_supplementary_decision(app, effective_public):
    h = effective_public
    _booked(app, h, amount=1_700_000)
    html = text_of(_book(client_for(app, h.prop), h, amount="1,000.01"))
    assert "超出批准预算" in html and "尚余 1,000.00 元" in html and "补充决议" in html
    assert _entries(app) == [(1, 1_700_000)]


@pytest.mark.parametrize("over, message", [
    ({"payee": " "}, "请填写收款方。"),
    ({"purpose": ""}, "请填写用途。"),
    ({"spent_on": ""}, "请填写支付日期。"),
    ({"spent_on": "2026-02-30"}, "请按“年-月-日”填写日期"),
    ({"spent_on": "2099-01-01"}, "支付日期不能晚于今天。"),
    ({"receipts": []}, "请上传至少一张票据照片。"),
    ({"receipts": [(io.BytesIO(b"not an image"), "x.jpg")]}, "只能上传 JPEG、PNG 或 WEBP"),
])
def test_other_bad_input_is_named_at_its_field(app, effective_public, over, message):
    h = effective_public
    resp = _book(client_for(app, h.prop), h, **over)
    assert resp.status_code == 400 and message in text_of(resp)
    assert _entries(app) == []


# --- reversing -------------------------------------------------------------------------

def test_reversing_through_http(app, effective_public):
    h = effective_public
    _booked(app, h, amount=320_050)
    prop = client_for(app, h.prop)
    url = f"{base(h)}/expenses/1/reverse"
    empty = prop.post(url, data={"reason": "  "})
    assert empty.status_code == 400 and "请说明冲销的理由。" in text_of(empty)
    assert '<details id="reverse-1" open>' in text_of(empty)
    hx = prop.post(url, data={"reason": ""}, headers=HX)
    assert hx.status_code == 200
    assert text_of(hx).lstrip().startswith('<details id="reverse-1" open>')
    resp = prop.post(url, data={"reason": "发票金额有误，重新登记"})
    assert resp.status_code == 303 and resp.headers["Location"] == _page(h) + "#expense-2"
    assert any("已冲销支出 #1" in m for m in flashes(prop))
    assert _entries(app) == [(1, 320_050), (2, -320_050)]
    html = text_of(app.test_client().get(_page(h)))
    assert "冲销 #1" in html and "-¥3,200.50" in html and "发票金额有误，重新登记" in html
    assert "已由支出 #2 冲销" in html
    mine = text_of(prop.get(_page(h)))
    assert 'id="reverse-1"' not in mine and 'id="reverse-2"' not in mine
    again = prop.post(url, data={"reason": "再冲一次"})
    assert again.status_code == 303 and any("已经冲销过了" in m for m in flashes(prop))
    twice = prop.post(f"{base(h)}/expenses/2/reverse", data={"reason": "撤销冲销"})
    assert twice.status_code == 303 and any("冲销记录不能再冲销" in m for m in flashes(prop))
    assert prop.post(f"{base(h)}/expenses/9/reverse", data={"reason": "x"}).status_code == 404
    assert len(_entries(app)) == 2


# --- the owners' committee's review ----------------------------------------------------

@pytest.mark.parametrize("hx", [False, True], ids=["plain", "htmx"])
def test_reviewing_through_http(app, effective, hx):
    h = effective
    _booked(app, h, amount=600_000)
    _booked(app, h, amount=250_000)
    headers = HX if hx else {}
    assoc, assoc2 = client_for(app, h.assoc), client_for(app, h.assoc2)
    resp = assoc.post(f"{base(h)}/expenses/1/review", data={"verdict": "approve"},
                      headers=headers)
    assert resp.status_code == (204 if hx else 303)
    assert (resp.headers.get("HX-Location") or resp.headers["Location"]) == \
        _page(h) + "#expense-1"
    no_note = assoc2.post(f"{base(h)}/expenses/2/review", data={"verdict": "refuse"},
                          headers=headers)
    assert no_note.status_code == (200 if hx else 400)
    assert "不同意时请说明理由。" in text_of(no_note)
    if hx:
        assert text_of(no_note).lstrip().startswith('<details id="review-2" open>')
    no_verdict = assoc2.post(f"{base(h)}/expenses/2/review", data={"note": "看看"})
    assert no_verdict.status_code == 400 and "请选择同意或不同意。" in text_of(no_verdict)
    assert "看看</textarea>" in text_of(no_verdict)
    refused = assoc2.post(f"{base(h)}/expenses/2/review",
                          data={"verdict": "refuse", "note": "发票抬头不符"}, headers=headers)
    assert refused.status_code == (204 if hx else 303)
    again = assoc2.post(f"{base(h)}/expenses/1/review", data={"verdict": "refuse",
                                                             "note": "再审"})
    assert again.status_code == 303 and any("已经审核过" in m for m in flashes(assoc2))
    assert read(app, lambda: sorted((r.expense_id, r.approved) for r in
                                    db.session.scalars(select(ExpenseReview)))) == \
        [(1, True), (2, False)]
    html = text_of(app.test_client().get(_page(h)))
    assert "业委会审核同意" in html and "业委会未同意" in html and "发票抬头不符" in html
    assert "¥6,000.00" in html and "¥12,000.00" in html   # counted; remaining
    assert 'name="verdict"' not in text_of(assoc.get(_page(h)))


def test_only_the_owners_committee_reviews(app, effective):
    h = effective
    _booked(app, h)
    for person in (h.prop, h.mod, h.rep):
        resp = client_for(app, person).post(f"{base(h)}/expenses/1/review",
                                            data={"verdict": "approve"})
        assert resp.status_code == 403
    assert count(app, ExpenseReview) == 0


# --- progress --------------------------------------------------------------------------

def test_progress_moves_the_issue_along_and_shows_on_the_page(app, effective):
    h = effective
    prop, mod = client_for(app, h.prop), client_for(app, h.mod)
    url = f"{base(h)}/progress"
    empty = prop.post(url, data={"status": "in_progress", "text": " "})
    assert empty.status_code == 400 and "请填写进展说明。" in text_of(empty)
    assert '<option selected value="in_progress">' in text_of(empty) or \
        '<option value="in_progress" selected>' in text_of(empty)
    hx = prop.post(url, data={"status": "in_progress", "text": ""}, headers=HX)
    assert hx.status_code == 200
    assert text_of(hx).lstrip().startswith('<details id="post-progress" open>')
    assert mod.post(url, data={"status": "completed", "text": "完工"}).status_code == 403
    resp = prop.post(url, data={"status": "in_progress", "text": "已进场施工，拆除旧泵。",
                                "photos": _files(1), "idempotency_key": "p-1"},
                     content_type="multipart/form-data")
    assert resp.status_code == 303 and resp.headers["Location"] == _page(h) + "#progress"
    assert issue(app, h).state is IssueState.IN_PROGRESS
    html = text_of(app.test_client().get(_page(h)))
    assert "实施中" in html and "已进场施工，拆除旧泵。" in html
    [stem] = _stems(app, ProgressPhoto)
    photo = app.test_client().get(f"/c/{h.community.slug}/progress-photos/{stem}_t.jpg")
    assert photo.status_code == 200 and photo.headers["Cache-Control"] == "public, max-age=300"
    assert f'/progress-photos/{stem}_t.jpg' in html
    # once started, 未开始 is no longer offered
    assert 'value="not_started"' not in text_of(prop.get(_page(h)))
    done = prop.post(url, data={"status": "completed", "text": "排水泵已更换并试运行。"})
    assert done.status_code == 303 and any("已确认办结" in m for m in flashes(prop))
    assert issue(app, h).state is IssueState.COMPLETED
    html = text_of(app.test_client().get(_page(h)))
    assert html.index("排水泵已更换并试运行。") < html.index("已进场施工，拆除旧泵。")  # newest first
    assert "已完成" in html and 'id="post-progress"' not in text_of(prop.get(_page(h)))
    late = prop.post(url, data={"status": "in_progress", "text": "补充"})
    assert late.status_code == 303 and any("已经办结" in m for m in flashes(prop))
    assert count(app, ProgressUpdate) == 2
    assert "已办结" in text_of(app.test_client().get(f"{base(h)}/"))


def test_residents_get_403_and_the_public_is_sent_to_log_in(app, effective):
    h = effective
    _booked(app, h)
    posts = [(f"{base(h)}/expenses", _expense),
             (f"{base(h)}/expenses/1/reverse", lambda: {"reason": "不对"}),
             (f"{base(h)}/expenses/1/review", lambda: {"verdict": "approve"}),
             (f"{base(h)}/progress", lambda: {"status": "in_progress", "text": "开工"})]
    for person in (h.rep, h.outsider):
        client = client_for(app, person)
        for url, data in posts:
            assert client.post(url, data=data(), content_type="multipart/form-data"
                               ).status_code == 403, url
    anonymous = app.test_client()
    for url, data in posts:
        resp = anonymous.post(url, data=data(), content_type="multipart/form-data")
        assert resp.status_code in (302, 303) and "/login" in resp.headers["Location"], url
    assert _entries(app) == [(1, 100_000)] and count(app, ExpenseReview) == 0
    assert count(app, ProgressUpdate) == 0


# --- the issue panel -------------------------------------------------------------------

def test_the_issue_page_shows_the_implementation_panel(app, effective):
    h = effective
    html = text_of(app.test_client().get(f"{base(h)}/"))
    assert 'id="implementation"' in html and "未开始" in html
    assert "已计入 ¥0.00 / 批准预算 ¥18,000.00" in html
    assert f'href="{_page(h)}">查看实施与支出' in html
    a = _booked(app, h, amount=450_000)
    _booked(app, h, amount=50_000)
    run(app, lambda: ops.review_expense(U(h.assoc), db.session.get(Expense, a), approved=True))
    html = text_of(app.test_client().get(f"{base(h)}/"))
    assert "已计入 ¥4,500.00 / 批准预算 ¥18,000.00" in html and "待业委会审核 ¥500.00" in html
    assert '<progress class="meter" max="100" value="25"' in html


# --- the community's spending ----------------------------------------------------------

def _hand_built(app, h) -> None:
    """Entries inserted as they are stored (the ledger allows inserts): three funding
    sources over two years, approved, pending, refused and reversed entries."""
    def insert():
        mf, pi, gov = (FundingSource.MAINTENANCE_FUND, FundingSource.PUBLIC_INCOME,
                       FundingSource.GOVERNMENT)
        rows = {}
        for n, day, fen, source, reverses in (
                (1, date(2026, 3, 5), 100_000, pi, None),
                (2, date(2026, 4, 1), 50_000, mf, None),
                (3, date(2026, 4, 2), 30_000, mf, None),
                (4, date(2026, 5, 1), 20_000, mf, None),
                (5, date(2027, 1, 10), -100_000, pi, 1),
                (6, date(2027, 2, 1), 8_888, gov, None)):
            e = Expense(community_id=h.community.id, issue_id=h.issue_id,
                        decision_id=h.decision_id, number=n, spent_on=day, amount_fen=fen,
                        payee="某某公司", purpose=f"第 {n} 笔", funding_source=source,
                        reverses_id=rows[reverses].id if reverses else None,
                        reason="退款" if reverses else "", body=Body.PROPERTY,
                        created_by_id=h.prop.id)
            db.session.add(e)
            db.session.flush()
            rows[n] = e
        db.session.add(ExpenseReview(expense_id=rows[2].id, approved=True, note="",
                                     reviewer_id=h.assoc.id))
        db.session.add(ExpenseReview(expense_id=rows[4].id, approved=False, note="不符",
                                     reviewer_id=h.assoc.id))
    run(app, insert)


def _segment(html: str, start: str, end: str) -> str:
    i = html.index(start)
    return html[i:html.index(end, i)]


def _cells(segment: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", c).strip()
            for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", segment, re.S)]


def test_the_spending_page_adds_up_a_hand_built_ledger(app, effective_public, make):
    h = effective_public
    _hand_built(app, h)
    html = text_of(app.test_client().get(f"/c/{h.community.slug}/spending"))
    assert "<h1>支出统计</h1>" in html
    assert _cells(_segment(html, 'id="year-2027"', "</tbody>")) == [
        "2027", "公共收益", "-¥1,000.00", "政府拨款", "¥88.88", "2027 年合计", "-¥911.12"]
    assert _cells(_segment(html, 'id="year-2026"', "</tbody>")) == [
        "2026", "专项维修资金", "¥500.00", "公共收益", "¥1,000.00", "2026 年合计", "¥1,500.00"]
    assert html.index('id="year-2027"') < html.index('id="year-2026"')   # newest first
    assert _cells(_segment(html, 'id="by-source"', "</table>"))[2:] == [
        "专项维修资金", "¥500.00", "公共收益", "¥0.00", "政府拨款", "¥88.88", "合计", "¥588.88"]
    item = _segment(html, f'id="issue-{h.number}"', "</li>")
    assert f'href="{_page(h)}"' in item and "地下车库雨天积水" in item
    assert "已计入 ¥588.88 / 批准预算 ¥18,000.00" in item and "待业委会审核 ¥300.00" in item
    assert 'value="3"' in item and "未开始" in item
    # the issue's own page agrees
    page = text_of(app.test_client().get(_page(h)))
    assert "¥588.88" in page and "¥300.00" in page and "¥17,111.12" in page
    assert "冲销 #1" in page and "业委会未同意" in page and "不符" in page
    # another community sees nothing of it
    other = make.community()
    elsewhere = text_of(app.test_client().get(f"/c/{other.slug}/spending"))
    assert "还没有计入的支出" in elsewhere and "还没有生效的决议" in elsewhere
    assert "¥588.88" not in elsewhere
    assert app.test_client().get("/c/nowhere/spending").status_code == 404


def test_the_home_page_links_to_the_spending(app, hall):
    h = hall
    html = text_of(app.test_client().get(f"/c/{h.community.slug}/"))
    assert f'href="/c/{h.community.slug}/spending"' in html


# --- privacy and cost ------------------------------------------------------------------

def test_no_phone_number_or_personal_name_appears_in_public_pages(app, effective):
    h = effective
    prop = client_for(app, h.prop)
    assert _book(prop, h).status_code == 303
    client_for(app, h.assoc).post(f"{base(h)}/expenses/1/review",
                                  data={"verdict": "refuse", "note": "金额不对"})
    prop.post(f"{base(h)}/expenses/1/reverse", data={"reason": "重新登记"})
    prop.post(f"{base(h)}/progress", data={"status": "in_progress", "text": "开工"})
    people = [read(app, lambda p=p: db.session.get(User, p.id)) for p in
              (h.mod, h.assoc, h.assoc2, h.prop, h.rep, h.outsider)]
    viewers = [app.test_client(), client_for(app, h.rep), prop]
    for client in viewers:
        for url in (_page(h), f"/c/{h.community.slug}/spending", f"{base(h)}/"):
            html = text_of(client.get(url))
            for person in people:
                assert person.phone not in html, (url, person.phone)
            for staff in people[:4]:
                assert staff.display_name not in html, (url, staff.display_name)


def test_the_page_runs_the_same_queries_for_3_or_12_entries(app, effective_public,
                                                            count_queries):
    h = effective_public
    prop = client_for(app, h.prop)
    anonymous = app.test_client()

    def queries(client) -> int:
        with count_queries() as q:
            assert client.get(_page(h)).status_code == 200
        return q.count

    for _ in range(3):
        _booked(app, h, amount=10_000)
    run(app, lambda: ops.post_update(U(h.prop), the_issue(h), status="in_progress",
                                     text="开工", photos=[jpeg_bytes()]))
    few = (queries(anonymous), queries(prop))
    for _ in range(9):
        _booked(app, h, amount=10_000)
    for k in (1, 2, 3):
        run(app, lambda k=k: ops.reverse_expense(U(h.prop), db.session.scalar(
            select(Expense).where(Expense.number == k)), "退款"))
    for i in range(4):
        run(app, lambda i=i: ops.post_update(U(h.prop), the_issue(h), status="in_progress",
                                             text=f"进展 {i}", photos=[jpeg_bytes()] * 2))
    assert len(_entries(app)) == 15
    many = (queries(anonymous), queries(prop))
    assert many == few
    assert few[0] <= 10, few
