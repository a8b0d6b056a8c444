"""Operations without tests elsewhere: correcting the notice, the Art. 278 mark on an
option, and the once-only reminder that voting closes within 24 hours."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from civic import clock
from civic.consultation import operations as ops
from civic.consultation.models import Option, Round
from civic.consultation.rules import Body
from civic.domain import DomainError, Invalid, NotAllowed
from civic.extensions import db
from civic.notifications.models import Notification
from tests.consultation.helpers import (THREE, U, close_now, events, get_round, in_post,
                                        open_now, prepared_round, read)


def _round(r) -> Round:
    return db.session.get(Round, r["id"])


def _refused(app, error, fn, field=None):
    with app.test_request_context("/", method="POST"):
        with pytest.raises(error) as e:
            fn()
        db.session.rollback()
    if field is not None:
        assert e.value.field == field


# --- update_notice -----------------------------------------------------------------------

def test_update_notice_corrects_agenda_place_and_guests(app, hall):
    h = hall
    r = prepared_round(app, h)
    in_post(app, lambda: ops.update_notice(U(h.mod), _round(r), "  新议程  ", "", True,
                                           " 街道城管中队 \n\n 区排水公司 "))
    rnd = get_round(app, r["id"])
    assert (rnd.agenda, rnd.place, rnd.online, rnd.guests) == (
        "新议程", "", True, "街道城管中队\n区排水公司")
    assert rnd.starts_at == r["starts_at"] and rnd.closes_at == r["closes_at"]
    assert read(app, lambda: ops.frozen_payload(_round(r))["guests"]) == ["街道城管中队",
                                                                        "区排水公司"]
    [e] = events(app, "round.notice")
    assert '"online":true' in e.payload
    in_post(app, lambda: ops.update_notice(U(h.mod), _round(r), "议程", "会议室" * 30, False))
    assert len(get_round(app, r["id"]).place) == 80


@pytest.mark.parametrize("args, error, field", [
    (("  ", "会议室", False, ""), Invalid, "agenda"),
    (("长" * 5001, "会议室", False, ""), Invalid, "agenda"),
    (("议程", "  ", False, ""), Invalid, "place"),
    (("议程", "会议室", False, "\n".join(f"单位{i}" for i in range(11))), Invalid, "guests"),
    (("议程", "会议室", False, "长" * 61), Invalid, "guests"),
])
def test_update_notice_refusals(app, hall, args, error, field):
    h = hall
    r = prepared_round(app, h)
    _refused(app, error, lambda: ops.update_notice(U(h.mod), _round(r), *args), field)
    assert get_round(app, r["id"]).agenda == "地下车库积水如何处理"
    assert events(app, "round.notice") == []


def test_update_notice_needs_a_moderator_and_a_round_not_yet_open(app, hall):
    h = hall
    r = prepared_round(app, h)
    _refused(app, NotAllowed, lambda: ops.update_notice(U(h.assoc), _round(r), "议程", "",
                                                        True))
    open_now(app, h, r)
    _refused(app, DomainError, lambda: ops.update_notice(U(h.mod), _round(r), "议程", "",
                                                         True))
    rnd = get_round(app, r["id"])
    assert rnd.agenda == "地下车库积水如何处理" and not rnd.online
    assert read(app, lambda: ops.compute_frozen_hash(_round(r))) == rnd.frozen_hash


# --- the Art. 278 mark -------------------------------------------------------------------

@pytest.mark.parametrize("item", [0, 10, -1, True, False, "5", 5.0, 2**40])
def test_owners_item_must_be_one_to_nine(app, hall, item):
    h = hall
    r = prepared_round(app, h, options=())
    _refused(app, Invalid, lambda: ops.add_option(U(h.mod), _round(r), "改变共有部分用途", "",
                                                  0, "public_income", "association",
                                                  owners_item=item), "owners_item")
    assert len(read(app, lambda: ops.options_of(r["id"]))) == 1


@pytest.mark.parametrize("item, stored", [(1, 1), (8, 8), (9, 9), (None, None), ("", None)])
def test_owners_item_accepted(app, hall, item, stored):
    h = hall
    r = prepared_round(app, h, options=())
    oid = in_post(app, lambda: ops.add_option(U(h.mod), _round(r), "方案", "", 0, "other",
                                              "committee", owners_item=item).id)
    assert read(app, lambda: db.session.get(Option, oid).owners_item) == stored
    assert f'"owners_item":{"null" if stored is None else stored}' in \
        events(app, "round.option_add")[-1].payload


def test_owners_item_is_part_of_the_frozen_hash(app, hall):
    h = hall
    r = prepared_round(app, h)
    plain = read(app, lambda: ops.compute_frozen_hash(_round(r)))
    in_post(app, lambda: db.session.get(Option, r["options"][0]).__setattr__("owners_item", 5))
    assert read(app, lambda: ops.frozen_payload(_round(r))["options"][1]["owners_item"]) == 5
    assert read(app, lambda: ops.compute_frozen_hash(_round(r))) != plain


# --- the reminder ------------------------------------------------------------------------

def _reminded(app) -> list[int]:
    return read(app, lambda: sorted(n.user_id for n in db.session.query(Notification)
                                    .filter_by(kind="round.closing")))


def test_the_closing_reminder_goes_out_once(app, hall):
    h = hall
    r = prepared_round(app, h, seats=THREE + (("rep", Body.RESIDENT),))
    r["closes_at"] = r["starts_at"] + timedelta(days=2)
    in_post(app, lambda: ops.set_deadline(U(h.mod), _round(r), r["closes_at"]))
    assert in_post(app, ops.remind_closing_rounds) == 0          # not open yet
    open_now(app, h, r)
    assert in_post(app, ops.remind_closing_rounds) == 0          # 48 hours left
    clock.freeze(r["closes_at"] - timedelta(hours=24, seconds=1))
    assert in_post(app, ops.remind_closing_rounds) == 0
    clock.freeze(r["closes_at"] - timedelta(hours=24))
    assert in_post(app, ops.remind_closing_rounds) == 1
    assert _reminded(app) == sorted([h.mod.id, h.assoc.id, h.prop.id, h.rep.id])
    assert get_round(app, r["id"]).reminded_at == clock.now()
    link = read(app, lambda: db.session.query(Notification).filter_by(
        kind="round.closing").first().link)
    assert link.endswith(f"/issues/{h.number}/rounds/1")
    clock.freeze(r["closes_at"] - timedelta(hours=1))
    assert in_post(app, ops.remind_closing_rounds) == 0          # once
    assert len(_reminded(app)) == 4


def test_no_reminder_for_a_closed_or_past_round(app, hall):
    h = hall
    r = prepared_round(app, h)
    open_now(app, h, r)
    close_now(app, h, r)
    assert in_post(app, ops.remind_closing_rounds) == 0
    r2 = prepared_round(app, h)
    open_now(app, h, r2)
    clock.freeze(r2["closes_at"])                               # deadline reached
    assert in_post(app, ops.remind_closing_rounds) == 0
    assert _reminded(app) == []


def test_concurrent_reminder_jobs_remind_once(app, hall):
    h = hall
    r = prepared_round(app, h)
    open_now(app, h, r)                                         # 2 hours before closing
    barrier = threading.Barrier(6)
    sent, errors = [], []

    def job():
        try:
            with app.test_request_context("/", method="POST"):
                barrier.wait()
                sent.append(ops.remind_closing_rounds())
                db.session.commit()
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(repr(e))

    threads = [threading.Thread(target=job) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == [] and sorted(sent) == [0, 0, 0, 0, 0, 1]
    assert _reminded(app) == sorted([h.mod.id, h.assoc.id, h.prop.id])
