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
from civic.extensions import db
from tests.conftest import _config, throwaway_database

PREVIOUS = "0011"


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
                    conn, opts={"compare_type": True}), db.metadata)
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
