"""Progress updates: the responsible bodies post them with photos; the first 实施中 update
starts the work; only the lead body marks it completed (已办结), once, and the households
that co-signed are told."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from civic.audit.operations import verify_chain
from civic.consultation.rules import Body
from civic.domain import DomainError, Invalid, NotAllowed
from civic.extensions import db
from civic.implementation import operations as ops
from civic.implementation.models import ProgressPhoto, ProgressUpdate, WorkStatus
from civic.issues.models import Issue, IssueState
from civic.notifications.models import Notification
from tests.conftest import jpeg_bytes
from tests.decisions.helpers import run
from tests.implementation.conftest import U, the_issue


def post(h, who, status, text="已进场施工，预计两周完成。", photos=(), key=None):
    return ops.post_update(U(who), the_issue(h), status=status, text=text,
                           photos=list(photos), idempotency_key=key)


def state(app, h) -> IssueState:
    with app.app_context():
        return db.session.get(Issue, h.issue_id).state


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_work_goes_from_decided_to_in_progress_to_completed(app, effective):
    h = effective
    assert state(app, h) is IssueState.DECIDED
    run(app, lambda: post(h, h.prop, "not_started", "材料已订购，下周进场。"))
    assert state(app, h) is IssueState.DECIDED
    run(app, lambda: post(h, h.prop, "in_progress", photos=[jpeg_bytes()]))
    assert state(app, h) is IssueState.IN_PROGRESS
    run(app, lambda: post(h, h.mod, "in_progress", "居委会现场查看，进展正常。"))
    run(app, lambda: post(h, h.prop, "completed", "水泵已安装调试，挡水板已加装。",
                          photos=[jpeg_bytes(), jpeg_bytes((600, 800))]))
    with app.app_context():
        issue = db.session.get(Issue, h.issue_id)
        assert issue.state is IssueState.COMPLETED and issue.completed_at is not None
        assert ops.work_status(issue) is WorkStatus.COMPLETED
        updates = ops.updates_of(issue)
        assert [(u.body, u.status) for u in updates] == [
            (Body.PROPERTY, WorkStatus.COMPLETED), (Body.COMMITTEE, WorkStatus.IN_PROGRESS),
            (Body.PROPERTY, WorkStatus.IN_PROGRESS), (Body.PROPERTY, WorkStatus.NOT_STARTED)]
        assert [len(u.photos) for u in updates] == [2, 0, 1, 0]
        assert verify_chain().ok


def test_only_the_lead_body_marks_the_work_completed(app, effective):
    h = effective  # led by the property company
    with app.test_request_context("/", method="POST"):
        with pytest.raises(NotAllowed, match="牵头实施的物业"):
            post(h, h.mod, "completed")
        for who in (h.assoc, h.rep, h.outsider):
            with pytest.raises(NotAllowed):
                post(h, who, "in_progress")
    assert count(app, ProgressUpdate) == 0 and state(app, h) is IssueState.DECIDED


def test_completion_happens_once_and_tells_the_households(app, effective):
    h = effective
    run(app, lambda: post(h, h.prop, "completed", "已完工。"))
    with app.test_request_context("/", method="POST"):
        for status in ("completed", "in_progress", "not_started"):
            with pytest.raises(DomainError, match="已经办结"):
                post(h, h.prop, status)
    with app.app_context():
        told = list(db.session.scalars(select(Notification.user_id).where(
            Notification.kind == "issue.completed")))
        issue = db.session.get(Issue, h.issue_id)
        assert issue.author_id in told and len(told) == 2  # the proposer and the co-signer
        assert all("/implementation" in link for link in db.session.scalars(
            select(Notification.link).where(Notification.kind == "issue.completed")))


def test_work_that_has_started_is_not_marked_not_started_again(app, effective):
    h = effective
    run(app, lambda: post(h, h.prop, "in_progress"))
    with app.test_request_context("/", method="POST"):
        with pytest.raises(DomainError, match="不能再标记为未开始"):
            post(h, h.prop, "not_started")


def test_no_progress_before_the_decision_takes_effect(app, hall):
    from tests.decisions.helpers import published
    h = hall
    published(app, h)
    with app.test_request_context("/", method="POST"):
        with pytest.raises(DomainError, match="决议生效"):
            post(h, h.prop, "in_progress")


@pytest.mark.parametrize("over, field", [
    ({"status": "done"}, "status"),
    ({"text": "   "}, "text"),
    ({"text": "进" * 2001}, "text"),
    ({"photos": [b"GIF89a"]}, "photos"),
    ({"photos": [jpeg_bytes()] * 7}, "photos"),
])
def test_bad_updates_are_refused_at_their_field_and_write_nothing(app, effective, over, field):
    h = effective
    args = {"status": "in_progress", "text": "施工中", "photos": []} | over
    with app.test_request_context("/", method="POST"):
        with pytest.raises(Invalid) as bad:
            post(h, h.prop, args["status"], args["text"], args["photos"])
        db.session.rollback()
    assert bad.value.field == field
    assert count(app, ProgressUpdate) == 0 and count(app, ProgressPhoto) == 0
    assert state(app, h) is IssueState.DECIDED


def test_a_double_submit_posts_once(app, effective):
    h = effective
    a = run(app, lambda: post(h, h.prop, "in_progress", key="k-1").id)
    b = run(app, lambda: post(h, h.prop, "in_progress", key="k-1").id)
    assert a == b and count(app, ProgressUpdate) == 1
