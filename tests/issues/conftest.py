"""Issue builders and a SQL statement counter."""
from __future__ import annotations

import io

import pytest
from PIL import Image
from sqlalchemy import event

from civic.extensions import db


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
