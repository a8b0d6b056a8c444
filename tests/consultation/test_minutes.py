"""Minutes (会议纪要): revisions, confirmations, objections and publication — the
operations, and the round page's forms as plain POSTs and as htmx."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from civic import clock
from civic.communities.models import Membership, MembershipStatus, Role
from civic.consultation import operations as ops
from civic.consultation.models import Minutes, MinutesConfirmation, MinutesState, Round
from civic.consultation.rules import Body
from civic.domain import DomainError, Invalid, NotAllowed
from civic.extensions import db
from civic.notifications.models import Notification
from tests.consultation.helpers import (HX, THREE, Clients, Paths, U, close_now, events,
                                        in_post, main, open_now, prepared_round, read, text)

MODES = pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])


@pytest.fixture
def clients(app):
    return Clients(app)


@pytest.fixture
def paths(hall):
    return Paths(hall)


@pytest.fixture
def closed(app, hall):
    """A closed round with the three bodies and a resident representative seated."""
    r = prepared_round(app, hall, seats=THREE + (("rep", Body.RESIDENT),))
    open_now(app, hall, r)
    close_now(app, hall, r)
    return r


def _round(r) -> Round:
    return db.session.get(Round, r["id"])


def _minutes(app, r) -> Minutes:
    return read(app, lambda: db.session.scalar(select(Minutes).where(
        Minutes.round_id == r["id"])))


def _answer(app, r, who, confirmed=True, note=""):
    return in_post(app, lambda: ops.confirm_minutes(U(who), _round(r), confirmed, note).state)


def _refused(app, error, fn, match=None):
    with app.test_request_context("/", method="POST"):
        with pytest.raises(error, match=match):
            fn()
        db.session.rollback()


# --- the operations --------------------------------------------------------------------

def test_minutes_only_after_closing_and_only_by_a_moderator(app, hall):
    h = hall
    r = prepared_round(app, h)
    _refused(app, DomainError, lambda: ops.write_minutes(U(h.mod), _round(r), "纪要"),
             "表决结束后")
    open_now(app, h, r)
    _refused(app, DomainError, lambda: ops.write_minutes(U(h.mod), _round(r), "纪要"),
             "表决结束后")
    close_now(app, h, r)
    _refused(app, NotAllowed, lambda: ops.write_minutes(U(h.assoc), _round(r), "纪要"))
    _refused(app, Invalid, lambda: ops.write_minutes(U(h.mod), _round(r), "  "))
    _refused(app, DomainError, lambda: ops.submit_minutes(U(h.mod), _round(r)), "请先撰写")
    assert _minutes(app, r) is None
    in_post(app, lambda: ops.write_minutes(U(h.mod), _round(r), "初稿"))
    in_post(app, lambda: ops.write_minutes(U(h.mod), _round(r), "初稿（修改）"))
    m = _minutes(app, r)
    assert (m.revision, m.state, m.text) == (1, MinutesState.DRAFT, "初稿（修改）")
    assert len(events(app, "minutes.write")) == 2


def test_attending_bodies_confirm_and_the_last_confirmation_publishes(app, hall, closed):
    h, r = hall, closed
    assert read(app, lambda: ops.attending_bodies(_round(r))) == [
        Body.COMMITTEE, Body.ASSOCIATION, Body.PROPERTY, Body.RESIDENT]
    in_post(app, lambda: ops.write_minutes(U(h.mod), _round(r), "**四方到会**"))
    _refused(app, DomainError, lambda: ops.confirm_minutes(U(h.assoc), _round(r), True),
             "不在确认阶段")
    before = read(app, lambda: db.session.query(Notification).filter_by(
        kind="minutes.confirm").count())
    in_post(app, lambda: ops.submit_minutes(U(h.mod), _round(r)))
    told = read(app, lambda: sorted(n.user_id for n in db.session.query(Notification)
                                    .filter_by(kind="minutes.confirm")))
    assert before == 0 and told == sorted([h.mod.id, h.assoc.id, h.prop.id, h.rep.id])
    _refused(app, DomainError, lambda: ops.submit_minutes(U(h.mod), _round(r)), "已提交")
    for who in (h.mod, h.assoc, h.prop):
        assert _answer(app, r, who) is MinutesState.CONFIRMING
    _refused(app, DomainError, lambda: ops.confirm_minutes(U(h.prop), _round(r), True),
             "已经答复过")
    clock.freeze(clock.now() + timedelta(hours=5))
    assert _answer(app, r, h.rep) is MinutesState.PUBLISHED
    m = _minutes(app, r)
    assert m.published_at == clock.now() and "<strong>四方到会</strong>" in m.text_html
    assert len(events(app, "minutes.publish")) == 1
    assert len(events(app, "minutes.confirm")) == 4
    _refused(app, DomainError, lambda: ops.write_minutes(U(h.mod), _round(r), "改"), "已经公布")
    assert _minutes(app, r).text == "**四方到会**"


def test_an_objection_leads_to_a_new_revision_confirmed_afresh(app, hall, closed):
    h, r = hall, closed
    in_post(app, lambda: ops.write_minutes(U(h.mod), _round(r), "第一版"))
    in_post(app, lambda: ops.submit_minutes(U(h.mod), _round(r)))
    _answer(app, r, h.mod)
    _refused(app, Invalid, lambda: ops.confirm_minutes(U(h.prop), _round(r), False, " "),
             "提出异议须写明意见")
    _answer(app, r, h.prop, False, "费用写错了，应为 3,800 元")
    for who in (h.assoc, h.rep):                # the others confirm: not published
        assert _answer(app, r, who) is MinutesState.CONFIRMING
    answers = read(app, lambda: ops.confirmations_of(_minutes(app, r)))
    assert not answers[Body.PROPERTY].confirmed and "3,800" in answers[Body.PROPERTY].note
    assert len(events(app, "minutes.object")) == 1

    in_post(app, lambda: ops.write_minutes(U(h.mod), _round(r), "第二版：费用 3,800 元"))
    m = _minutes(app, r)
    assert (m.revision, m.state, m.submitted_at) == (2, MinutesState.DRAFT, None)
    assert read(app, lambda: ops.confirmations_of(_minutes(app, r))) == {}
    # the first revision's answers stay on record
    assert read(app, lambda: db.session.query(MinutesConfirmation)
                .filter_by(revision=1).count()) == 4
    in_post(app, lambda: ops.submit_minutes(U(h.mod), _round(r)))
    for who in (h.mod, h.assoc, h.prop):
        assert _answer(app, r, who) is MinutesState.CONFIRMING
    assert _answer(app, r, h.rep) is MinutesState.PUBLISHED
    assert _minutes(app, r).revision == 2


def test_only_seat_holders_who_still_belong_to_their_body_confirm(app, hall, closed):
    h, r = hall, closed
    in_post(app, lambda: ops.write_minutes(U(h.mod), _round(r), "纪要"))
    in_post(app, lambda: ops.submit_minutes(U(h.mod), _round(r)))
    for who in (h.assoc2, h.outsider):
        _refused(app, NotAllowed, lambda: ops.confirm_minutes(U(who), _round(r), True))
    in_post(app, lambda: db.session.execute(update(Membership).where(
        Membership.user_id == h.prop.id, Membership.role == Role.PROPERTY)
        .values(status=MembershipStatus.REVOKED)))
    _refused(app, NotAllowed, lambda: ops.confirm_minutes(U(h.prop), _round(r), True))
    assert read(app, lambda: ops.confirmations_of(_minutes(app, r))) == {}


# --- the page --------------------------------------------------------------------------

@MODES
def test_minutes_through_the_round_page(app, hall, clients, paths, closed, htmx):
    h, r = hall, closed
    hdr = HX if htmx else {}
    mod = clients(h.mod)

    def done(resp):
        assert resp.status_code == (204 if htmx else 303), text(resp)
        where = resp.headers["HX-Location" if htmx else "Location"]
        assert where.endswith("#minutes")
        return where

    assert 'name="minutes-text"' not in text(clients(h.assoc).get(paths.round(1)))
    assert clients(h.assoc).post(paths.round(1, "/minutes"), headers=hdr,
                                 data={"minutes-text": "冒充"}).status_code == 403
    resp = mod.post(paths.round(1, "/minutes"), headers=hdr, data={"minutes-text": ""})
    assert resp.status_code == 400 and 'id="minutes-text-err"' in text(resp)
    where = done(mod.post(paths.round(1, "/minutes"), headers=hdr,
                          data={"minutes-text": "四方到会，未形成决定。"}))
    page = text(mod.get(where))
    assert "会议纪要已保存（第 1 版）" in page and "提交参会各方确认" in page
    assert "四方到会，未形成决定。</textarea>" in page
    public = main(text(clients().get(paths.round(1))))
    assert "四方到会" not in public and "会议纪要经参会各方确认后公布" in public

    done(mod.post(paths.round(1, "/minutes/submit"), headers=hdr))
    assert read(app, lambda: _minutes(app, r).state) is MinutesState.CONFIRMING
    # seat holders see the text and their form; the public sees who has answered
    seat_page = text(clients(h.prop).get(paths.round(1)))
    assert "四方到会，未形成决定。" in seat_page and 'name="confirm-answer"' in seat_page
    assert "物业的答复" in seat_page
    assert "四方到会" not in main(text(clients().get(paths.round(1))))

    resp = clients(h.prop).post(paths.round(1, "/minutes/confirm"), headers=hdr,
                                data={"confirm-answer": "object", "confirm-note": ""})
    assert resp.status_code == 400 and "提出异议须写明意见。" in text(resp)
    assert 'id="confirm-note-err"' in text(resp)
    resp = clients(h.prop).post(paths.round(1, "/minutes/confirm"), headers=hdr,
                                data={"confirm-answer": "maybe"})
    assert resp.status_code == 400 and "请选择确认或提出异议。" in text(resp)
    done(clients(h.prop).post(paths.round(1, "/minutes/confirm"), headers=hdr,
                              data={"confirm-answer": "object", "confirm-note": "漏记了居民意见"}))
    for who in (h.mod, h.assoc, h.rep):
        done(clients(who).post(paths.round(1, "/minutes/confirm"), headers=hdr,
                               data={"confirm-answer": "confirm"}))
    page = text(mod.get(paths.round(1)))
    answers = page.split("各方确认（第 1 版）")[1].split("</ul>")[0]
    assert answers.count("已确认") == 3 and "有异议" in answers and "漏记了居民意见" in answers
    assert 'name="confirm-answer"' not in text(clients(h.prop).get(paths.round(1)))
    assert clients(h.assoc2).post(paths.round(1, "/minutes/confirm"), headers=hdr,
                                  data={"confirm-answer": "confirm"}).status_code == 403

    # revise: a new revision, every body answers again, then it is published
    page = text(mod.get(paths.round(1)))
    assert "现在修改会生成第 2 版" in page
    done(mod.post(paths.round(1, "/minutes"), headers=hdr,
                  data={"minutes-text": "四方到会，未形成决定；居民意见已附后。"}))
    done(mod.post(paths.round(1, "/minutes/submit"), headers=hdr))
    for who in (h.mod, h.assoc, h.prop, h.rep):
        done(clients(who).post(paths.round(1, "/minutes/confirm"), headers=hdr,
                               data={"confirm-answer": "confirm"}))
    m = _minutes(app, r)
    assert (m.revision, m.state) == (2, MinutesState.PUBLISHED)
    public = main(text(clients().get(paths.round(1))))
    assert "居民意见已附后" in public and "已公布" in public and "第 2 版" in public
    assert f"公布于 {clock.local(m.published_at):%Y-%m-%d %H:%M}" in public
    assert 'name="minutes-text"' not in text(mod.get(paths.round(1)))
    where = done(mod.post(paths.round(1, "/minutes"), headers=hdr,
                          data={"minutes-text": "再改"}))
    assert "会议纪要已经公布，不能再修改。" in text(mod.get(where))
    assert _minutes(app, r).text == "四方到会，未形成决定；居民意见已附后。"


def test_no_minutes_forms_before_the_round_closes(app, hall, clients, paths):
    h = hall
    r = prepared_round(app, h)
    open_now(app, h, r)
    page = text(clients(h.mod).get(paths.round(1)))
    assert 'id="minutes"' not in page and 'name="minutes-text"' not in page
    resp = clients(h.mod).post(paths.round(1, "/minutes"), data={"minutes-text": "早写"})
    assert resp.status_code == 303
    assert "表决结束后才能撰写会议纪要。" in text(clients(h.mod).get(resp.headers["Location"]))
    assert _minutes(app, r) is None
