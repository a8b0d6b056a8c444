"""The app with parts of its co-sign taken out: a diagnosis, never a deployment.

`bench/load.py --ablate PARTS` serves this beside the app and the bare endpoint and
co-signs on it in the same run, to measure how near the bare endpoint the co-sign could
come if those parts cost nothing — an upper bound on what making them cheaper can win.
The parts (comma-separated in CIVIC_BENCH_ABLATE):

- `audit`: no audit event is appended (the chain's lock, its last link and the insert);
- `limit`: no rate limit is counted (RATELIMIT_ENABLED off);
- `answer`: the co-sign's answer is the bare count instead of the rendered panel;
- `user`: the signed-in user and their memberships are read with one Core query into
  plain objects instead of ORM instances (what the co-sign reads of them, no more).

Everything else is the app's own code: its session, CSRF check, locks, rules, counters,
notifications and commit.

    CIVIC_BENCH_ABLATE=audit,limit DATABASE_URL=postgresql://… gunicorn bench.ablated:app
"""
from __future__ import annotations

import os
from types import SimpleNamespace

from flask import make_response
from sqlalchemy import text

from civic import create_app
from civic.audit import operations as audit
from civic.communities.models import MembershipStatus, Role, Tenure
from civic.extensions import db, login_manager
from civic.issues import views

PARTS = {"audit", "limit", "answer", "user"}
parts = set(filter(None, os.environ.get("CIVIC_BENCH_ABLATE", "").split(",")))
if parts - PARTS:
    raise SystemExit(f"unknown parts {sorted(parts - PARTS)}; known: {sorted(PARTS)}")

app = create_app({"RATELIMIT_ENABLED": "limit" not in parts})

if "audit" in parts:
    audit.record = lambda *args, **kwargs: None

if "answer" in parts:
    _render = views.render

    def render(template: str, **context):
        if template == "issues/_cosign_response.html":
            return make_response(str(context["issue"].cosign_count))
        return _render(template, **context)

    views.render = render

_USER = text(
    "SELECT u.id, u.pseudonym, u.is_admin, u.locale, m.community_id, m.role, m.unit_id,"
    " m.tenure, m.status FROM user_account u LEFT JOIN membership m ON m.user_id = u.id"
    " WHERE u.session_token = :token AND u.deleted_at IS NULL")

if "user" in parts:
    @login_manager.user_loader
    def load_user(token: str):
        rows = db.session.connection().execute(_USER, {"token": token}).all()
        if not rows:
            return None
        memberships = [SimpleNamespace(
            community_id=r.community_id, role=Role(r.role), unit_id=r.unit_id,
            tenure=Tenure(r.tenure) if r.tenure else None, status=MembershipStatus(r.status),
            is_active=r.status == MembershipStatus.ACTIVE.value)
            for r in rows if r.community_id is not None]
        first = rows[0]
        return SimpleNamespace(id=first.id, pseudonym=first.pseudonym, is_admin=first.is_admin,
                               locale=first.locale, memberships=memberships, is_active=True,
                               is_authenticated=True, is_anonymous=False,
                               get_id=lambda: token)
