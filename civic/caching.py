"""Caching: conditional GET for HTML pages, and what is computed once per change of the data.

**HTTP.** A page for an anonymous visitor that carries no session state (no CSRF token, no
flashed message) is the same for everyone, so shared caches may keep it briefly and serve it
stale while they revalidate. Anything personal is private to the browser and revalidated on
each use. Views that set their own Cache-Control keep it. Every HTML page gets an ETag from
its body and answers a matching If-None-Match with 304.

**Per change.** Every change of the records writes an event to the audit chain
(civic.audit), so the chain's last sequence number is a version of the whole data: one
primary-key lookup per request. Keyed by it, and kept at most 30 seconds by the app's clock
(the pages' own freshness, a bound for what changes with the clock alone, like a deadline
passing; measured on the app's clock, so it holds where the clock jumps, as in the
time-based jobs and the tests):

- an anonymous, session-free page is stored the first time it is rendered and then served
  as stored until the next change (`page_cache`); it is stored only if it was public,
  i.e. the same for every anonymous visitor in that language;
- expensive figures shown to signed-in users too, such as the statistics report, are kept
  with `per_change`.

Each entry's 30 seconds run from when it was stored, so entries lapse one by one, never all
at the same moment (which would have every page rendered again at once).

The store is Flask-Caching's: in each process by default, in Redis (shared by every process
and node) with CACHE_REDIS_URL. If the store fails, the page is rendered as if nothing were
stored. PAGE_CACHE = False (CIVIC_PAGE_CACHE=0; the test suite's default) turns both off.
"""
from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from typing import TypeVar

from flask import Flask, Response, current_app, g, request, session
from flask_babel import get_locale
from flask_login import current_user
from sqlalchemy import func, select

from civic import clock
from civic.extensions import cache, db

#: anonymous, session-free pages: fresh for 30 s, then served stale for up to 5 minutes while
#: the cache revalidates (a conditional request, usually answered 304)
PUBLIC = "public, max-age=30, stale-while-revalidate=300"
PRIVATE = "private, no-cache"
#: how long something computed once per change is kept at most: the pages' own freshness
TTL = 30
#: the response headers kept with a stored page; the others are added again per request
_STORED_HEADERS = ("Content-Type", "Cache-Control", "Content-Language")

log = logging.getLogger(__name__)
T = TypeVar("T")


def data_version() -> int:
    """The audit chain's last sequence number: it moves with every change of the records."""
    if "data_version" not in g:
        from civic.audit.models import AuditEvent
        g.data_version = db.session.scalar(select(func.max(AuditEvent.seq))) or 0
    return g.data_version


def _stored_now() -> float:
    return clock.now().timestamp()


def _still_fresh(stored_at: float) -> bool:
    """Stored less than TTL seconds ago by the app's clock (a clock set back: not fresh)."""
    return 0 <= _stored_now() - stored_at < TTL


def _enabled() -> bool:
    return bool(current_app.config.get("PAGE_CACHE"))


def _get(key: str):
    try:
        return cache.get(key)
    except Exception:   # the store is down: compute as if nothing were stored
        log.warning("cache get failed", exc_info=True)
        return None


def _set(key: str, value, timeout: int = TTL) -> None:
    try:
        cache.set(key, value, timeout=timeout)
    except Exception:
        log.warning("cache set failed", exc_info=True)


def per_change(name: str, compute: Callable[[], T], *parts) -> T:
    """`compute()`, once per change of the data (and at most TTL seconds old), for the same
    name and parts; the language is part of the key, for values holding translated text."""
    if not _enabled():
        return compute()
    raw = repr((name, str(get_locale()), data_version(), parts))
    key = "v:" + hashlib.sha256(raw.encode()).hexdigest()
    stored = _get(key)
    if stored is not None and _still_fresh(stored[0]):
        return stored[1]
    value = compute()
    _set(key, (_stored_now(), value))
    return value


def _page_key() -> str | None:
    """Where this request's page is stored, if it may come from the store at all: an
    anonymous GET, not htmx, with nothing in its session but a language."""
    if (request.method not in ("GET", "HEAD") or request.headers.get("HX-Request")
            or not _enabled() or set(session.keys()) - {"lang"}
            or current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token") in request.cookies
            or current_user.is_authenticated):
        return None
    raw = f"{get_locale()}\n{data_version()}\n{request.full_path}"
    return "p:" + hashlib.sha256(raw.encode()).hexdigest()


def init_app(app: Flask) -> None:
    cache.init_app(app)

    @app.before_request
    def stored_page():
        key = _page_key()
        if key is None:
            return None
        stored = _get(key)
        if stored is None or not _still_fresh(stored[0]):
            g.page_key = key
            return None
        _at, body, headers = stored
        g.page_from_store = True
        return Response(body, 200, headers)

    @app.after_request
    def conditional(resp):
        if (request.method not in ("GET", "HEAD") or resp.status_code != 200
                or resp.mimetype != "text/html" or resp.is_streamed):
            return resp
        if "Cache-Control" not in resp.headers:
            personal = (current_user.is_authenticated or "csrf_token" in g
                        or session.modified or request.headers.get("HX-Request"))
            resp.headers["Cache-Control"] = PRIVATE if personal else PUBLIC
        key = g.pop("page_key", None)
        if (key and resp.headers["Cache-Control"] == PUBLIC and not session.modified
                and "csrf_token" not in g):
            _set(key, (_stored_now(), resp.get_data(),
                       [(k, v) for k, v in resp.headers.items() if k in _STORED_HEADERS]))
        resp.add_etag()
        return resp.make_conditional(request)
