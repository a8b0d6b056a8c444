"""Helpers for the consultation page tests: logged-in clients, paths, form values in local
time, and set-up through the real operations in short POST request contexts."""
from __future__ import annotations

import re
from datetime import datetime, timedelta
from fractions import Fraction

from sqlalchemy import func, select

from civic import clock
from civic.accounts.models import User
from civic.audit.models import AuditEvent
from civic.consultation import operations as ops
from civic.consultation.models import Consultation, FundingSource, Round, Seat, SeatVote
from civic.consultation.rules import Body, Rule
from civic.extensions import db
from civic.issues.models import Issue
from tests.conftest import PASSWORD

HX = {"HX-Request": "true"}
THREE = (("mod", Body.COMMITTEE), ("assoc", Body.ASSOCIATION), ("prop", Body.PROPERTY))


def text(resp) -> str:
    return resp.get_data(as_text=True)


def main(html: str) -> str:
    """The page's own content, without the site header and footer (which hold forms)."""
    return html.split('<main id="main"', 1)[1].split("</main>", 1)[0]


def local(dt: datetime) -> str:
    """What a browser in Shanghai sends from <input type="datetime-local">."""
    return clock.local(dt).strftime("%Y-%m-%dT%H:%M")


class Clients:
    """One logged-in test client per person, made on first use."""

    def __init__(self, app):
        self.app = app
        self._clients: dict[int | None, object] = {}

    def __call__(self, user=None):
        key = getattr(user, "id", None)
        if key not in self._clients:
            client = self.app.test_client()
            if user is not None:
                resp = client.post("/login", data={"phone": user.phone, "password": PASSWORD})
                assert resp.status_code == 303, text(resp)
            self._clients[key] = client
        return self._clients[key]


class Paths:
    def __init__(self, h):
        self.slug = h.community.slug
        self.issue = f"/c/{h.community.slug}/issues/{h.number}/"
        self.base = f"/c/{h.community.slug}/issues/{h.number}"
        self.consultation = f"{self.base}/consultation"
        self.open = f"{self.base}/consultation/open"
        self.schedule = f"{self.base}/consultation/rounds"
        self.escalate = f"{self.base}/consultation/escalate"

    def round(self, k: int = 1, tail: str = "") -> str:
        return f"{self.base}/rounds/{k}{tail}"


# --- set-up through the operations ---------------------------------------------------

def in_post(app, fn):
    """Run fn() in a POST request context (a write transaction), commit, return its
    result (ids and plain values: ORM objects are detached afterwards)."""
    with app.test_request_context("/", method="POST"):
        result = fn()
        db.session.commit()
        return result


def read(app, fn):
    with app.app_context():
        result = fn()
        db.session.expunge_all()
        return result


def U(person) -> User:
    return db.session.get(User, person.id)


def consultation_id(app, h) -> int:
    def fn():
        issue = db.session.get(Issue, h.issue_id)
        c = ops.consultation_of(issue) or ops.open_consultation(U(h.mod), issue)
        return c.id
    return in_post(app, fn)


def prepared_round(app, h, *, seats=THREE, options=(("更换排水泵", 1_250_000),),
                   rule=Rule.CONSENSUS, quorum=Fraction(1, 2)) -> dict:
    """A noticed round starting in 3 days and 1 hour (closing 2 hours later) with seats
    and options, made through the operations. Returns ids and numbers."""
    cid = consultation_id(app, h)

    def fn():
        mod = U(h.mod)
        c = db.session.get(Consultation, cid)
        starts = clock.now() + timedelta(days=3, hours=1)
        rnd = ops.schedule_round(mod, c, agenda="地下车库积水如何处理", place="居委会二楼",
                                 online=False, starts_at=starts,
                                 closes_at=starts + timedelta(hours=2), rule=rule,
                                 quorum=quorum)
        for name, body in seats:
            ops.add_seat(mod, rnd, U(getattr(h, name)), body)
        made = [ops.add_option(mod, rnd, title, "由物业组织施工", cost,
                               FundingSource.MAINTENANCE_FUND, Body.PROPERTY).id
                for title, cost in options]
        return {"id": rnd.id, "number": rnd.number, "starts_at": rnd.starts_at,
                "closes_at": rnd.closes_at, "options": made,
                "status_quo": ops.options_of(rnd.id)[0].id}
    return in_post(app, fn)


def open_now(app, h, r: dict) -> str:
    """Move the clock to the meeting and open the round; returns its frozen hash."""
    clock.freeze(r["starts_at"])
    return in_post(app, lambda: ops.open_round(U(h.mod), db.session.get(Round, r["id"]))
                   .frozen_hash)


def close_now(app, h, r: dict) -> None:
    in_post(app, lambda: ops.close_round(U(h.mod), db.session.get(Round, r["id"])))


def get_round(app, round_id: int) -> Round:
    return read(app, lambda: db.session.get(Round, round_id))


def seat_id(app, round_id: int, person) -> int | None:
    return read(app, lambda: db.session.scalar(select(Seat.id).where(
        Seat.round_id == round_id, Seat.user_id == person.id)))


def events(app, action: str) -> list[AuditEvent]:
    return read(app, lambda: list(db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq))))


def count(app, model, **where) -> int:
    def fn():
        q = select(func.count()).select_from(model)
        for k, v in where.items():
            q = q.where(getattr(model, k) == v)
        return db.session.scalar(q)
    return read(app, fn)


def votes(app, round_id: int) -> list[SeatVote]:
    return read(app, lambda: list(db.session.scalars(
        select(SeatVote).where(SeatVote.round_id == round_id).order_by(SeatVote.id))))


def snapshot(app, round_id: int) -> tuple:
    """Everything a frozen round must keep, plus its stored and recomputed hashes."""
    def fn():
        rnd = db.session.get(Round, round_id)
        return (rnd.frozen_hash, ops.compute_frozen_hash(rnd), rnd.agenda, rnd.place,
                rnd.online, rnd.guests, rnd.rule, rnd.quorum_num, rnd.quorum_den,
                rnd.closes_at,
                [(s.id, s.user_id, s.body, s.title) for s in ops.seats_of(rnd.id)],
                [(o.id, o.title, o.cost_fen) for o in ops.options_of(rnd.id)])
    return read(app, fn)


def option_ids(app, round_id: int) -> list[int]:
    return read(app, lambda: [o.id for o in ops.options_of(round_id)])


def checked_value(html: str, name: str) -> str | None:
    """The value of the checked radio button called `name` in `html`."""
    for tag in re.findall(r"<input[^>]*>", html):
        if f'name="{name}"' in tag and "checked" in tag:
            m = re.search(r'value="([^"]*)"', tag)
            return m.group(1) if m else None
    return None


__all__ = ["HX", "THREE", "U", "Clients", "Paths", "checked_value", "close_now",
           "consultation_id", "count", "events", "get_round", "in_post", "local", "main",
           "open_now", "option_ids", "prepared_round", "read", "seat_id", "snapshot", "text",
           "votes"]
