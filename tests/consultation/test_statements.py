"""Each body's written statement (立场陈述) and residents' opinions (意见征集): the
operations, and the round page's forms as plain POSTs and as htmx."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from civic.consultation import operations as ops
from civic.consultation.models import Round, RoundComment, Statement
from civic.consultation.rules import Body
from civic.domain import DomainError, Invalid, NotAllowed
from civic.extensions import db
from tests.consultation.helpers import (HX, Clients, Paths, U, close_now, count, events,
                                        in_post, main, open_now, prepared_round, read, text)

MODES = pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])


@pytest.fixture
def clients(app):
    return Clients(app)


@pytest.fixture
def paths(hall):
    return Paths(hall)


def _round(r) -> Round:
    return db.session.get(Round, r["id"])


# --- statements: the operations --------------------------------------------------------

def test_who_may_write_which_statement(app, hall, make):
    h = hall
    both = make.staff(h.community, "association", user=h.prop)        # 物业 and 业委会
    r = prepared_round(app, h)

    def bodies(person):
        return read(app, lambda: ops.statement_bodies(U(person), _round(r)))

    assert bodies(h.mod) == [Body.COMMITTEE]
    assert bodies(h.assoc) == [Body.ASSOCIATION]
    assert bodies(h.assoc2) == [Body.ASSOCIATION]          # staff of the body, seated or not
    assert bodies(both) == [Body.ASSOCIATION, Body.PROPERTY]
    assert bodies(h.rep) == [] and bodies(h.outsider) == []
    in_post(app, lambda: ops.add_seat(U(h.mod), _round(r), U(h.rep), Body.RESIDENT))
    assert bodies(h.rep) == [Body.RESIDENT]                 # a resident seat holder
    assert bodies(h.outsider) == []


def test_posting_and_replacing_a_statement(app, hall):
    h = hall
    r = prepared_round(app, h)
    in_post(app, lambda: ops.post_statement(U(h.prop), _round(r), Body.PROPERTY,
                                            "**同意**更换排水泵<script>x()</script>"))
    st = read(app, lambda: db.session.scalar(select(Statement)))
    assert st.body is Body.PROPERTY and "<strong>同意</strong>" in st.text_html
    assert "<script>" not in st.text_html
    first_at = st.updated_at
    open_now(app, h, r)                                   # still replaceable while open
    in_post(app, lambda: ops.post_statement(U(h.prop), _round(r), "property", "改为加装截水沟"))
    rows = read(app, lambda: list(db.session.scalars(select(Statement))))
    assert len(rows) == 1 and rows[0].id == st.id and rows[0].text == "改为加装截水沟"
    assert rows[0].updated_at > first_at
    audit = events(app, "round.statement")
    assert [('"replaced":true' in e.payload) for e in audit] == [False, True]
    assert "排水泵" not in audit[0].payload                 # a hash of the text, not the text
    assert re.search(r'"sha256":"[0-9a-f]{64}"', audit[1].payload)


@pytest.mark.parametrize("who, body, text_, error", [
    ("prop", "association", "业委会的意见", NotAllowed),
    ("rep", "committee", "居民的意见", NotAllowed),
    ("prop", "observer", "意见", Invalid),
    ("prop", "property", "   ", Invalid),
    ("prop", "property", "长" * 5001, Invalid),
])
def test_statement_refusals(app, hall, who, body, text_, error):
    h = hall
    r = prepared_round(app, h)
    with app.test_request_context("/", method="POST"):
        with pytest.raises(error):
            ops.post_statement(U(getattr(h, who)), _round(r), body, text_)
        db.session.rollback()
    assert count(app, Statement) == 0


def test_no_statement_after_the_round_closed(app, hall):
    h = hall
    r = prepared_round(app, h)
    open_now(app, h, r)
    close_now(app, h, r)
    with app.test_request_context("/", method="POST"):
        with pytest.raises(DomainError, match="已经结束"):
            ops.post_statement(U(h.assoc), _round(r), Body.ASSOCIATION, "补充意见")
        db.session.rollback()
    assert count(app, Statement) == 0


# --- statements: the page --------------------------------------------------------------

@MODES
def test_a_body_posts_its_statement_from_the_round_page(app, hall, clients, paths, htmx):
    h = hall
    prepared_round(app, h)
    page = text(clients(h.assoc).get(paths.round(1)))
    assert "以业委会的名义发表" in page and 'name="statement-body" value="association"' in page
    resp = clients(h.assoc).post(paths.round(1, "/statements"), headers=HX if htmx else {},
                                 data={"statement-body": "association",
                                       "statement-text": "业委会同意使用维修资金。"})
    assert resp.status_code == (204 if htmx else 303)
    where = resp.headers["HX-Location" if htmx else "Location"]
    assert where.endswith("#statements")
    public = main(text(clients().get(paths.round(1))))
    section = public.split('id="statements"')[1].split("</section>")[0]
    assert '<span class="staff-tag">业委会</span>' in section
    assert "业委会同意使用维修资金。" in section and "<form" not in section
    # the form offers the current statement for editing
    assert "业委会同意使用维修资金。</textarea>" in text(clients(h.assoc).get(paths.round(1)))


def test_statement_form_errors_and_refusals(app, hall, clients, paths, make):
    h = hall
    both = make.staff(h.community, "association", user=h.prop)
    r = prepared_round(app, h)
    page = text(clients(both).get(paths.round(1)))
    assert '<select id="statement-body" name="statement-body">' in page     # two bodies
    resp = clients(h.prop).post(paths.round(1, "/statements"),
                                data={"statement-body": "property", "statement-text": ""})
    assert resp.status_code == 400 and 'id="statement-text-err"' in text(resp)
    resp = clients(h.prop).post(paths.round(1, "/statements"),
                                data={"statement-body": "committee", "statement-text": "冒名"})
    assert resp.status_code == 403
    for person in (h.rep, h.outsider):
        assert "statement-text" not in text(clients(person).get(paths.round(1)))
        resp = clients(person).post(paths.round(1, "/statements"),
                                    data={"statement-body": "committee",
                                          "statement-text": "居民冒名"})
        assert resp.status_code == 403
    open_now(app, h, r)
    close_now(app, h, r)
    assert "statement-text" not in text(clients(h.prop).get(paths.round(1)))
    resp = clients(h.prop).post(paths.round(1, "/statements"),
                                data={"statement-body": "property", "statement-text": "补充"})
    assert resp.status_code == 303
    assert "这一轮已经结束，立场陈述不能再修改。" in text(clients(h.prop).get(resp.headers["Location"]))
    assert count(app, Statement) == 0


# --- residents' opinions: the operations -----------------------------------------------

def test_residents_give_opinions_while_noticed_or_open(app, hall):
    h = hall
    r = prepared_round(app, h)
    assert read(app, lambda: ops.can_comment(U(h.outsider), _round(r)))
    assert not read(app, lambda: ops.can_comment(U(h.prop), _round(r)))
    in_post(app, lambda: ops.add_round_comment(U(h.outsider), _round(r), "建议先疏通排水沟",
                                               idempotency_key="k1"))
    again = in_post(app, lambda: ops.add_round_comment(U(h.outsider), _round(r), "建议先疏通排水沟",
                                                       idempotency_key="k1").id)
    assert count(app, RoundComment) == 1
    open_now(app, h, r)
    in_post(app, lambda: ops.add_round_comment(U(h.rep), _round(r), "同意方案"))
    comments = read(app, lambda: ops.comments_of(_round(r)))
    assert [c.text for c in comments] == ["建议先疏通排水沟", "同意方案"]
    assert comments[0].id == again
    assert len(events(app, "round.comment")) == 2
    close_now(app, h, r)
    assert not read(app, lambda: ops.can_comment(U(h.outsider), _round(r)))
    with app.test_request_context("/", method="POST"):
        with pytest.raises(DomainError, match="意见征集已截止"):
            ops.add_round_comment(U(h.outsider), _round(r), "太晚了")
        db.session.rollback()
    assert count(app, RoundComment) == 2


@pytest.mark.parametrize("who, text_, error", [
    ("prop", "物业的意见", NotAllowed), ("assoc", "业委会的意见", NotAllowed),
    ("outsider", "  ", Invalid), ("outsider", "长" * 2001, Invalid),
])
def test_opinion_refusals(app, hall, who, text_, error):
    h = hall
    r = prepared_round(app, h)
    with app.test_request_context("/", method="POST"):
        with pytest.raises(error):
            ops.add_round_comment(U(getattr(h, who)), _round(r), text_)
        db.session.rollback()
    assert count(app, RoundComment) == 0


# --- residents' opinions: the page -----------------------------------------------------

@MODES
def test_a_resident_gives_an_opinion_on_the_round_page(app, hall, clients, paths, htmx):
    h = hall
    prepared_round(app, h)
    page = text(clients(h.outsider).get(paths.round(1)))
    key = re.search(r'name="opinion-idempotency_key" type="hidden" value="([0-9a-f]{32})"',
                    page).group(1)
    data = {"opinion-text": "建议先疏通<排水沟>", "opinion-idempotency_key": key}
    for _ in range(2):                                   # a double submit
        resp = clients(h.outsider).post(paths.round(1, "/comments"), data=data,
                                        headers=HX if htmx else {})
        if htmx:
            assert resp.status_code == 200
            fragment = text(resp)
            assert fragment.lstrip().startswith('<section class="card" id="opinions"')
            assert "建议先疏通&lt;排水沟&gt;" in fragment and "意见征集（1）" in fragment
            assert key not in fragment                   # a fresh key for the next opinion
        else:
            assert resp.status_code == 303 and resp.headers["Location"].endswith("#opinions")
    assert count(app, RoundComment) == 1
    public = text(clients().get(paths.round(1)))
    assert "建议先疏通&lt;排水沟&gt;" in public and "号楼居民" in public
    assert h.outsider.phone not in public


@MODES
def test_opinion_form_errors_and_refusals(app, hall, clients, paths, htmx):
    h = hall
    r = prepared_round(app, h)
    hdr = HX if htmx else {}
    resp = clients(h.outsider).post(paths.round(1, "/comments"), headers=hdr,
                                    data={"opinion-text": ""})
    assert resp.status_code == (200 if htmx else 400)
    assert "请写下你的意见。" in text(resp) and 'id="opinion-text-err"' in text(resp)
    page = text(clients(h.prop).get(paths.round(1)))
    assert "opinion-text" not in page and "认证房号后才能发表意见" in page
    assert clients(h.prop).post(paths.round(1, "/comments"), headers=hdr,
                                data={"opinion-text": "物业的意见"}).status_code == 403
    assert "登录后发表意见" in text(clients().get(paths.round(1)))
    open_now(app, h, r)
    close_now(app, h, r)
    assert "本轮已结束，意见征集已截止" in text(clients(h.outsider).get(paths.round(1)))
    resp = clients(h.outsider).post(paths.round(1, "/comments"), headers=hdr,
                                    data={"opinion-text": "太晚了"})
    assert resp.status_code == (204 if htmx else 303)
    assert count(app, RoundComment) == 0


def test_a_double_submitted_opinion_is_kept_once(app, hall, paths):
    """The same form sent several times at once (one idempotency key) makes one opinion."""
    import threading

    from tests.conftest import PASSWORD
    h = hall
    prepared_round(app, h)
    barrier = threading.Barrier(8)
    codes, errors = [], []

    def submit():
        try:
            client = app.test_client()
            client.post("/login", data={"phone": h.outsider.phone, "password": PASSWORD})
            barrier.wait()
            codes.append(client.post(paths.round(1, "/comments"), data={
                "opinion-text": "建议先疏通排水沟", "opinion-idempotency_key": "k" * 32}
            ).status_code)
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(repr(e))

    threads = [threading.Thread(target=submit) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == [] and codes == [303] * 8
    assert count(app, RoundComment) == 1
    assert len(events(app, "round.comment")) == 1
