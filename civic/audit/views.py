"""The public page of the audit chain (记录核验): anyone can see the current head hash,
whether the whole chain recomputes, and whether a hash they kept earlier — a head hash, or
the hash shown next to a record in the archive — is still in it. The events themselves
(with their pseudonymous actors) stay with the operators' `flask audit verify`."""
from __future__ import annotations

import re
import threading
import time

from flask import request
from sqlalchemy import select

from civic.audit import bp
from civic.audit.models import AuditEvent
from civic.audit.operations import ChainReport, verify_chain
from civic.extensions import db, limiter
from civic.htmx import render

#: recomputing the chain is linear in its length: one recomputation per head, kept a while
_CACHE_SECONDS = 300
_cache: dict[str, tuple[float, ChainReport]] = {}
_lock = threading.Lock()
HASH = re.compile(r"^[0-9a-f]{64}$")


def _report(head_seq: int, head: str) -> ChainReport:
    key = f"{db.engine.url}:{head_seq}:{head}"
    now = time.monotonic()
    with _lock:
        hit = _cache.get(key)
        if hit is not None and now - hit[0] < _CACHE_SECONDS:
            return hit[1]
    report = verify_chain()
    with _lock:
        _cache.clear()
        _cache[key] = (now, report)
    return report


@bp.route("/")
@limiter.limit("60 per minute")
def index():
    last = db.session.execute(select(AuditEvent.seq, AuditEvent.hash)
                              .order_by(AuditEvent.seq.desc()).limit(1)).first()
    head_seq, head = (last.seq, last.hash) if last else (0, "")
    report = _report(head_seq, head)
    asked = (request.args.get("hash") or "").strip().lower()
    found = None
    if asked:
        if HASH.match(asked):
            found = db.session.execute(select(AuditEvent.seq, AuditEvent.at, AuditEvent.action,
                                              AuditEvent.object_type)
                                       .where(AuditEvent.hash == asked)).first()
        else:
            asked = asked[:80]
    resp = render("audit/index.html", report=report, head_seq=head_seq, asked=asked,
                  found=found, valid=bool(HASH.match(asked)) if asked else None)
    return resp
