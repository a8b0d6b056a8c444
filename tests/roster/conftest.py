"""Roster fixtures: a community with a logged-in moderator, and sheet builders."""
from __future__ import annotations

import csv
import io

import openpyxl
import pytest

HEADER = ["楼栋", "房号", "面积", "业主姓名"]


def csv_bytes(rows: list[list], header: list | None = HEADER, encoding: str = "utf-8") -> bytes:
    """A CSV sheet as Excel would save it (CRLF; `utf-8-sig` for a BOM, or `gb18030`)."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    if header is not None:
        w.writerow(header)
    w.writerows(rows)
    return out.getvalue().encode(encoding)


def xlsx_bytes(rows: list[list], header: list | None = HEADER) -> bytes:
    """An XLSX workbook whose first sheet holds the header and rows (cells keep their types)."""
    wb = openpyxl.Workbook()
    ws = wb.active
    if header is not None:
        ws.append(header)
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


@pytest.fixture
def community(make):
    return make.community(slug="huayuan")


@pytest.fixture
def moderator(make, community):
    return make.staff(community, "moderator")


@pytest.fixture
def mod_client(client_for, moderator):
    """A client logged in as the community's moderator."""
    return client_for(moderator)


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
def query(app):
    """Run `fn()` in a short app context of its own and return its result, detached."""
    from civic.extensions import db

    def _query(fn):
        with app.app_context():
            result = fn()
            db.session.expunge_all()
        return result
    return _query
