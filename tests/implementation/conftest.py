"""An issue whose decision has taken effect: the hall of the consultation tests, a round
that adopted the plan, a published decision, its publicity period over."""
from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest

from civic import clock
from civic.accounts.models import User
from civic.decisions import operations as dops
from civic.extensions import db
from civic.issues.models import Issue
from tests.consultation.conftest import hall  # noqa: F401  (re-exported fixture)
from tests.decisions.helpers import published, run


def make_effective(app, h, *, budget: str = "18,000.00", funding: str = "maintenance_fund"):
    d = published(app, h, budget=budget, funding_source=funding)
    clock.freeze(d.publicity_ends_at + timedelta(minutes=1))
    assert run(app, dops.take_effect_due) == 1
    h.decision_id = d.id
    return h


@pytest.fixture
def effective(app, hall):  # noqa: F811
    """Budget 18,000 yuan from the maintenance fund, led by the property company."""
    return make_effective(app, hall)


@pytest.fixture
def effective_public(app, hall):  # noqa: F811
    """The same plan paid from public income (公共收益): no owners' committee approval."""
    return make_effective(app, hall, funding="public_income")


def U(person) -> User:
    return db.session.get(User, person.id)


def the_issue(h) -> Issue:
    return db.session.get(Issue, h.issue_id)


def today():
    return clock.local(clock.now()).date()


__all__ = ["SimpleNamespace", "U", "the_issue", "today", "make_effective"]
