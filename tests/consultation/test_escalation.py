"""Escalation to the street office (提请街道协调) when the rounds reach no decision: the
operation, the observers' notification, and the consultation page."""
from __future__ import annotations

import pytest

from civic.consultation import operations as ops
from civic.consultation.models import Consultation
from civic.consultation.rules import Vote
from civic.domain import DomainError, Invalid, NotAllowed
from civic.extensions import db
from civic.notifications.models import Notification
from tests.consultation.helpers import (HX, Clients, Paths, U, close_now, consultation_id,
                                        events, in_post, main, open_now, prepared_round, read,
                                        text)

MODES = pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])


@pytest.fixture
def clients(app):
    return Clients(app)


@pytest.fixture
def paths(hall):
    return Paths(hall)


def _c(app, h) -> Consultation:
    return db.session.get(Consultation, consultation_id(app, h))


def _escalate(app, h, who, note):
    cid = consultation_id(app, h)
    return in_post(app, lambda: ops.escalate(U(who), db.session.get(Consultation, cid), note)
                   .escalated_at)


def _refused(app, h, error, who, note, match=None):
    cid = consultation_id(app, h)
    with app.test_request_context("/", method="POST"):
        with pytest.raises(error, match=match):
            ops.escalate(U(who), db.session.get(Consultation, cid), note)
        db.session.rollback()


def _notified(app, kind):
    return read(app, lambda: sorted((n.user_id, n.link) for n in
                                    db.session.query(Notification).filter_by(kind=kind)))


def test_escalation_only_when_the_last_round_reached_no_decision(app, hall, make, paths):
    h = hall
    observer = make.staff(h.community, "observer", title="街道自治办")
    elsewhere = make.staff(make.community(), "observer")
    consultation_id(app, h)
    _refused(app, h, DomainError, h.mod, "协商无果", "协商未能形成决定")   # no round yet
    r = prepared_round(app, h)
    _refused(app, h, DomainError, h.mod, "协商无果", "协商未能形成决定")   # noticed
    open_now(app, h, r)
    _refused(app, h, DomainError, h.mod, "协商无果", "协商未能形成决定")   # open
    close_now(app, h, r)                                                  # no votes: no decision
    _refused(app, h, NotAllowed, h.assoc, "协商无果")
    _refused(app, h, Invalid, h.mod, "   ")
    _refused(app, h, Invalid, h.mod, "长" * 2001)
    assert _notified(app, "consultation.escalated") == []

    at = _escalate(app, h, h.mod, "三方对费用分摊分歧较大，请街道协调。")
    c = read(app, lambda: _c(app, h))
    assert (c.escalated_at, c.escalated_by_id, c.escalation_note) == (
        at, h.mod.id, "三方对费用分摊分歧较大，请街道协调。")
    assert _notified(app, "consultation.escalated") == [(observer.id, paths.consultation)]
    assert elsewhere.id not in [u for u, _ in _notified(app, "consultation.escalated")]
    assert len(events(app, "consultation.escalate")) == 1
    _refused(app, h, DomainError, h.mod, "再提一次", "已经提请")
    assert len(_notified(app, "consultation.escalated")) == 1


def test_no_escalation_once_an_option_was_adopted(app, hall):
    h = hall
    r = prepared_round(app, h)
    open_now(app, h, r)
    for who in ("mod", "assoc", "prop"):
        in_post(app, lambda who=who: ops.cast_vote(U(getattr(h, who)), r["id"],
                                                   r["options"][0], Vote.AGREE))
    close_now(app, h, r)
    _refused(app, h, DomainError, h.mod, "协商无果", "协商未能形成决定")
    assert read(app, lambda: _c(app, h).escalated_at) is None


@MODES
def test_escalating_from_the_consultation_page(app, hall, clients, paths, make, htmx):
    h = hall
    observer = make.staff(h.community, "observer")
    hdr = HX if htmx else {}
    r = prepared_round(app, h)
    page = text(clients(h.mod).get(paths.consultation))
    assert f'action="{paths.escalate}"' not in page           # a round is still pending
    open_now(app, h, r)
    close_now(app, h, r)
    page = text(clients(h.mod).get(paths.consultation))
    assert f'action="{paths.escalate}"' in page and "安排第 2 轮协商" in page
    assert f'action="{paths.escalate}"' not in text(clients(h.assoc).get(paths.consultation))
    assert clients(h.assoc).post(paths.escalate, headers=hdr,
                                 data={"note": "业委会提请"}).status_code == 403
    resp = clients(h.mod).post(paths.escalate, headers=hdr, data={"note": ""})
    assert resp.status_code == 400 and 'id="note-err"' in text(resp)
    resp = clients(h.mod).post(paths.escalate, headers=hdr,
                               data={"note": "费用分摊<分歧>较大"})
    assert resp.status_code == (204 if htmx else 303)
    assert resp.headers["HX-Location" if htmx else "Location"].endswith("#escalation")
    public = main(text(clients().get(paths.consultation)))
    assert "已提请街道协调" in public and "费用分摊&lt;分歧&gt;较大" in public
    assert f'action="{paths.escalate}"' not in text(clients(h.mod).get(paths.consultation))
    assert [u for u, _ in _notified(app, "consultation.escalated")] == [observer.id]
    # once only, also through the page
    resp = clients(h.mod).post(paths.escalate, data={"note": "再提一次"})
    assert resp.status_code == 303
    assert "本次协商已经提请街道协调。" in text(clients(h.mod).get(resp.headers["Location"]))
    assert len(events(app, "consultation.escalate")) == 1
    # the observer can read the consultation it was sent to
    assert "费用分摊&lt;分歧&gt;较大" in text(clients(observer).get(paths.consultation))
