"""A community with the three bodies' staff and an accepted issue, ready for consultation."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from civic import clock
from civic.extensions import db

#: the frozen "now" the tests start from
T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


@pytest.fixture
def hall(app, make, make_issue):
    """Staff of the three bodies, a resident representative, and issue accepted through the
    real operations (co-signed past its threshold, then accepted by the committee)."""
    from civic.accounts.models import User
    from civic.issues import operations as issue_ops
    from civic.issues.models import Issue, IssueState
    from civic.triage import operations as triage_ops
    from civic.triage.models import Body

    clock.freeze(T0)
    c = make.community()
    h = SimpleNamespace(
        community=c,
        mod=make.staff(c, "moderator", title="居委会主任"),
        assoc=make.staff(c, "association", title="业委会主任"),
        assoc2=make.staff(c, "association", title="业委会委员"),
        prop=make.staff(c, "property", title="项目经理"),
        rep=make.resident(c),
        outsider=make.resident(c),
    )
    signer = make.resident(c)
    h.issue_id, h.number = make_issue(c, need=1, title="地下车库雨天积水")
    with app.test_request_context("/", method="POST"):
        issue_ops.cosign(db.session.get(User, signer.id), h.issue_id)
        issue = db.session.get(Issue, h.issue_id)
        assert issue.state is IssueState.AWAITING_TRIAGE
        triage_ops.accept(db.session.get(User, h.mod.id), issue, Body.PROPERTY, [])
        db.session.commit()
    return h


def later(days: float = 0, hours: float = 0) -> datetime:
    return clock.now() + timedelta(days=days, hours=hours)
