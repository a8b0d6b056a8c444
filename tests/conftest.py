"""Fixtures: a fresh database per test (SQLite by default, PostgreSQL when
CIVIC_TEST_DATABASE_URL names a server), app/client/runner/auth, and builders."""
from __future__ import annotations

import io
import os
import shutil
import uuid
from contextlib import contextmanager
from decimal import Decimal
from itertools import count
from pathlib import Path

import pytest
from flask import has_app_context
from PIL import Image
from sqlalchemy import create_engine, event, text
from werkzeug.security import generate_password_hash

from civic import clock, create_app
from civic.extensions import db, limiter
from civic.roster.parse import natural_key

PG_SERVER = os.environ.get("CIVIC_TEST_DATABASE_URL")  # e.g. postgresql://postgres@127.0.0.1:5432/postgres
PASSWORD = "Lantern-Bridge-42"

# The deployment smoke test starts gunicorn and nginx against PostgreSQL, whatever database
# the suite is on, and takes about a minute: it belongs to the PostgreSQL half of the suite.
collect_ignore = [] if PG_SERVER else ["test_deployment.py"]


def _pg_url(dbname: str) -> str:
    base = PG_SERVER.replace("postgresql://", "postgresql+psycopg://", 1)
    return base.rsplit("/", 1)[0] + "/" + dbname


def _admin_engine():
    return create_engine(_pg_url(PG_SERVER.rsplit("/", 1)[1] or "postgres"),
                         isolation_level="AUTOCOMMIT")


def _config(db_url: str, instance: Path) -> dict:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": db_url,
        "WTF_CSRF_ENABLED": False,
        "UPLOAD_FOLDER": str(instance / "uploads"),
        "RATELIMIT_STORAGE_URI": "memory://",
        "SERVER_NAME": None,
        # factories write rows without audit events, which version the cache: tests that
        # are about the cache turn it on (tests/test_caching.py)
        "PAGE_CACHE": False,
    }


@contextmanager
def throwaway_database(tmp_path: Path, prefix: str):
    """The URL of a new, empty database of the kind the suite runs on (PostgreSQL when
    CIVIC_TEST_DATABASE_URL is set, else a SQLite file), dropped afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    if not PG_SERVER:
        yield f"sqlite:///{tmp_path / name}.db"
        return
    admin = _admin_engine()
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield _pg_url(name)
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _upgrade(db_url: str, instance: Path) -> None:
    from flask_migrate import upgrade
    app = create_app(_config(db_url, instance))
    with app.app_context():
        upgrade(revision="heads")
        db.engine.dispose()


@pytest.fixture(scope="session")
def database(tmp_path_factory):
    """Where the migrated schema lives for this run: ('sqlite', template) or ('pg', url)."""
    instance = tmp_path_factory.mktemp("schema")
    if PG_SERVER:
        name = f"civic_test_{uuid.uuid4().hex[:10]}"
        admin = _admin_engine()
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}"'))
        url = _pg_url(name)
        _upgrade(url, instance)
        yield ("pg", url)
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    else:
        template = instance / "template.db"
        _upgrade(f"sqlite:///{template}", instance)
        yield ("sqlite", template)


@pytest.fixture
def db_url(database, tmp_path):
    kind, where = database
    if kind == "sqlite":
        path = tmp_path / "civic.db"
        shutil.copyfile(where, path)
        yield f"sqlite:///{path}"
    else:
        yield where
        truncate_all(where)


def truncate_all(url: str) -> None:
    """Empty every table of a migrated PostgreSQL database (the schema stays)."""
    engine = create_engine(url)
    with engine.begin() as c:
        tables = [r[0] for r in c.execute(text(
            "SELECT tablename FROM pg_tables WHERE schemaname='public' "
            "AND tablename <> 'alembic_version'"))]
        c.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables)
                       + " RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture
def app(db_url, tmp_path):
    os.environ["CIVIC_INSTANCE"] = str(tmp_path / "instance")
    app = create_app(_config(db_url, tmp_path))
    with app.app_context():
        # The limiter is a process-wide singleton: forget any outage an earlier test
        # simulated, and every hit counted so far.
        limiter._storage_dead = False
        limiter.reset()
    yield app
    clock.freeze(None)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def ctx(app):
    """A (GET) request context for tests that call operations and builders directly.

    GET, so that on SQLite the test's own reads begin deferred and never hold the write
    lock that the app's requests need."""
    with app.test_request_context("/"):
        yield


# --- builders ------------------------------------------------------------------------

_PASSWORD_HASH = generate_password_hash(PASSWORD, method="scrypt")
_seq = count(1)


def _phone() -> str:
    return f"139{next(_seq) % 10**8:08d}"


class Builders:
    """make.user(), make.community(), make.unit(), make.resident(), make.staff() …

    Each builder adds, commits and returns the object. Inside `ctx` it uses that
    context's session; otherwise it opens a short app context of its own and returns the
    object detached with its columns loaded — so no context stays pushed while the test
    client runs requests (a pushed app context would be shared by every request)."""

    def __init__(self, app):
        self.app = app

    def _save(self, obj):
        if has_app_context():
            db.session.add(obj)
            db.session.commit()
            return obj
        with self.app.app_context():
            db.session.add(obj)
            db.session.commit()
            db.session.refresh(obj)
            db.session.expunge(obj)
        return obj

    def user(self, phone: str | None = None, display_name: str = "", **kw):
        from civic.accounts.models import User
        return self._save(User(phone=phone or _phone(), password_hash=_PASSWORD_HASH,
                               display_name=display_name, **kw))

    def admin(self, **kw):
        return self.user(is_admin=True, display_name=kw.pop("display_name", "管理员"), **kw)

    def community(self, slug: str | None = None, name: str = "花园小区", district: str = "花木街道"):
        from civic.communities.models import Community
        return self._save(Community(slug=slug or f"c{next(_seq)}", name=name, district=district))

    def building(self, community, name: str | None = None):
        from civic.communities.models import Building
        name = name or f"{next(_seq)}号楼"
        return self._save(Building(community_id=community.id, name=name, sort_key=natural_key(name)))

    def owner(self, community, name: str = "张三", ref: str | None = None, is_developer=False):
        from civic.communities.models import Owner
        return self._save(Owner(community_id=community.id, name=name, ref=ref or f"{name}-{next(_seq)}",
                                is_developer=is_developer))

    def unit(self, community, building=None, number: str | None = None, area="89.50",
             owner=None):
        from civic.communities.models import Unit
        building = building or self.building(community)
        number = number or str(100 + next(_seq))
        return self._save(Unit(community_id=community.id, building_id=building.id,
                               number=number, sort_key=natural_key(number),
                               area=Decimal(str(area)), owner_id=owner.id if owner else None))

    def resident(self, community, unit=None, tenure: str = "owner", user=None, status="active"):
        from civic.communities.models import Membership, Role, Tenure
        unit = unit or self.unit(community)
        user = user or self.user()
        self._save(Membership(user_id=user.id, community_id=community.id, role=Role.RESIDENT,
                              unit_id=unit.id, tenure=Tenure(tenure), status=status))
        return self._reload(user)

    def staff(self, community, role: str, user=None, title: str = ""):
        from civic.communities.models import Membership, Role
        user = user or self.user(display_name=f"{role}工作人员")
        self._save(Membership(user_id=user.id, community_id=community.id, role=Role(role),
                              title=title))
        return self._reload(user)

    def _reload(self, obj):
        if has_app_context():
            db.session.refresh(obj)
            return obj
        with self.app.app_context():
            obj = db.session.merge(obj, load=True)
            db.session.refresh(obj)
            db.session.expunge(obj)
        return obj


@pytest.fixture
def make(app):
    return Builders(app)


class Auth:
    def __init__(self, client):
        self.client = client

    def login(self, user_or_phone, password: str = PASSWORD, follow: bool = False):
        phone = getattr(user_or_phone, "phone", user_or_phone)
        return self.client.post("/login", data={"phone": phone, "password": password},
                                follow_redirects=follow)

    def logout(self):
        return self.client.post("/logout")


@pytest.fixture
def auth(client):
    return Auth(client)


@pytest.fixture
def is_postgres(database):
    return database[0] == "pg"


# --- issues ---------------------------------------------------------------------------


@pytest.fixture
def make_issue(app, make):
    """make_issue(community, author=None, state="collecting", need=3, kind="households")
    → (issue id, number). Goes through the real operations."""
    def build(community, author=None, state="collecting", need=3, kind="households",
              title="楼道灯坏了", body="", category="设施维修"):
        from civic.communities.models import Community
        from civic.issues import operations as ops
        author = author or make.resident(community)
        with app.test_request_context("/", method="POST"):
            c = db.session.get(Community, community.id)
            c.threshold_kind, c.threshold_households = kind, need
            from civic.accounts.models import User
            u = db.session.get(User, author.id)
            issue = ops.create_issue(u, c, title=title, body=body, category=category,
                                     building_id=None, place_text="", photos=[])
            if state != "draft":
                ops.submit(u, issue)
            db.session.commit()
            return issue.id, issue.number
    return build


class QueryCounter:
    def __init__(self):
        self.statements: list[str] = []

    def __call__(self, conn, cursor, statement, parameters, context, executemany):
        if not statement.lstrip().upper().startswith(("BEGIN", "SAVEPOINT", "RELEASE", "PRAGMA")):
            self.statements.append(statement)

    @property
    def count(self) -> int:
        return len(self.statements)


@pytest.fixture
def count_queries(app):
    """with count_queries() as q: ...; q.count — statements sent by the app."""
    from contextlib import contextmanager

    @contextmanager
    def counting():
        counter = QueryCounter()
        with app.app_context():
            engine = db.engine
        event.listen(engine, "before_cursor_execute", counter)
        try:
            yield counter
        finally:
            event.remove(engine, "before_cursor_execute", counter)
    return counting


def jpeg_bytes(size=(800, 600), exif=None, fmt="JPEG") -> bytes:
    img = Image.new("RGB", size, (90, 140, 200))
    out = io.BytesIO()
    kwargs = {"exif": exif} if exif is not None else {}
    img.save(out, fmt, **kwargs)
    return out.getvalue()
