"""The public verification page: the head hash, the chain recomputed, and whether a hash
kept earlier is still in the chain."""
from __future__ import annotations

from sqlalchemy import text

from civic.audit import operations as audit
from civic.extensions import db


def _events(app, n):
    with app.test_request_context("/", method="POST"):
        hashes = [audit.record("test.event", actor="system", object_type="t", object_id=i,
                               n=i).hash for i in range(n)]
        db.session.commit()
        return hashes


def test_anyone_sees_the_head_and_that_the_chain_recomputes(app, client):
    hashes = _events(app, 3)
    page = client.get("/audit/").get_data(as_text=True)
    assert hashes[-1] in page and "全链重新计算一致" in page and "共 3 条记录" in page


def test_an_earlier_head_is_found_in_the_chain(app, client):
    early = _events(app, 2)[-1]
    _events(app, 2)
    page = client.get(f"/audit/?hash={early}").get_data(as_text=True)
    assert "在链中" in page and "第 2 条记录" in page


def test_an_unknown_hash_is_reported_as_not_in_the_chain(app, client):
    _events(app, 1)
    page = client.get("/audit/?hash=" + "ab" * 32).get_data(as_text=True)
    assert "不在链中" in page


def test_a_malformed_hash_gets_a_clear_message(app, client):
    resp = client.get("/audit/?hash=<script>alert(1)</script>")
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "64 位十六进制" in page and "<script>alert" not in page


def test_a_rewritten_chain_is_reported(app, client, is_postgres):
    """Bypassing the append-only trigger (as someone with database access could) shows."""
    _events(app, 3)
    with app.app_context():
        if is_postgres:
            db.session.execute(text("ALTER TABLE audit_event DISABLE TRIGGER USER"))
            db.session.execute(text("UPDATE audit_event SET payload = :p WHERE seq = 2"),
                               {"p": '{"n":9}'})
            db.session.execute(text("ALTER TABLE audit_event ENABLE TRIGGER USER"))
        else:
            names = [r[0] for r in db.session.execute(text(
                "SELECT name FROM sqlite_master WHERE type='trigger' AND tbl_name='audit_event'"))]
            sql = [r[0] for r in db.session.execute(text(
                "SELECT sql FROM sqlite_master WHERE type='trigger' AND tbl_name='audit_event'"))]
            for name in names:
                db.session.execute(text(f"DROP TRIGGER {name}"))
            db.session.execute(text("UPDATE audit_event SET payload = :p WHERE seq = 2"),
                               {"p": '{"n":9}'})
            for stmt in sql:
                db.session.execute(text(stmt))
        db.session.commit()
    page = client.get("/audit/").get_data(as_text=True)
    assert "第 2 条记录核验失败" in page

