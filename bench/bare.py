"""The bare endpoints the load benchmark compares the app against (QUALITY.md §5).

Each does the same database work as one of the app's requests and nothing else: no
sessions, no login, no permissions, no audit chain, no translations, no layout. One
co-sign is the same insert under the same lock (the issue row, `SELECT … FOR UPDATE`) with
the same counter update; one page is one query returning the rows the app's page shows,
rendered by a Jinja template with a loop. The app's own numbers are then reported as a
ratio of these, measured in the same run on the same machine.

    DATABASE_URL=postgresql://… gunicorn -w 4 bench.bare:app
"""
from __future__ import annotations

import os
from datetime import datetime, timezone

from flask import Flask, render_template_string
from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError

url = os.environ["DATABASE_URL"]
if url.startswith("postgresql://"):
    url = "postgresql+psycopg://" + url[len("postgresql://"):]
engine = create_engine(url, pool_pre_ping=True)
app = Flask(__name__)

ROWS = """<!doctype html><html lang="zh-CN"><meta charset="utf-8"><title>{{ title }}</title>
<h1>{{ title }}</h1><ul>{% for r in rows %}<li>{% for v in r %}<span>{{ v }}</span>
{% endfor %}</li>{% endfor %}</ul></html>"""


def _page(title: str, sql: str, **params):
    with engine.connect() as conn:
        rows = conn.execute(text(sql), params).all()
    return render_template_string(ROWS, title=title, rows=rows)


#: the advisory lock that serialises the app's audit chain (civic/audit/operations.py)
AUDIT_CHAIN_LOCK = 727_800_278


def _cosign(issue_id: int, unit_id: int, user_id: int, chain_lock: bool):
    try:
        with engine.begin() as conn:
            conn.execute(text("SELECT id FROM issue WHERE id = :i FOR UPDATE"), {"i": issue_id})
            conn.execute(text(
                "INSERT INTO cosign (issue_id, unit_id, user_id, by_owner, comment, created_at)"
                " VALUES (:i, :u, :a, false, '', :t)"),
                {"i": issue_id, "u": unit_id, "a": user_id, "t": datetime.now(timezone.utc)})
            count = conn.execute(text(
                "UPDATE issue SET cosign_count = cosign_count + 1 WHERE id = :i"
                " RETURNING cosign_count"), {"i": issue_id}).scalar_one()
            if chain_lock:
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": AUDIT_CHAIN_LOCK})
    except IntegrityError:
        return "already signed", 200
    return f"<span>{count}</span>"


@app.post("/cosign/<int:issue_id>/<int:unit_id>/<int:user_id>")
def cosign(issue_id: int, unit_id: int, user_id: int):
    """One household's co-sign with the app's locks: the issue's row, then (where the app
    writes its audit event) the audit chain's advisory lock, both held to the commit; the
    row inserted and counted. No audit event is written: that is the app's own work."""
    return _cosign(issue_id, unit_id, user_id, chain_lock=True)


@app.post("/cosign-row-lock/<int:issue_id>/<int:unit_id>/<int:user_id>")
def cosign_row_lock(issue_id: int, unit_id: int, user_id: int):
    """The same without the audit chain's lock: the issue's row lock only."""
    return _cosign(issue_id, unit_id, user_id, chain_lock=False)


@app.get("/issues/<int:community_id>")
def issues(community_id: int):
    """The issue list's 20 rows."""
    return _page("议题", "SELECT number, title, state, category, cosign_count, created_at"
                 " FROM issue WHERE community_id = :c AND state <> 'draft'"
                 " ORDER BY created_at DESC, id DESC LIMIT 20", c=community_id)


@app.get("/issue/<int:issue_id>")
def issue(issue_id: int):
    """An issue page's rows: the issue and its latest co-signs with a few words."""
    return _page("议题", "SELECT i.number, i.title, i.body, i.state, i.cosign_count,"
                 " c.comment, c.created_at FROM issue i LEFT JOIN LATERAL (SELECT comment,"
                 " created_at FROM cosign WHERE issue_id = i.id AND comment <> ''"
                 " ORDER BY id DESC LIMIT 10) c ON true WHERE i.id = :i", i=issue_id)


@app.get("/decisions/<int:community_id>")
def decisions(community_id: int):
    """The archive list's 20 rows."""
    return _page("决议", "SELECT d.title, d.state, d.outcome, d.budget_fen, d.published_at,"
                 " i.number FROM decision d JOIN issue i ON i.id = d.issue_id"
                 " WHERE d.community_id = :c ORDER BY d.id DESC LIMIT 20", c=community_id)


@app.get("/decision/<int:decision_id>")
def decision(decision_id: int):
    """A decision page's row."""
    return _page("决议", "SELECT d.title, d.summary, d.tally, d.state, d.budget_fen,"
                 " d.content_hash, d.published_at, i.number, i.title FROM decision d"
                 " JOIN issue i ON i.id = d.issue_id WHERE d.id = :d", d=decision_id)


@app.get("/stats/<int:community_id>")
def stats(community_id: int):
    """The statistics page's figures, from one aggregate query over the issues."""
    return _page("统计", "SELECT state, count(*), sum(cosign_count) FROM issue"
                 " WHERE community_id = :c GROUP BY state ORDER BY state", c=community_id)


@app.get("/ping")
def ping():
    return "ok"
