"""The audit chain: appends link by hash, verification finds any rewrite, the table
refuses UPDATE and DELETE at the database level."""
import hashlib
import threading
from datetime import datetime, timezone

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from civic.audit import operations as audit
from civic.audit.chain import (GENESIS, canonical_json, link_hash, record_body,
                               record_body_before_seq)
from civic.audit.models import AuditEvent
from civic.extensions import db


def test_canonical_json_is_sorted_compact_utf8():
    assert canonical_json({"b": 1, "a": "楼"}) == '{"a":"楼","b":1}'


def test_link_hash_is_sha256_of_prev_and_body():
    body = '{"x":1}'
    assert link_hash(GENESIS, body) == hashlib.sha256((GENESIS + body).encode()).hexdigest()


@pytest.mark.parametrize("seq", [1, 9, 10, 123_456_789])
def test_a_records_text_ends_with_its_number(seq):
    """The database finishes the text it hashes (on PostgreSQL): what comes before the
    number, then the number and the closing brace. That must be record_body exactly."""
    at = datetime(2026, 11, 23, 8, 0, 1, 5, tzinfo=timezone.utc)
    fields = (at, "u-1a2b", "issue.cosign", "issue", "42", 7, canonical_json({"n": "楼"}))
    assert record_body(seq, *fields) == record_body_before_seq(*fields) + f"{seq}}}"


def test_events_chain_and_verify(ctx):
    a = audit.record("test.one", object_type="thing", object_id=1, community_id=None, n=1)
    b = audit.record("test.two", object_type="thing", object_id=2, community_id=7, n="二")
    db.session.commit()
    assert (a.seq, b.seq) == (1, 2)
    assert a.prev_hash == GENESIS and b.prev_hash == a.hash
    assert b.hash == link_hash(a.hash, record_body(2, b.at, b.actor, b.action, "thing", "2", 7,
                                                   b.payload))
    report = audit.verify_chain()
    assert report.ok and report.count == 2 and report.head == b.hash == audit.head_hash()
    stored = db.session.get(AuditEvent, 2)
    assert (stored.seq, stored.prev_hash, stored.hash) == (b.seq, b.prev_hash, b.hash)


def test_a_link_is_hashed_alike_whatever_its_text_holds(ctx):
    """Chinese, quotes, backslashes, characters outside the BMP and control characters in
    the payload: the link the database hashed on PostgreSQL is the one Python computes
    (and verifies) from the stored record, byte for byte."""
    tricky = '楼道"灯"\\坏了 🏠\n\t\u2028 é'
    events = [audit.record("test.tricky", object_type="issue", object_id=f"#{n}",
                           community_id=n, note=tricky[:n * 3], n=n) for n in range(1, 6)]
    db.session.commit()
    prev = GENESIS
    for e in events:
        stored = db.session.get(AuditEvent, e.seq)
        assert (stored.prev_hash, stored.hash) == (prev, e.hash)
        assert e.hash == link_hash(prev, record_body(
            stored.seq, stored.at, stored.actor, stored.action, stored.object_type,
            stored.object_id, stored.community_id, stored.payload))
        prev = e.hash
    assert audit.verify_chain().ok


def test_an_objects_record_hash_is_its_first_event_found_by_index(ctx):
    """record_hashes: each object's first event, read from the index by object — the chain
    grows with every change, and the decision and spending pages ask on every view."""
    first = audit.record("test.made", object_type="decision", object_id=7)
    audit.record("test.changed", object_type="decision", object_id=7)
    audit.record("test.made", object_type="expense", object_id=7)
    other = audit.record("test.made", object_type="decision", object_id=8)
    db.session.commit()
    assert audit.record_hashes("decision", [7, 8, 9]) == {"7": first.hash, "8": other.hash}
    stmt = audit.first_events("decision", ["7", "8"])
    sql = str(stmt.compile(db.engine, compile_kwargs={"literal_binds": True}))
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("SET LOCAL enable_seqscan = off"))   # as on a large chain
        plan = "\n".join(r[0] for r in db.session.execute(text("EXPLAIN " + sql)))
    else:
        plan = "\n".join(str(r) for r in db.session.execute(text("EXPLAIN QUERY PLAN " + sql)))
    db.session.rollback()
    assert "ix_audit_event_object" in plan, plan


def test_empty_chain_verifies(ctx):
    report = audit.verify_chain()
    assert report.ok and report.count == 0 and report.head == GENESIS


@pytest.mark.parametrize("stmt", [
    "UPDATE audit_event SET action = 'x' WHERE seq = 1",
    "DELETE FROM audit_event WHERE seq = 1",
])
def test_table_refuses_update_and_delete(ctx, stmt):
    audit.record("test.one", object_type="thing", object_id=1)
    db.session.commit()
    with pytest.raises(DatabaseError, match="append-only"):
        db.session.execute(text(stmt))
        db.session.flush()
    db.session.rollback()
    assert db.session.query(AuditEvent).count() == 1


def _rewrite(sql: str, params: dict) -> None:
    """Tamper with history the way an attacker with database access would (triggers off)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("ALTER TABLE audit_event DISABLE TRIGGER audit_event_no_change"))
        db.session.execute(text(sql), params)
        db.session.execute(text("ALTER TABLE audit_event ENABLE TRIGGER audit_event_no_change"))
    else:
        db.session.execute(text("DROP TRIGGER audit_event_no_update"))
        db.session.execute(text(sql), params)
    db.session.commit()


def test_verification_detects_rewritten_payload(ctx):
    for i in range(3):
        audit.record("test.n", object_type="thing", object_id=i, n=i)
    db.session.commit()
    _rewrite("UPDATE audit_event SET payload = :p WHERE seq = 2", {"p": '{"n":99}'})
    report = audit.verify_chain()
    assert not report.ok and report.broken_at == 2 and report.count == 1


def test_verification_detects_recomputed_link(ctx):
    """Rewriting one event and recomputing its hash still breaks the next link."""
    for i in range(3):
        audit.record("test.n", object_type="thing", object_id=i, n=i)
    db.session.commit()
    ev = db.session.get(AuditEvent, 2)
    forged = link_hash(ev.prev_hash, record_body(2, ev.at, ev.actor, ev.action, ev.object_type,
                                                 ev.object_id, ev.community_id, '{"n":99}'))
    db.session.expunge_all()
    _rewrite("UPDATE audit_event SET payload = :p, hash = :h WHERE seq = 2",
             {"p": '{"n":99}', "h": forged})
    report = audit.verify_chain()
    assert not report.ok and report.broken_at == 3


def test_cli_verify_and_head(runner, app):
    with app.app_context():
        audit.record("test.one", object_type="thing", object_id=1)
        db.session.commit()
        head = audit.head_hash()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0 and "OK 1 events" in result.output
    assert runner.invoke(args=["audit", "head"]).output.strip() == head


def test_cli_verify_fails_on_tampering(runner, app):
    with app.app_context():
        audit.record("test.one", object_type="thing", object_id=1)
        audit.record("test.two", object_type="thing", object_id=2)
        db.session.commit()
        _rewrite("UPDATE audit_event SET actor = 'u-forged' WHERE seq = 1", {})
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and "BROKEN at seq 1" in result.output


def test_concurrent_appends_keep_one_unbroken_chain(app):
    """20 threads appending at once: no duplicate seq, no fork, chain verifies."""
    errors = []
    barrier = threading.Barrier(20)

    def worker(i):
        try:
            with app.app_context():
                barrier.wait()
                audit.record("test.race", object_type="thing", object_id=i)
                db.session.commit()
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with app.app_context():
        report = audit.verify_chain()
        assert report.ok and report.count == 20
