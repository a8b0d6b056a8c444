"""Short links for printed QR codes: /s/<kind><id>, by database primary key, so a poster
on the notice board keeps working when a title, a number scheme or a slug wording changes.

A short link resolves only to what the public may see: a draft or hidden issue, a round
whose notice is not out, or an unknown id is simply not found — never a hint of a draft."""
from __future__ import annotations

import re

from flask import current_app, url_for

from civic.ballots.models import Ballot
from civic.communities.models import Community
from civic.consultation.models import Round
from civic.decisions.models import Decision
from civic.extensions import db
from civic.issues.models import Issue
from civic.notices import rules

ISSUE, DECISION, BALLOT, ROUND = "i", "d", "b", "r"
_CODE = re.compile(r"([idbr])([1-9][0-9]{0,17})")


def short_path(kind: str, obj_id: int) -> str:
    return url_for("notices.short", code=f"{kind}{obj_id}")


def short_url(kind: str, obj_id: int) -> str:
    """The absolute short link, from PUBLIC_BASE_URL, so a phone anywhere can open it."""
    return absolute(short_path(kind, obj_id))


def absolute(path: str) -> str:
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + path


def _public_issue(issue_id: int) -> Issue | None:
    issue = db.session.get(Issue, issue_id)
    return issue if issue is not None and rules.public(issue) else None


def _slug(community_id: int) -> str:
    return db.session.get(Community, community_id).slug


def target(code: str) -> str | None:
    """The page a short code names, or None when there is none the public may see."""
    m = _CODE.fullmatch(code or "")
    if m is None:
        return None
    kind, obj_id = m.group(1), int(m.group(2))
    if obj_id > 2**63 - 1:
        return None
    if kind == ISSUE:
        issue = _public_issue(obj_id)
        return issue and url_for("issues.show", slug=_slug(issue.community_id),
                                 number=issue.number)
    if kind == DECISION:
        d = db.session.get(Decision, obj_id)
        issue = d and _public_issue(d.issue_id)
        return issue and url_for("decisions.show", slug=_slug(d.community_id),
                                 number=issue.number, version=d.version)
    if kind == BALLOT:
        b = db.session.get(Ballot, obj_id)
        return b and url_for("ballots.show", slug=_slug(b.community_id), number=b.number)
    rnd = db.session.get(Round, obj_id)
    issue = rnd and db.session.get(Issue, rnd.consultation.issue_id)
    if issue is None or not rules.round_notice(rnd, issue):
        return None
    return url_for("consultation.round_page", slug=_slug(rnd.community_id),
                             number=issue.number, k=rnd.number)
