"""Engine set-up: SQLite pragmas and write locking, PostgreSQL fault handling."""
from __future__ import annotations

from collections.abc import Callable
from functools import cache

from flask import Flask, has_request_context, request
from sqlalchemy import event
from sqlalchemy.sql import Executable

from civic.extensions import db

_READ_ONLY_METHODS = {"GET", "HEAD", "OPTIONS"}


def _sqlite_connect(dbapi_connection, _record):
    # Driver-level autocommit: we issue BEGIN ourselves (see _sqlite_begin).
    dbapi_connection.isolation_level = None
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def _sqlite_begin(conn):
    """Writes take the database lock at BEGIN, so read-modify-write cannot interleave.

    Read-only requests begin deferred so they never queue behind writers (WAL lets them
    read while a write is under way).
    """
    if has_request_context() and request.method in _READ_ONLY_METHODS:
        conn.exec_driver_sql("BEGIN")
    else:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def configure(app: Flask) -> None:
    """Engine options; before db.init_app() creates the engine."""
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        opts = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
        opts["connect_args"] = {**opts.get("connect_args", {}), "timeout": 30,
                                "check_same_thread": False}
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = opts


def init_app(app: Flask) -> None:
    """Engine events; after db.init_app()."""
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        with app.app_context():
            engine = db.engine
            event.listen(engine, "connect", _sqlite_connect)
            event.listen(engine, "begin", _sqlite_begin)


def is_postgres() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def built_once(build: Callable[[str], Executable]) -> Callable[[], Executable]:
    """A statement for the hottest paths (every request, every co-sign), built once per
    database dialect rather than on each call: `build(dialect_name)` returns it, with bound
    parameters (`bindparam`) for the values of a call. SQLAlchemy already caches what it
    compiles; this saves constructing the statement object itself."""
    built = cache(build)

    def statement() -> Executable:
        return built(db.session.get_bind().dialect.name)
    statement.__doc__ = build.__doc__
    return statement


def insert_ignoring_duplicates(model, unique_columns: list[str], dialect: str | None = None):
    """INSERT … ON CONFLICT (unique_columns) DO NOTHING, on PostgreSQL and SQLite alike: a
    row that would break that unique constraint is not inserted, and RETURNING returns
    nothing for it. `model`: a mapped class or a table."""
    if (dialect or db.session.get_bind().dialect.name) == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(model).on_conflict_do_nothing(index_elements=unique_columns)


def for_update(stmt, dialect: str | None = None, of=None):
    """Lock the selected rows (of the table or entity `of`, if given) until the transaction
    ends.

    PostgreSQL: SELECT … FOR UPDATE. SQLite: a no-op, because every write transaction
    already holds the database's write lock from BEGIN IMMEDIATE (see _sqlite_begin).
    The rows are re-read even if already in the session (populate_existing).
    """
    stmt = stmt.execution_options(populate_existing=True)
    if (dialect or db.session.get_bind().dialect.name) == "postgresql":
        stmt = stmt.with_for_update(of=of)
    return stmt


def commit_keeping_loaded() -> None:
    """Commit without expiring what the session has loaded, for a view that renders a small
    answer from objects it has just written and refreshed (the co-sign panel): it saves
    reloading the user, their memberships and the community after the commit. Anything
    another transaction may have changed must still be refreshed explicitly."""
    session = db.session()
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = True


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """For autogenerate and the drift test: the schema objects the models describe. The
    trigram search indexes exist on PostgreSQL only and are left out (migration 0013)."""
    return not (type_ == "index" and reflected and compare_to is None
                and (name or "").endswith("_trgm"))
