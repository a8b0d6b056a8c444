"""Migrations: from empty to head, down to nothing and up again, on the database kind the
suite runs on (a throw-away database of its own); and the latest migration upgrades a
database in use, not only an empty one: the demo, loaded at head, is copied into a
database at the previous revision, which is then upgraded.

On SQLite a migration that rebuilds a table other rows refer to (Alembic's batch mode)
fails on such a database while passing on an empty one. The test uses SQLite files of its
own, so it runs (and means the same) whichever database the rest of the suite uses."""
from __future__ import annotations

import sqlite3

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from civic import create_app
from civic.database import include_object
from civic.extensions import db
from tests.conftest import _config, throwaway_database

PREVIOUS = "0013"


def _app(path, tmp_path):
    return create_app(_config(f"sqlite:///{path}", tmp_path))


def test_empty_to_head_to_nothing_and_back(tmp_path):
    """Every downgrade runs, leaves no table behind, and the schema built again matches the
    models (no drift)."""
    with throwaway_database(tmp_path, "civic_mig") as url:
        app = create_app(_config(url, tmp_path))
        with app.app_context():
            upgrade(revision="heads")
            head = db.session.scalar(text("SELECT version_num FROM alembic_version"))
            db.session.remove()
            downgrade(revision="base")
            left = set(inspect(db.engine).get_table_names()) - {"alembic_version"}
            upgrade(revision="heads")
            again = db.session.scalar(text("SELECT version_num FROM alembic_version"))
            db.session.remove()   # SQLite: let go of the lock before the next connection
            with db.engine.connect() as conn:
                diff = compare_metadata(MigrationContext.configure(
                    conn, opts={"compare_type": True, "include_object": include_object}),
                    db.metadata)
            db.engine.dispose()
    assert left == set() and again == head and diff == []


def _copy_rows(source, target) -> dict[str, int]:
    """Every row of every table `target` has, in the columns both have; foreign keys off
    while copying. Returns the row counts copied."""
    con = sqlite3.connect(target, isolation_level=None)
    con.execute("PRAGMA foreign_keys=OFF")
    con.execute("ATTACH DATABASE ? AS src", (str(source),))
    counts = {}
    tables = [r[0] for r in con.execute(
        "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' "
        "AND name <> 'alembic_version'")]
    con.execute("BEGIN")
    for t in tables:
        mine = [r[1] for r in con.execute(f'PRAGMA main.table_info("{t}")')]
        theirs = {r[1] for r in con.execute(f'PRAGMA src.table_info("{t}")')}
        cols = ", ".join(f'"{c}"' for c in mine if c in theirs)
        con.execute(f'INSERT INTO main."{t}" ({cols}) SELECT {cols} FROM src."{t}"')
        counts[t] = con.execute(f'SELECT count(*) FROM main."{t}"').fetchone()[0]
    con.execute("COMMIT")
    con.execute("DETACH DATABASE src")
    con.close()
    return counts


def test_the_latest_migration_upgrades_a_database_full_of_data(tmp_path):
    head, previous = tmp_path / "head.db", tmp_path / "previous.db"
    app = _app(head, tmp_path)
    with app.app_context():
        upgrade(revision="heads")
        db.engine.dispose()
    assert app.test_cli_runner().invoke(args=["demo", "load"]).exit_code == 0
    with app.app_context():
        db.engine.dispose()

    old = _app(previous, tmp_path)
    with old.app_context():
        upgrade(revision=PREVIOUS)
        db.engine.dispose()
    copied = _copy_rows(head, previous)
    assert copied["decision"] >= 3 and copied["expense"] >= 2 and copied["ballot"] >= 1

    with old.app_context():
        upgrade(revision="heads")   # with foreign keys on, as the app always has them
        version = db.session.scalar(text("SELECT version_num FROM alembic_version"))
        after = {t: db.session.scalar(text(f'SELECT count(*) FROM "{t}"')) for t in copied}
        problems = db.session.execute(text("PRAGMA foreign_key_check")).all()
        db.session.remove()
        db.engine.dispose()
    with app.app_context():
        assert version == db.session.scalar(text("SELECT version_num FROM alembic_version"))
        db.session.remove()
        db.engine.dispose()
    assert after == copied and problems == []


def test_search_has_trigram_indexes_on_postgresql_and_finds_the_same_rows(tmp_path):
    """Migration 0013: on PostgreSQL the issue search's LIKE is answered from pg_trgm
    indexes (the plan says so, with sequential scans off as on a large table); the rows are
    those a plain scan finds, for long and short Chinese terms."""
    from tests.conftest import PG_SERVER
    with throwaway_database(tmp_path, "civic_trgm") as url:
        app = create_app(_config(url, tmp_path))
        with app.app_context():
            upgrade(revision="heads")
            indexes = {i["name"] for i in inspect(db.engine).get_indexes("issue")}
            if not PG_SERVER:
                assert not {"ix_issue_title_trgm", "ix_issue_body_trgm"} & indexes
                db.engine.dispose()
                return
            assert {"ix_issue_title_trgm", "ix_issue_body_trgm"} <= indexes
            db.engine.dispose()
        from civic.issues.queries import IssueFilters, list_query
        with app.test_request_context():
            from civic.issues.models import Issue, IssueState
            titles = ["电梯维修漏水", "小区电梯太旧", "绿化带改建", "楼道灯坏了"]
            from tests.conftest import Builders
            c = Builders(app).community()
            author = Builders(app).resident(c)
            for n, t in enumerate(titles, 1):
                db.session.add(Issue(community_id=c.id, number=n, title=t, body="",
                                     body_html="", category="设施维修", author_id=author.id,
                                     state=IssueState.COLLECTING))
            db.session.commit()
            for term, expect in (("电梯维修", {"电梯维修漏水"}),
                                 ("电梯", {"电梯维修漏水", "小区电梯太旧"}),
                                 ("改建", {"绿化带改建"}), ("无此词", set())):
                q = list_query(c.id, IssueFilters(q=term), None, None)
                for seq in ("on", "off"):
                    db.session.execute(text(f"SET enable_seqscan = {seq}"))
                    found = {i.title for i in db.session.scalars(q)}
                    assert found == expect, (term, seq)
                if len(term) >= 3:   # the search's own predicate, from the index
                    plan = "\n".join(r[0] for r in db.session.execute(text(
                        "EXPLAIN SELECT id FROM issue WHERE title LIKE :p OR body LIKE :p"),
                        {"p": f"%{term}%"}))
                    assert "ix_issue_title_trgm" in plan and "ix_issue_body_trgm" in plan, plan
                db.session.rollback()
        with app.app_context():
            db.engine.dispose()
