"""Fixtures for the verification area: a small community with a rival next door."""
from __future__ import annotations

import re
import threading
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from civic.audit.models import AuditEvent
from civic.extensions import db

#: a printed code: two groups of five from the unambiguous alphabet
CODE_RE = re.compile(r"\b[2-9A-HJKMNP-Z]{5}-[2-9A-HJKMNP-Z]{5}\b")


@pytest.fixture
def world(make):
    """花园小区: 5号楼 301 (roster owner 王业主), 302, 401 (a resident lives there), 6号楼 101;
    a moderator, a resident, a newcomer; 别的小区 with its own unit and moderator."""
    c = make.community(name="花园小区")
    b5 = make.building(c, "5号楼")
    b6 = make.building(c, "6号楼")
    wang = make.owner(c, "王业主")
    u301 = make.unit(c, b5, number="301", owner=wang)
    u302 = make.unit(c, b5, number="302")
    u401 = make.unit(c, b5, number="401")
    u101 = make.unit(c, b6, number="101")
    moderator = make.staff(c, "moderator", user=make.user(display_name="居委会小李"))
    resident = make.resident(c, unit=u401, user=make.user(display_name="老住户"))
    newcomer = make.user(display_name="新住户")
    other = make.community(name="别的小区")
    ob = make.building(other, "1号楼")
    other_unit = make.unit(other, ob, number="101")
    other_moderator = make.staff(other, "moderator", user=make.user(display_name="隔壁居委会"))
    return SimpleNamespace(c=c, b5=b5, b6=b6, u301=u301, u302=u302, u401=u401, u101=u101,
                           moderator=moderator, resident=resident, newcomer=newcomer,
                           other=other, ob=ob, other_unit=other_unit,
                           other_moderator=other_moderator)


@pytest.fixture
def client_for(app, auth):
    """A fresh test client logged in as `user` (None: anonymous)."""
    def _client(user=None):
        client = app.test_client()
        if user is not None:
            resp = type(auth)(client).login(user)
            assert resp.status_code == 303, resp.get_data(as_text=True)
        return client
    return _client


@pytest.fixture
def events(app):
    """Audit events with a given action, oldest first (detached, columns loaded)."""
    def _events(action: str) -> list[AuditEvent]:
        with app.app_context():
            rows = list(db.session.execute(
                select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq)
            ).scalars())
            db.session.expunge_all()
        return rows
    return _events


@pytest.fixture
def query(app):
    """Run `fn()` in a short app context of its own and return its result, detached."""
    def _query(fn):
        with app.app_context():
            result = fn()
            db.session.expunge_all()
        return result
    return _query


def text(resp) -> str:
    return resp.get_data(as_text=True)


THREADS = 20


def race(worker, n=THREADS):
    """Run worker(i) in n threads released together; return their results in order."""
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def run(i):
        barrier.wait()
        try:
            results[i] = worker(i)
        except Exception as e:  # noqa: BLE001 — reported by the assertions
            results[i] = e

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads)
    return results
