"""Every ledger entry and decision shows the hash of its own record in the audit chain,
linked to the verification page, which finds it."""
from __future__ import annotations

import re

from sqlalchemy import select

from civic.audit.models import AuditEvent
from civic.extensions import db
from civic.implementation import operations as work
from tests.conftest import jpeg_bytes
from tests.decisions.helpers import run
from tests.implementation.conftest import U, make_effective, the_issue, today


def test_archive_records_show_their_hash_and_it_is_in_the_chain(app, client, hall):
    """A ledger entry and a decision show the hash of their own record in the chain, and
    the verification page finds it."""
    h = make_effective(app, hall, funding="public_income")
    eid = run(app, lambda: work.add_expense(U(h.prop), the_issue(h), spent_on=today(),
                                            amount_fen=100_00, payee="五金店", purpose="螺丝",
                                            receipts=[jpeg_bytes()]).id)
    with app.app_context():
        expected = db.session.scalar(select(AuditEvent.hash).where(
            AuditEvent.action == "expense.add", AuditEvent.object_id == str(eid)))
        published = db.session.scalar(select(AuditEvent.hash).where(
            AuditEvent.action == "decision.publish"))
    base = f"/c/{h.community.slug}/issues/{h.number}"
    page = client.get(f"{base}/implementation").get_data(as_text=True)
    assert f"/audit/?hash={expected}" in page
    decision = client.get(f"{base}/decisions/1").get_data(as_text=True)
    assert f"/audit/?hash={published}" in decision
    found = client.get(f"/audit/?hash={expected}").get_data(as_text=True)
    assert "在链中" in found and re.search(r"expense\.add", found)
