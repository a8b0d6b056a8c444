"""The expense ledger: arithmetic against the budget, the budget guard at its exact bound,
reversing entries, the owners' committee's approval gate for the maintenance fund, totals
per funding source and year, and the database refusing to change an entry."""
from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from civic import clock
from civic.audit.models import AuditEvent
from civic.audit.operations import verify_chain
from civic.consultation.models import FundingSource
from civic.consultation.rules import Body
from civic.domain import DomainError, Invalid, NotAllowed
from civic.extensions import db
from civic.implementation import operations as ops
from civic.implementation.models import Expense, ExpenseReceipt, ExpenseReview, ExpenseStatus
from civic.notifications.models import Notification
from tests.conftest import jpeg_bytes
from tests.decisions.helpers import run
from tests.implementation.conftest import U, the_issue, today

RECEIPT = [jpeg_bytes()]


def book(h, who=None, amount=500_000, *, spent_on=None, payee="某某水泵公司",
         purpose="采购排水泵两台", receipts=None, key=None):
    return ops.add_expense(U(who or h.prop), the_issue(h), spent_on=spent_on or today(),
                           amount_fen=amount, payee=payee, purpose=purpose,
                           receipts=RECEIPT if receipts is None else receipts,
                           idempotency_key=key)


def book_id(app, h, *args, **kw) -> int:
    return run(app, lambda: book(h, *args, **kw).id)


def approve(app, h, expense_id, who=None, approved=True, note=""):
    return run(app, lambda: ops.review_expense(U(who or h.assoc), db.session.get(
        Expense, expense_id), approved=approved, note=note).id)


def ledger(app, h):
    with app.app_context():
        lg = ops.ledger_of(the_issue(h))
        return {"budget": lg.budget_fen, "spent": lg.spent_fen, "pending": lg.pending_fen,
                "remaining": lg.remaining_fen,
                "lines": [(line.entry.number, line.entry.amount_fen, line.status)
                          for line in lg.lines]}


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


# --- arithmetic and the approval gate --------------------------------------------------

def test_maintenance_fund_entries_count_only_after_the_owners_committee_approves(app, effective):
    h = effective
    a = book_id(app, h, amount=600_000)
    b = book_id(app, h, amount=250_050)
    lg = ledger(app, h)
    assert lg["budget"] == 1_800_000
    assert lg["spent"] == 0 and lg["pending"] == 850_050
    assert lg["remaining"] == 1_800_000 - 850_050
    assert [s for _, _, s in lg["lines"]] == [ExpenseStatus.PENDING] * 2

    approve(app, h, a)
    approve(app, h, b, who=h.assoc2, approved=False, note="发票抬头不符，请重新开具")
    lg = ledger(app, h)
    assert lg["spent"] == 600_000 and lg["pending"] == 0
    assert lg["remaining"] == 1_200_000  # a refused entry frees its share of the budget
    assert [s for _, _, s in lg["lines"]] == [ExpenseStatus.COUNTED, ExpenseStatus.REFUSED]


def test_entries_from_other_sources_count_at_once(app, effective_public):
    h = effective_public
    book_id(app, h, amount=123_456)
    lg = ledger(app, h)
    assert lg["spent"] == 123_456 and lg["pending"] == 0
    assert lg["lines"] == [(1, 123_456, ExpenseStatus.COUNTED)]
    with app.test_request_context("/", method="POST"):
        e = db.session.scalar(select(Expense))
        with pytest.raises(DomainError, match="只有动用专项维修资金"):
            ops.review_expense(U(h.assoc), e, approved=True)


def test_who_may_review(app, effective):
    h = effective
    a = book_id(app, h)
    with app.test_request_context("/", method="POST"):
        e = db.session.get(Expense, a)
        for who in (h.mod, h.prop, h.rep):
            with pytest.raises(NotAllowed):
                ops.review_expense(U(who), e, approved=True)
        with pytest.raises(Invalid) as refused:
            ops.review_expense(U(h.assoc), e, approved=False, note="  ")
        assert refused.value.field == "note"
    approve(app, h, a)
    with app.test_request_context("/", method="POST"):
        with pytest.raises(DomainError, match="已经审核过"):
            ops.review_expense(U(h.assoc2), db.session.get(Expense, a), approved=False,
                               note="不同意")
    assert count(app, ExpenseReview) == 1


def test_an_owners_committee_member_never_approves_their_own_entry(app, make, hall):
    from tests.implementation.conftest import make_effective
    h = make_effective(app, hall)
    # the committee keeps the books; a committee member who also sits on the owners'
    # committee enters an entry and may not approve it
    both = make.staff(h.community, "association", user=h.mod)
    a = book_id(app, h, who=both)
    with app.test_request_context("/", method="POST"):
        with pytest.raises(NotAllowed, match="不能审核自己登记的支出"):
            ops.review_expense(U(both), db.session.get(Expense, a), approved=True)
    approve(app, h, a, who=h.assoc)
    assert ledger(app, h)["spent"] == 500_000


def test_booking_notifies_the_owners_committee_for_the_maintenance_fund(app, effective):
    h = effective
    book_id(app, h)
    with app.app_context():
        told = set(db.session.scalars(select(Notification.user_id).where(
            Notification.kind == "expense.review")))
    assert told == {h.assoc.id, h.assoc2.id}


# --- the budget guard ------------------------------------------------------------------

def test_spending_up_to_the_budget_exactly_is_allowed_and_one_fen_more_is_refused(app, effective_public):
    h = effective_public
    book_id(app, h, amount=1_000_000)
    book_id(app, h, amount=799_999)
    book_id(app, h, amount=1)  # exactly the budget: 18,000.00 yuan
    assert ledger(app, h)["remaining"] == 0
    before = (count(app, Expense), count(app, ExpenseReceipt), count(app, AuditEvent))
    with app.test_request_context("/", method="POST"):
        with pytest.raises(Invalid) as over:
            book(h, amount=1)
        db.session.rollback()
    assert over.value.field == "amount"
    assert "补充决议" in str(over.value) and "尚余 0.00 元" in str(over.value)
    assert (count(app, Expense), count(app, ExpenseReceipt), count(app, AuditEvent)) == before


def test_entries_awaiting_approval_hold_their_share_of_the_budget(app, effective):
    h = effective
    a = book_id(app, h, amount=1_700_000)
    with app.test_request_context("/", method="POST"):
        with pytest.raises(Invalid, match="超出批准预算"):
            book(h, amount=100_001)
    approve(app, h, a, approved=False, note="金额有误")
    book_id(app, h, amount=1_800_000)  # the refused entry no longer holds any of it


def test_a_reversal_frees_the_budget_it_cancels(app, effective_public):
    h = effective_public
    a = book_id(app, h, amount=1_800_000)
    run(app, lambda: ops.reverse_expense(U(h.prop), db.session.get(Expense, a),
                                         "重复登记，冲销"))
    assert ledger(app, h)["spent"] == 0
    book_id(app, h, amount=1_800_000)
    assert ledger(app, h)["remaining"] == 0


def test_concurrent_bookings_never_exceed_the_budget(app, effective_public):
    """Six 5,000-yuan bookings race for an 18,000-yuan budget: exactly three stand."""
    h = effective_public
    barrier = threading.Barrier(6)
    outcomes: list[str] = []

    def worker(i):
        with app.test_request_context("/", method="POST"):
            try:
                barrier.wait()
                book(h, amount=500_000, key=f"race-{i}")
                db.session.commit()
                outcomes.append("booked")
            except Invalid as e:
                db.session.rollback()
                outcomes.append("refused" if e.field == "amount" else repr(e))
            except Exception as e:  # noqa: BLE001 - reported below
                db.session.rollback()
                outcomes.append(repr(e))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert sorted(outcomes) == ["booked"] * 3 + ["refused"] * 3
    lg = ledger(app, h)
    assert lg["spent"] == 1_500_000 and [n for n, _, _ in lg["lines"]] == [1, 2, 3]
    with app.app_context():
        assert verify_chain().ok


# --- reversing entries -----------------------------------------------------------------

def test_a_reversing_entry_cancels_once_with_a_reason(app, effective_public):
    h = effective_public
    a = book_id(app, h, amount=300_000)
    b = book_id(app, h, amount=200_000)
    with app.test_request_context("/", method="POST"):
        with pytest.raises(Invalid) as no_reason:
            ops.reverse_expense(U(h.prop), db.session.get(Expense, a), " ")
        assert no_reason.value.field == "reason"
    r = run(app, lambda: ops.reverse_expense(U(h.prop), db.session.get(Expense, a),
                                             "金额填错，应为 2,000 元").id)
    with app.app_context():
        rev = db.session.get(Expense, r)
        assert (rev.number, rev.amount_fen, rev.reverses_id) == (3, -300_000, a)
        assert rev.reason == "金额填错，应为 2,000 元" and rev.spent_on == today()
        lg = ops.ledger_of(the_issue(h))
        assert lg.spent_fen == 200_000
        assert lg.lines[0].reversed_by.id == r and lg.lines[1].reversed_by is None
    with app.test_request_context("/", method="POST"):
        with pytest.raises(DomainError, match="已经冲销过"):
            ops.reverse_expense(U(h.mod), db.session.get(Expense, a), "再冲一次")
        with pytest.raises(DomainError, match="冲销记录不能再冲销"):
            ops.reverse_expense(U(h.prop), db.session.get(Expense, r), "撤销冲销")
        with pytest.raises(NotAllowed):
            ops.reverse_expense(U(h.rep), db.session.get(Expense, b), "不对")
    assert count(app, Expense) == 3


def test_a_reversal_of_a_maintenance_fund_entry_follows_its_approval(app, effective):
    h = effective
    a = book_id(app, h, amount=400_000)
    run(app, lambda: ops.reverse_expense(U(h.prop), db.session.get(Expense, a), "供应商退货"))
    lg = ledger(app, h)
    assert lg["pending"] == 0 and lg["spent"] == 0  # +4,000 and −4,000, both pending
    assert [s for _, _, s in lg["lines"]] == [ExpenseStatus.PENDING] * 2
    approve(app, h, a)
    lg = ledger(app, h)
    assert lg["spent"] == 0 and [s for _, _, s in lg["lines"]] == [ExpenseStatus.COUNTED] * 2


def test_the_database_refuses_to_change_or_delete_an_entry(app, effective_public):
    h = effective_public
    a = book_id(app, h, amount=100_000)
    for stmt in (f"UPDATE expense SET amount_fen = 1 WHERE id = {a}",
                 f"DELETE FROM expense WHERE id = {a}",
                 f"UPDATE expense_receipt SET position = 5 WHERE expense_id = {a}",
                 f"DELETE FROM expense_receipt WHERE expense_id = {a}"):
        with app.app_context():
            with pytest.raises(DBAPIError, match="append-only"):
                db.session.execute(text(stmt))
            db.session.rollback()
    assert ledger(app, h)["spent"] == 100_000


# --- who, when, what -------------------------------------------------------------------

def test_who_may_book(app, effective):
    h = effective
    with app.test_request_context("/", method="POST"):
        for who in (h.assoc, h.rep):  # the property company leads; 业委会 does not book
            with pytest.raises(NotAllowed):
                book(h, who=who)
    book_id(app, h, who=h.mod)
    with app.app_context():
        bodies = [e.body for e in db.session.scalars(select(Expense))]
    assert bodies == [Body.COMMITTEE]
    book_id(app, h, who=h.prop)
    with app.app_context():
        assert db.session.scalar(select(Expense).where(Expense.number == 2)).body is Body.PROPERTY


def test_no_booking_before_the_decision_takes_effect(app, hall):
    from tests.decisions.helpers import published
    h = hall
    published(app, h, budget="18,000.00", funding_source="public_income")
    with app.test_request_context("/", method="POST"):
        with pytest.raises(DomainError, match="决议生效"):
            book(h)


@pytest.mark.parametrize("over, field", [
    ({"amount": 0}, "amount"),
    ({"amount": -5}, "amount"),
    ({"amount": 12.5}, "amount"),
    ({"payee": "  "}, "payee"),
    ({"payee": "公" * 121}, "payee"),
    ({"purpose": ""}, "purpose"),
    ({"purpose": "用" * 501}, "purpose"),
    ({"receipts": []}, "receipts"),
    ({"receipts": [b"not an image"]}, "receipts"),
    ({"receipts": RECEIPT * 7}, "receipts"),
    ({"spent_on": "2026-03-01"}, "spent_on"),
])
def test_bad_input_is_refused_at_its_field_and_writes_nothing(app, effective_public, over, field):
    h = effective_public
    with app.test_request_context("/", method="POST"):
        with pytest.raises(Invalid) as bad:
            book(h, **over)
        db.session.rollback()
    assert bad.value.field == field
    assert count(app, Expense) == 0 and count(app, ExpenseReceipt) == 0


def test_payment_dates_lie_between_the_decision_and_today(app, effective_public):
    h = effective_public
    with app.test_request_context("/", method="POST"):
        with pytest.raises(Invalid, match="不能晚于今天"):
            book(h, spent_on=today() + timedelta(days=1))
        published_on = clock.local(db.session.get(
            type(ops.effective_decision(the_issue(h))), h.decision_id).published_at).date()
        with pytest.raises(Invalid, match="不能早于决议公布的日期"):
            book(h, spent_on=published_on - timedelta(days=1))
    book_id(app, h, spent_on=published_on)


def test_a_double_submit_books_once(app, effective_public):
    h = effective_public
    first = book_id(app, h, key="form-1")
    again = book_id(app, h, key="form-1")
    assert first == again and count(app, Expense) == 1


def test_receipts_are_re_encoded_and_kept(app, effective_public):
    from civic.uploads import path_of
    h = effective_public
    exif = b"Exif\x00\x00MM\x00*\x00\x00\x00\x08\x00\x00\x00\x00\x00\x00"
    a = book_id(app, h, receipts=[jpeg_bytes(exif=exif), jpeg_bytes((300, 900))])
    with app.app_context():
        stems = [r.stem for r in db.session.get(Expense, a).receipts]
        assert len(stems) == 2
        for stem in stems:
            data = path_of("receipts", f"{stem}.jpg").read_bytes()
            assert b"Exif" not in data and path_of("receipts", f"{stem}_t.jpg").exists()


def test_every_entry_and_review_is_in_the_audit_chain(app, effective):
    h = effective
    a = book_id(app, h, amount=100_000)
    approve(app, h, a)
    run(app, lambda: ops.reverse_expense(U(h.prop), db.session.get(Expense, a), "退款"))
    with app.app_context():
        actions = list(db.session.scalars(select(AuditEvent.action).where(
            AuditEvent.action.like("expense.%")).order_by(AuditEvent.seq)))
        assert actions == ["expense.add", "expense.approve", "expense.reverse"]
        assert verify_chain().ok


# --- totals ----------------------------------------------------------------------------

def test_totals_per_year_and_funding_source_count_only_what_stands(app, hall):
    from tests.implementation.conftest import make_effective
    h = make_effective(app, hall)  # maintenance fund
    a = book_id(app, h, amount=700_000)
    book_id(app, h, amount=200_000)  # never approved: not counted
    approve(app, h, a)
    clock.freeze(datetime(2027, 1, 4, 2, 0, tzinfo=UTC))
    c = book_id(app, h, amount=300_000, spent_on=date(2027, 1, 4))
    approve(app, h, c)
    run(app, lambda: ops.reverse_expense(U(h.prop), db.session.get(Expense, a), "退货退款"))
    with app.app_context():
        t = ops.totals(h.community)
        mf = FundingSource.MAINTENANCE_FUND
        assert t.by_year == {2026: {mf: 700_000}, 2027: {mf: 300_000 - 700_000}}
        assert t.years == [2027, 2026]
        assert t.year_total(2026) == 700_000 and t.source_total(mf) == 300_000
        assert t.total == 300_000


def test_a_form_key_used_on_another_issue_is_refused_clearly(app, make, effective_public):
    h = effective_public
    book_id(app, h, key="form-9")
    with app.test_request_context("/", method="POST"):
        from civic.issues.models import Issue
        second = Issue(community_id=h.community.id, number=99, title="另一个议题",
                       category="其他", author_id=h.rep.id)
        with pytest.raises(DomainError, match="已经提交过"):
            ops.add_expense(U(h.prop), second, spent_on=today(), amount_fen=100, payee="甲",
                            purpose="乙", receipts=RECEIPT, idempotency_key="form-9")
    assert count(app, Expense) == 1
